"""Ranked full-text search over a practice's title, summary, problem and solution.

On PostgreSQL: the weighted `to_tsvector` of those four fields (title A, summary B,
problem and solution C), with English and Russian stemming, each served by its own
GIN expression index; the query's alphabet picks the configuration, so «отходов»
finds «отходы». Chinese has no word breaks for PostgreSQL to stem, so a query in
Chinese characters is a substring match. On SQLite (the embedded mode) every query is
a substring match, ranked by where it matched.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection, models
from django.db.models import Case, F, Q, Value, When

if TYPE_CHECKING:
    from practices.models import PracticeQuerySet

# The fields searched, with their weight: a title match ranks above a mention in the text.
WEIGHTS = {"title": "A", "summary": "B", "problem": "C", "solution": "C"}
CONFIGS = ("english", "russian")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def document(config: str) -> SearchVector:
    """The weighted search document; the index and the query must build the very same expression."""
    vectors = [SearchVector(field, weight=weight, config=config) for field, weight in WEIGHTS.items()]
    combined = vectors[0]
    for vector in vectors[1:]:
        combined = combined + vector  # type: ignore[assignment]
    return combined


def search_indexes() -> list[GinIndex]:
    return [GinIndex(document(config), name=f"practice_search_{config[:2]}") for config in CONFIGS]


def create_search_indexes(apps: Any, schema_editor: Any) -> None:
    """Migration step: the GIN indexes behind ranked search, on PostgreSQL only."""
    if schema_editor.connection.vendor == "postgresql":
        practice = apps.get_model("practices", "Practice")
        for index in search_indexes():
            schema_editor.add_index(practice, index)


def drop_search_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        practice = apps.get_model("practices", "Practice")
        for index in search_indexes():
            schema_editor.remove_index(practice, index)


def search_practices(queryset: PracticeQuerySet, text: str) -> PracticeQuerySet:
    """The practices matching `text`, best first (annotated `search_rank`)."""
    text = " ".join(text.split())
    if not text:
        return queryset
    if connection.vendor == "postgresql" and not HAN.search(text):
        config = "russian" if CYRILLIC.search(text) else "english"
        query = SearchQuery(text, config=config, search_type="websearch")
        return (
            queryset.annotate(search_document=document(config))
            .filter(search_document=query)
            .annotate(search_rank=SearchRank(F("search_document"), query))
            .order_by("-search_rank", "-id")
        )
    return _substring_search(queryset, text)


def _substring_search(queryset: PracticeQuerySet, text: str) -> PracticeQuerySet:
    """Every word must appear in one of the fields; a title match ranks first, then summary, then the rest."""
    words = text.split()
    matches = Q()
    for word in words:
        matches &= (
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(problem__icontains=word)
            | Q(solution__icontains=word)
        )
    rank = Case(
        When(title__icontains=words[0], then=Value(3.0)),
        When(summary__icontains=words[0], then=Value(2.0)),
        default=Value(1.0),
        output_field=models.FloatField(),
    )
    return queryset.filter(matches).annotate(search_rank=rank).order_by("-search_rank", "-id")
