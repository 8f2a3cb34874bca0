"""A block's ranked candidates with their reasons, and how they are written: one city's rows replaced in one
transaction, many rows at once through COPY on PostgreSQL, and the table locks that keep two writers apart.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import io
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import orjson
from django.db import connection

from matching import reasons, scoring
from matching.models import StagedSuggestion, Suggestion
from matching.table import CityTable

# One block's results as they travel from a block task to the chord's callback:
# (city id, [(candidate id, score, components), ...]) for each city of the block.
BlockResult = list[tuple[int, list[tuple[int, float, dict[str, Any]]]]]

# Writing more suggestions than this at once goes through COPY on PostgreSQL.
COPY_ABOVE = 1000


def rank_rows(table: CityTable, rows: np.ndarray[Any, Any], topics: Sequence[int]) -> BlockResult:
    """The ranked candidates of these table rows with their components and reasons, by city id."""
    found = scoring.rank_arrays(table, rows)
    with no_cycle_collection():
        return with_reasons(table, found, topics)


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a block's results are made: they are a few hundred thousand
    dicts, lists and floats without a cycle among them, and their allocations set off collections that
    walk every object of the process again and again (a fifth of the directory's full compute, measured).
    Freed objects are still freed at once (by reference counting); only cycles wait for the next
    collection after this block."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def with_reasons(table: CityTable, found: scoring.TopArrays, topics: Sequence[int]) -> BlockResult:
    """The ranked candidates of a block's cities as they are stored: by city id, each candidate with its score
    and components (every feature's value, and the reasons as codes with their numbers)."""
    found_reasons = reasons.codes_block(table, found, topics)
    # Ids of the block's cities and candidates only: the whole table's, made a list for each block, cost
    # seconds with 100,000 cities.
    row_ids = table.ids[found.rows].tolist()
    candidate_ids = table.ids[found.top].tolist()
    # Rounded in float64: a float32 rounded to a few places is stored as its float64 neighbour (-0.57335 as
    # -0.5733500123023987: with the features, a tenth of a suggestion's JSON). The order of the scores is kept.
    scores = np.round(found.scores.astype(np.float64), scoring.SCORE_DECIMALS).tolist()
    feature_values = {name: np.round(values.astype(np.float64), 6).tolist() for name, values in found.features.items()}
    names = list(scoring.FEATURES)
    result: BlockResult = []
    for local, row_id in enumerate(row_ids):
        ranked = []
        by_candidate = list(zip(*(feature_values[name][local] for name in names), strict=True))
        for n, candidate_id in enumerate(candidate_ids[local]):
            if scores[local][n] == float("-inf"):
                break
            components = {
                "features": dict(zip(names, by_candidate[n], strict=True)),
                "reasons": found_reasons[local][n],
            }
            ranked.append((candidate_id, scores[local][n], components))
        result.append((row_id, ranked))
    return result


def write_suggestions(results: BlockResult, *, read_at: datetime.datetime) -> int:
    """Replace the suggestions of these cities with the results, computed from inputs read at `read_at`; call
    inside a transaction. A city whose rows were computed from inputs read later keeps them: two recomputes of
    one city may overlap (a change committed while the first was reading, the sweeper's second try of a slow
    one), and the one that read first may finish last."""
    lock_suggestions()
    cities = [city for city, _ranked in results]
    newer = set(
        Suggestion.objects.filter(city_id__in=cities, computed_at__gt=read_at).values_list("city_id", flat=True)
    )
    results = [(city, ranked) for city, ranked in results if city not in newer]
    Suggestion.objects.filter(city_id__in=[city for city, _ranked in results]).delete()
    return insert_rows(Suggestion, ranked_rows(results), computed_at=read_at)


# The columns of a ranked row, in Suggestion and in StagedSuggestion alike (database columns and model attributes).
RANKED_COLUMNS = ("city_id", "candidate_id", "score", "rank", "components")
RankedRow = tuple[int, int, float, int, dict[str, Any]]


def ranked_rows(results: BlockResult) -> list[RankedRow]:
    """One row per suggestion, ranked from 1 within its city."""
    return [
        (city, candidate, score, rank, components)
        for city, ranked in results
        for rank, (candidate, score, components) in enumerate(ranked, start=1)
    ]


def insert_rows(model: type[Suggestion | StagedSuggestion], rows: list[RankedRow], **same: Any) -> int:
    """Insert the ranked rows, each with the columns in `same` too; many at once go through COPY on PostgreSQL."""
    if connection.vendor == "postgresql" and len(rows) > COPY_ABOVE:
        _copy_rows(model, rows, same)
    else:
        objects: list[Any] = [model(**dict(zip(RANKED_COLUMNS, row, strict=True)), **same) for row in rows]
        model.objects.bulk_create(objects, batch_size=2000)
    return len(rows)


def _copy_rows(model: type[Suggestion | StagedSuggestion], rows: list[RankedRow], same: dict[str, Any]) -> None:
    """Many rows at once through PostgreSQL's COPY: one statement instead of one INSERT per 2,000 rows, and no
    Python model instance per row. The caller's transaction covers it like any write.

    COPY's text format, a line per row: fields apart by tabs, a backslash doubled. orjson writes the components
    (a fifth of the standard library's time: 81,020 rows took 3 s with json.dumps): its JSON holds no raw tab or
    line break (JSON escapes them), only backslashes. repr() of a float round-trips exactly; the column is jsonb,
    so the JSON's spacing and its way of writing a number do not matter."""
    # The columns every row shares: numbers and moments, nothing COPY would read as an escape.
    fixed = "".join(
        "\t" + (value.isoformat() if isinstance(value, datetime.datetime) else str(value)) for value in same.values()
    )
    buffer = io.StringIO(
        "".join(
            f"{city}\t{candidate}\t{score!r}\t{rank}\t{_copy_json(components)}{fixed}\n"
            for city, candidate, score, rank, components in rows
        )
    )
    table = connection.ops.quote_name(model._meta.db_table)
    # The names are the columns' own (Django's default column of a field, or of a foreign key's "_id").
    columns = ", ".join(connection.ops.quote_name(name) for name in (*RANKED_COLUMNS, *same))
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def _copy_json(components: dict[str, Any]) -> str:
    """The components as JSON for COPY's text format: its backslashes doubled (NumPy's numbers taken as numbers)."""
    return orjson.dumps(components, option=orjson.OPT_SERIALIZE_NUMPY).decode().replace("\\", "\\\\")


def lock_suggestions() -> None:
    """Until the transaction ends, no other writes suggestions: a city's recompute waits for the swap, or for
    another recompute of the city, then replaces the rows they wrote. (Otherwise it could delete the city's rows
    before the other inserts its own, and fail on them at its insert.) On PostgreSQL a lock on the table that
    lets readers through, held for a few milliseconds by a city's recompute and a few seconds by the swap;
    SQLite lets one transaction write at a time anyway."""
    lock_table("matching_suggestion")


def lock_table(name: str) -> None:
    """Until the transaction ends, no other transaction writes this table or takes this lock; readers pass.
    On PostgreSQL only: SQLite lets one transaction write at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(name)} IN SHARE ROW EXCLUSIVE MODE")
