"""The directory's search keys and the indexes that keep it fast at 100,000 cities.

`search_keys` is filled from `search_names` (the same names, also without spaces and
punctuation). The trigram index exists on PostgreSQL only: SQLite, the embedded mode,
has no GIN indexes and must still migrate.
"""

import unicodedata

from django.db import migrations, models

TRIGRAM_INDEX = "city_search_keys_trigram"


def _search_key(text):
    # Frozen copy of City.search_key as of this migration.
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if unicodedata.category(char)[0] in "LMN")


def fill_search_keys(apps, schema_editor):
    City = apps.get_model("cities", "City")
    batch = []
    for city in City.objects.only("id", "search_names").iterator(chunk_size=2000):
        keys = (_search_key(name) for name in city.search_names.split("\n"))
        joined = "\n".join(dict.fromkeys(key for key in keys if key))
        city.search_keys = f"\n{joined}\n" if joined else ""
        batch.append(city)
        if len(batch) == 1000:
            City.objects.bulk_update(batch, ["search_keys"])
            batch.clear()
    City.objects.bulk_update(batch, ["search_keys"])


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f"CREATE INDEX {TRIGRAM_INDEX} ON cities_city USING gin (search_keys gin_trgm_ops)")


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("cities", "0001_countries_cities_topics"),
    ]

    operations = [
        migrations.AddField(
            model_name="city",
            name="search_keys",
            field=models.TextField(
                blank=True,
                help_text="Every known name of the city as the directory search compares it, each on a line of its own.",
                verbose_name="search keys",
            ),
        ),
        migrations.RunPython(fill_search_keys, migrations.RunPython.noop, elidable=True),
        # The directory's default order gets its own index, which also serves population filters.
        migrations.AlterField(
            model_name="city",
            name="population",
            field=models.PositiveBigIntegerField(verbose_name="population"),
        ),
        migrations.AddIndex(
            model_name="city",
            index=models.Index(fields=["-population", "id"], name="city_directory_order"),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
