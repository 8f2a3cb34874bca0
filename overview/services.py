"""What the map and the dashboards show: rows computed from cities, agreements and practices, cached where public."""

from __future__ import annotations

import datetime
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import F, Max, Q
from django.utils import timezone

from cities.models import City, Country, Topic
from partnerships.models import Agreement, AgreementQuerySet, AgreementTransition
from practices.models import Practice, PracticeQuerySet

ON_MAP = Agreement.IN_PROGRESS | {Agreement.Status.ACTIVE, Agreement.Status.SUSPENDED}
CITIES_CACHE_SECONDS = 600


def _city_rows(language: str) -> list[list[Any]]:
    """Every city of the directory as [id, name in `language`, latitude, longitude, country code], cached.

    The key changes when an import adds cities or changes the largest id, and the cache expires in ten minutes,
    which is how late a renamed city may show.
    """
    version = City.objects.aggregate(count=Max("id"))["count"] or 0
    key = f"overview:map-cities:{language}:{version}:{City.objects.count()}"
    rows = cache.get(key)
    if rows is None:
        rows = [
            [city.pk, city.display_name, round(city.latitude, 3), round(city.longitude, 3), city.country.code]
            for city in City.objects.select_related("country").only(
                "name", "name_ru", "name_zh", "latitude", "longitude", "country__code"
            )
        ]
        cache.set(key, rows, CITIES_CACHE_SECONDS)
    return rows


def map_data(*, user: Any, language: str) -> dict[str, Any]:
    """The map's data: cities, the agreements `user` may see as lines, and the names the filters offer.

    Compact on purpose (arrays, not objects): the full directory is some 8,100 cities.
    """
    agreements = (
        Agreement.objects.visible_to(user)
        .filter(status__in=ON_MAP)
        .with_health()
        .prefetch_related("topics")
        .only("id", "initiator_id", "partner_id", "status")
    )
    lines = [
        [
            agreement.pk,
            agreement.initiator_id,
            agreement.partner_id,
            agreement.line_style,
            [topic.slug for topic in agreement.topics.all()],
        ]
        for agreement in agreements
    ]
    cities = _city_rows(language)
    codes = {row[4] for row in cities}
    return {
        "cities": cities,
        "agreements": lines,
        "countries": [[country.code, country.display_name] for country in Country.objects.filter(code__in=codes)],
        "topics": [[topic.slug, topic.display_name] for topic in Topic.objects.all()],
    }


# -- dashboards ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairMatrix:
    countries: list[Country]
    counts: dict[tuple[int, int], int]  # by (country id, country id), both orders
    total: int

    def rows(self) -> list[tuple[Country, list[int]]]:
        return [(row, [self.counts.get((row.pk, column.pk), 0) for column in self.countries]) for row in self.countries]


def current_agreements(user: Any) -> AgreementQuerySet:
    """The agreements `user` may see that are in force or on their way (not finished)."""
    return Agreement.objects.visible_to(user).filter(status__in=ON_MAP)


def pairs_by_country(user: Any) -> PairMatrix:
    """How many current partnerships each pair of countries has (a city pair within one country on the diagonal)."""
    counts: Counter[tuple[int, int]] = Counter()
    rows = current_agreements(user).values_list("initiator__country_id", "partner__country_id")
    for first, second in rows:
        counts[first, second] += 1
        if first != second:
            counts[second, first] += 1
    ids = {country_id for pair in counts for country_id in pair}
    countries = sorted(Country.objects.filter(pk__in=ids), key=lambda country: country.display_name)
    return PairMatrix(countries=countries, counts=dict(counts), total=len(rows))


def agreements_by_status(user: Any) -> list[tuple[str, str, int]]:
    """(status, its label, how many) for every status, in the workflow's order."""
    counts = Counter(Agreement.objects.visible_to(user).values_list("status", flat=True))
    return [(status.value, str(status.label), counts[status.value]) for status in Agreement.Status]


def agreements_by_year(user: Any) -> list[tuple[int, int]]:
    """(year, how many agreements were signed that year), from the first year to this one, gaps as zeros."""
    signed = Agreement.objects.visible_to(user).exclude(signed_on=None).values_list("signed_on", flat=True)
    years = Counter(day.year for day in signed if day)
    if not years:
        return []
    return [(year, years[year]) for year in range(min(years), max(max(years), timezone.localdate().year) + 1)]


def dormant_agreements(user: Any) -> list[Agreement]:
    """Active partnerships with no activity logged for 12 months, the longest silent first."""
    return list(
        Agreement.objects.visible_to(user)
        .with_health()
        .filter(Q(is_dormant=True))  # Q: the annotation is not a field mypy's plugin knows
        .select_related("initiator__country", "partner__country")
        .prefetch_related("translations")
        .order_by(F("last_activity_on").asc(nulls_first=True), "id")
    )


@dataclass(frozen=True)
class ApprovalTimes:
    median_days: float | None
    count: int
    by_country: list[tuple[Country, float, int]]  # (country, median days, agreements)


def approval_times(user: Any) -> ApprovalTimes:
    """Days from an agreement's proposal to its approval by both countries: the median, overall and by country.

    An agreement counts for both its countries; one proposed twice counts from its first proposal.
    """
    proposed: dict[int, datetime.datetime] = {}
    approved: dict[int, datetime.datetime] = {}
    transitions = AgreementTransition.objects.filter(
        agreement__in=Agreement.objects.visible_to(user),
        to_status__in=[Agreement.Status.PROPOSED, Agreement.Status.APPROVED],
    ).order_by("created_at")
    for agreement_id, status, when in transitions.values_list("agreement_id", "to_status", "created_at"):
        target = proposed if status == Agreement.Status.PROPOSED else approved
        target.setdefault(agreement_id, when)
    days = {
        agreement_id: (approved[agreement_id] - when).total_seconds() / 86400
        for agreement_id, when in proposed.items()
        if agreement_id in approved and approved[agreement_id] >= when
    }
    per_country: dict[int, list[float]] = {}
    for agreement_id, first, second in Agreement.objects.filter(pk__in=days).values_list(
        "pk", "initiator__country_id", "partner__country_id"
    ):
        for country_id in {first, second}:
            per_country.setdefault(country_id, []).append(days[agreement_id])
    countries = Country.objects.in_bulk(per_country)
    by_country = sorted(
        ((countries[pk], round(statistics.median(values), 1), len(values)) for pk, values in per_country.items()),
        key=lambda row: row[0].display_name,
    )
    overall = round(statistics.median(days.values()), 1) if days else None
    return ApprovalTimes(median_days=overall, count=len(days), by_country=by_country)


def published_practices(user: Any) -> PracticeQuerySet:
    """The published practices `user` may see (published ones are public: everyone sees the same)."""
    return Practice.objects.visible_to(user).published()


def practices_by_topic(user: Any) -> list[tuple[Topic, int]]:
    """(topic, how many published practices name it) for the topics that have any, most first.

    A practice with two topics counts under both.
    """
    counts = Counter(
        Practice.topics.through.objects.filter(practice__in=published_practices(user)).values_list(
            "topic_id", flat=True
        )
    )
    topics = Topic.objects.filter(pk__in=counts)
    return sorted(((topic, counts[topic.pk]) for topic in topics), key=lambda row: (-row[1], row[0].display_name))


def practices_by_country(user: Any) -> list[tuple[Country, int]]:
    """(country, how many published practices its cities share) for the countries that have any, most first."""
    counts = Counter(published_practices(user).values_list("city__country_id", flat=True))
    countries = Country.objects.filter(pk__in=counts)
    return sorted(
        ((country, counts[country.pk]) for country in countries), key=lambda row: (-row[1], row[0].display_name)
    )
