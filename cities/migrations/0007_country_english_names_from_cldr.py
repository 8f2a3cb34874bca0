"""Countries created before English names came from CLDR: replace the English name that pycountry gave them
automatically ("Russian Federation", which read "in Russian Federation" in a partner suggestion's reasons) with
CLDR's ("Russia"), as 0004 did for Russian and Chinese. A name a coordinator changed since is left alone: only a
name equal to pycountry's is replaced, and not by a CLDR name with a parenthesis ("Myanmar (Burma)", which read
"Yangon (Myanmar (Burma))")."""

import pycountry
from babel import Locale
from django.db import migrations


def use_cldr_english_names(apps, schema_editor):  # type: ignore[no-untyped-def]
    Country = apps.get_model("cities", "Country")
    english = Locale.parse("en").territories
    for country in Country.objects.all():
        record = pycountry.countries.get(alpha_2=country.code)
        cldr = english.get(country.code, "")
        iso = (getattr(record, "common_name", None) or record.name) if record is not None else ""
        if cldr and "(" not in cldr and country.name == iso != cldr:
            country.name = cldr
            country.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [("cities", "0006_city_region_and_feature_code")]

    operations = [migrations.RunPython(use_cldr_english_names, migrations.RunPython.noop)]
