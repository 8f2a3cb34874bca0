"""What the map and the dashboards show: compact rows computed from cities and agreements, cached where public."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Max

from cities.models import City, Country, Topic
from partnerships.models import Agreement

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
