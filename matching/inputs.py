"""What the matcher reads from the other apps, turned into the arrays of matching.scoring.CityTable.

Matching reads cities, partnerships and practices; none of them imports matching.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from django.apps import apps
from django.db.models import Count

from cities.models import City, Country, Topic
from matching.models import Dismissal
from matching.scoring import CityTable
from partnerships.models import Agreement

# Partnerships that feed the graph features: signed ones, still running or ended.
GRAPH_STATUSES = tuple(Agreement.SIGNED)
# The practice library's model, looked up by name: it exists once the library is merged.
PRACTICE_MODEL = ("practices", "Practice")


def published_practice_counts() -> Iterable[tuple[int, int, int]]:
    """(city id, topic id, number of published practices) for every city and topic that has some.

    Read through the app registry, so that matching works before the practice library exists.
    """
    try:
        practice: Any = apps.get_model(*PRACTICE_MODEL)
    except LookupError:
        return []
    through = practice.topics.through
    return (
        through.objects.filter(practice__status="published")
        .values("practice__city_id", "topic_id")
        .annotate(count=Count("practice_id"))
        .values_list("practice__city_id", "topic_id", "count")
    )


def load_table() -> CityTable:
    """Every city with its profile, the partnership graph, the pairs taken and the dismissals, as arrays."""
    rows = list(
        City.objects.order_by("id").values_list(
            "id",
            "geonameid",
            "country_id",
            "population",
            "latitude",
            "longitude",
            "is_capital",
            "name",
            "name_ru",
            "name_zh",
            "region_code",
            "feature_code",
        )
    )
    data = np.array([row[:7] for row in rows], dtype=np.float64).reshape(-1, 7)
    names = [row[7:10] for row in rows]
    # A region is one country's first-level division: the same code in two countries is two regions, and a
    # city without a code is a region of its own.
    regions: dict[tuple[int, str], int] = {}
    region = np.array(
        [regions.setdefault((row[2], row[10] or f"city {row[0]}"), len(regions)) for row in rows], np.int64
    )
    ids = data[:, 0].astype(np.int64)
    position = {int(city_id): index for index, city_id in enumerate(ids)}
    countries = list(Country.objects.order_by("id").values_list("id", "code"))
    country_index = {country_id: index for index, (country_id, _code) in enumerate(countries)}
    topics = {
        topic_id: index for index, topic_id in enumerate(Topic.objects.order_by("id").values_list("id", flat=True))
    }
    size, topic_count = len(ids), max(1, len(topics))
    needs = np.zeros((size, topic_count), np.bool_)
    expertise = np.zeros((size, topic_count), np.bool_)
    practices = np.zeros((size, topic_count), np.int32)
    for array, relation in ((needs, City.needs.through), (expertise, City.expertise.through)):
        for city_id, topic_id in relation.objects.values_list("city_id", "topic_id"):
            array[position[city_id], topics[topic_id]] = True
    for city_id, topic_id, count in published_practice_counts():
        if city_id in position and topic_id in topics:
            practices[position[city_id], topics[topic_id]] = count

    def pairs(values: Iterable[tuple[int, int]]) -> npt.NDArray[np.int64]:
        found = [(position[a], position[b]) for a, b in values if a in position and b in position]
        return np.array(sorted(set(found)), np.int64).reshape(-1, 2)

    graph = Agreement.objects.filter(status__in=GRAPH_STATUSES).values_list("initiator_id", "partner_id")
    taken = Agreement.objects.unfinished().values_list("initiator_id", "partner_id")
    edges = pairs(graph)
    if len(edges):
        edges = np.unique(np.sort(edges, axis=1), axis=0)
    return CityTable(
        ids=ids,
        geonameids=data[:, 1].astype(np.int64),
        is_capital=data[:, 6] > 0,
        names=names,
        region=region,
        feature_codes=[row[11] for row in rows],
        country=np.array([country_index[int(value)] for value in data[:, 2]], np.int32),
        country_codes=[code for _id, code in countries],
        population=data[:, 3],
        latitude=data[:, 4],
        longitude=data[:, 5],
        needs=needs,
        expertise=expertise,
        practices=practices,
        edges=edges,
        blocked=pairs(taken),
        dismissed=pairs(Dismissal.objects.values_list("city_id", "candidate_id")),
    )


def topic_ids() -> list[int]:
    """Topic ids in the order of the table's topic columns."""
    return list(Topic.objects.order_by("id").values_list("id", flat=True))
