"""Countries created before CLDR names: replace the Russian and Chinese names that pycountry gave them
automatically ("Российская Федерация", "柬埔塞") with CLDR's ("Россия", "柬埔寨"). A name a coordinator
changed since is left alone: only a name equal to pycountry's is replaced."""

import gettext

import pycountry
from babel import Locale
from django.db import migrations

LANGUAGES = {"name_ru": ("ru", "ru"), "name_zh": ("zh_CN", "zh_Hans")}  # field: (pycountry locale, CLDR locale)


def pycountry_name(code: str, locale: str) -> str:
    """What load_reference_data wrote before: the common name's translation, else the official name's."""
    record = pycountry.countries.get(alpha_2=code)
    if record is None:
        return ""
    english = getattr(record, "common_name", None) or record.name
    catalog = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
    common = catalog.gettext(english)
    return common if common != english else catalog.gettext(record.name)


def use_cldr_names(apps, schema_editor):  # type: ignore[no-untyped-def]
    Country = apps.get_model("cities", "Country")
    for country in Country.objects.all():
        changed = []
        for field, (old_locale, cldr_locale) in LANGUAGES.items():
            cldr = Locale.parse(cldr_locale).territories.get(country.code, "")
            if cldr and getattr(country, field) == pycountry_name(country.code, old_locale) != cldr:
                setattr(country, field, cldr)
                changed.append(field)
        if changed:
            country.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("cities", "0003_city_name_sources")]

    operations = [migrations.RunPython(use_cldr_names, migrations.RunPython.noop)]
