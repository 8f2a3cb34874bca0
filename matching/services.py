"""Computing, storing, dismissing and mailing partner suggestions.

The rules: a city's suggestions are replaced all together in one transaction, and
the same inputs give the same rows; a change to a city's profile, agreements or
practices recomputes that city after the commit, once for a burst of changes; a
full recompute is a chord of block tasks whose callback swaps every result in at once,
but for the cities recomputed on their own after their block read the inputs.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import functools
import gc
import io
import json
import logging
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import numpy as np
from celery.exceptions import BackendError
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from accounts.models import User
from cities import events as city_events
from cities.models import City
from matching import reasons, scoring
from matching.inputs import load_table, load_table_unless_unchanged, topic_ids
from matching.models import (
    Dismissal,
    PendingRecompute,
    RecomputeBlock,
    RecomputeRun,
    StagedSuggestion,
    Suggestion,
    WeeklyDigest,
)
from matching.table import CityTable
from notifications.services import notify
from sco_portal.celery import PUBLISH_RETRY_POLICY
from sco_portal.celery import app as celery_app
from sco_portal.errors import DomainError

logger = logging.getLogger(__name__)

# One block's results as they travel from a block task to the chord's callback:
# (city id, [(candidate id, score, components), ...]) for each city of the block.
BlockResult = list[tuple[int, list[tuple[int, float, dict[str, Any]]]]]

# Writing more suggestions than this at once goes through COPY on PostgreSQL.
COPY_ABOVE = 1000
# More changed cities than this at once (an import) start a full recompute instead of one task per city.
FULL_RECOMPUTE_ABOVE = 50


def matching_queue() -> dict[str, str]:
    """The queue option of matching's tasks, when one is configured (MATCHING_QUEUE)."""
    queue = getattr(settings, "MATCHING_QUEUE", "")
    return {"queue": queue} if queue else {}


def rank_rows(table: CityTable, rows: np.ndarray[Any, Any], topics: Sequence[int]) -> BlockResult:
    """The ranked candidates of these table rows with their components and reasons, by city id."""
    found = scoring.rank_arrays(table, rows)
    with _no_cycle_collection():
        return _with_reasons(table, found, topics)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
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


def _with_reasons(table: CityTable, found: scoring.TopArrays, topics: Sequence[int]) -> BlockResult:
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
    return _insert(Suggestion, _ranked_rows(results), computed_at=read_at)


# The columns of a ranked row, in Suggestion and in StagedSuggestion alike (database columns and model attributes).
RANKED_COLUMNS = ("city_id", "candidate_id", "score", "rank", "components")
RankedRow = tuple[int, int, float, int, dict[str, Any]]


def _ranked_rows(results: BlockResult) -> list[RankedRow]:
    return [
        (city, candidate, score, rank, components)
        for city, ranked in results
        for rank, (candidate, score, components) in enumerate(ranked, start=1)
    ]


def _insert(model: type[Suggestion | StagedSuggestion], rows: list[RankedRow], **same: Any) -> int:
    """Insert the ranked rows, each with the columns in `same` too; many at once go through COPY on PostgreSQL."""
    if connection.vendor == "postgresql" and len(rows) > COPY_ABOVE:
        _copy_rows(model, rows, same)
    else:
        objects: list[Any] = [model(**dict(zip(RANKED_COLUMNS, row, strict=True)), **same) for row in rows]
        model.objects.bulk_create(objects, batch_size=2000)
    return len(rows)


def _copy_rows(model: type[Suggestion | StagedSuggestion], rows: list[RankedRow], same: dict[str, Any]) -> None:
    """Many rows at once through PostgreSQL's COPY (CSV): one statement instead of one INSERT per 2,000 rows,
    and no Python model instance per row. The caller's transaction covers it like any write."""
    fixed = [value.isoformat() if isinstance(value, datetime.datetime) else value for value in same.values()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # repr() of a float round-trips exactly; the column is jsonb, so the JSON's spacing does not matter.
    writer.writerows(
        (city, candidate, repr(score), rank, json.dumps(components, ensure_ascii=False), *fixed)
        for city, candidate, score, rank, components in rows
    )
    buffer.seek(0)
    table = connection.ops.quote_name(model._meta.db_table)
    # The names are the columns' own (Django's default column of a field, or of a foreign key's "_id").
    columns = ", ".join(connection.ops.quote_name(name) for name in (*RANKED_COLUMNS, *same))
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)


# -- one city -------------------------------------------------------------------------------


def recompute_city(*, city_id: int) -> int:
    """Recompute one city's suggestions now and replace them in one transaction; returns how many.

    Deletes the city's pending claim first, before reading anything: a change
    committed after this point makes a new claim and a new task, so none is missed.
    """
    PendingRecompute.objects.filter(city_id=city_id).delete()
    read_at = timezone.now()
    # Loading every city again (a few hundred thousand values) costs ten times the computation: the table
    # is kept while a digest of its inputs, computed by the database, stays the same.
    table = load_table_unless_unchanged()
    if city_id not in table.position:
        return 0
    results = rank_rows(table, np.array([table.position[city_id]]), topic_ids())
    with transaction.atomic():
        return write_suggestions(results, read_at=read_at)


def suggestions_in_own_country(*, city: City) -> list[Suggestion]:
    """The best candidates among the cities of the city's own country, as an officer may ask (the stored
    suggestions leave that country out): computed now, one row against every city, and not stored. Among
    them the country terms are alike, so the rest of the score ranks them (against the stored list they would
    lose on those terms: no domestic twinnings feed the graph). Dismissed candidates and agreements already
    made stay out, as in the stored suggestions."""
    table = load_table_unless_unchanged()
    if city.pk not in table.position:
        return []
    row = table.position[city.pk]
    found = scoring.rank_arrays_dense(table, np.array([row]), k=len(table), same_country=True)
    keep = np.flatnonzero((table.country[found.top[0]] == table.country[row]) & np.isfinite(found.scores[0]))
    keep = keep[: scoring.TOP_K]
    found = scoring.TopArrays(
        rows=found.rows,
        top=found.top[:, keep],
        scores=found.scores[:, keep],
        features={name: values[:, keep] for name, values in found.features.items()},
    )
    with _no_cycle_collection():
        [(_city, ranked)] = _with_reasons(table, found, topic_ids())
    candidates = City.objects.select_related("country").in_bulk([candidate for candidate, _score, _ in ranked])
    now = timezone.now()
    return [
        Suggestion(
            city=city, candidate=candidates[candidate], score=score, rank=rank, components=components, computed_at=now
        )
        for rank, (candidate, score, components) in enumerate(ranked, start=1)
    ]


def schedule_city_recompute(city_ids: Collection[int]) -> None:
    """Recompute these cities after the current transaction commits, once for a burst of changes.

    The PendingRecompute row is the claim: only the change that creates it enqueues
    a task, after a short countdown that lets the rest of a burst arrive. Many
    cities at once (an import) start one full recompute instead.
    """

    if len(city_ids) > FULL_RECOMPUTE_ABOVE:
        transaction.on_commit(functools.partial(_recompute_all_after, list(city_ids)))
        return
    created = _claim(city_ids)
    countdown = getattr(settings, "MATCHING_RECOMPUTE_COUNTDOWN", 5)
    for row in created:
        transaction.on_commit(functools.partial(enqueue_city_recompute, row.city_id, countdown=countdown))


def _claim(city_ids: Collection[int]) -> list[PendingRecompute]:
    """A PendingRecompute row for each city that has none yet; returns those created."""
    existing = set(PendingRecompute.objects.filter(city_id__in=city_ids).values_list("city_id", flat=True))
    new = [city_id for city_id in city_ids if city_id not in existing]
    return PendingRecompute.objects.bulk_create(
        [PendingRecompute(city_id=city_id) for city_id in new], ignore_conflicts=True
    )


def _recompute_all_after(city_ids: list[int]) -> None:
    """Many cities changed and committed: one full recompute. With the task queue unreachable the change
    still succeeds (it has committed): the run is closed as failed for staff to see, and each city keeps a
    claim that sweep_pending_recomputes enqueues once the queue is back."""
    try:
        start_full_recompute()
    except DomainError as error:
        logger.warning("%s cities changed, but no full recompute could be queued: %s", len(city_ids), error.message)
        _claim(city_ids)


def enqueue_city_recompute(city_id: int, *, countdown: int = 0) -> None:
    """Enqueue one city's recompute. With the broker unreachable or silent, the change that asked
    for it still answers at once: the city's claim stays, and sweep_pending_recomputes enqueues it
    once the broker is back."""
    from matching import tasks

    try:
        tasks.recompute_city.apply_async(
            args=[city_id], countdown=countdown, retry_policy=PUBLISH_RETRY_POLICY, **matching_queue()
        )
    except (BrokerError, OSError) as error:
        logger.warning("Broker unreachable, the recompute of city %s is left for the sweeper: %s", city_id, error)


def sweep_pending_recomputes(*, older_than: datetime.timedelta = datetime.timedelta(minutes=5)) -> int:
    """Enqueue again the recomputes still claimed after `older_than` (their task was never
    published, or was lost); returns how many. A task that was only slow runs twice, harmlessly."""
    stale = PendingRecompute.objects.filter(requested_at__lt=timezone.now() - older_than)
    city_ids = list(stale.values_list("city_id", flat=True))
    for city_id in city_ids:
        enqueue_city_recompute(city_id)
    return len(city_ids)


# -- every city: a chord of blocks ------------------------------------------------------------


def block_ranges(size: int) -> list[tuple[int, int]]:
    block_size = getattr(settings, "MATCHING_BLOCK_SIZE", 0) or scoring.block_size_for(size)
    return scoring.blocks(size, block_size)


def start_full_recompute(*, by: User | None = None) -> RecomputeRun:
    """Queue a full recompute: one task per block of cities, then one callback that swaps the results in.

    With the broker or the result store unreachable, the run is closed as failed with the error, and a
    DomainError says so: nothing was queued, and the suggestions stay as they are."""
    run = create_run(by=by)
    _queue_run(run)
    return run


def request_full_recompute(*, by: User | None = None) -> tuple[RecomputeRun, bool]:
    """A full recompute for staff's button and the weekly beat, and whether it is new: while one is still
    queued or running (and not stale), that one, so that a second click or a beat during a run does not
    compute every city twice. (Many cities changed at once start a run regardless: a run already under way
    may have read their old values.)"""
    with transaction.atomic():
        # Two requests at once: the second waits here until the first has created its run, then finds it.
        _lock_table("matching_recomputerun")
        running = run_under_way()
        if running is not None:
            return running, False
        run = create_run(by=by)
    _queue_run(run)
    return run, True


def run_under_way() -> RecomputeRun | None:
    """The full recompute still queued or running, if any: one older than STALE_RUN_AFTER will not finish."""
    recent = timezone.now() - STALE_RUN_AFTER
    return RecomputeRun.objects.filter(status__in=RecomputeRun.OPEN, created_at__gte=recent).first()


def _queue_run(run: RecomputeRun) -> None:
    from celery import chord

    from matching import tasks

    options = matching_queue()
    header = [
        tasks.compute_block.si(run_id=run.pk, number=number, start=start, stop=stop).set(**options)
        for number, (start, stop) in enumerate(block_ranges(run.city_count))
    ]
    try:
        chord(header)(tasks.swap_suggestions.s(run_id=run.pk).set(**options))
    except Exception as error:
        # In process (no broker), a block's own error arrives here rather than at RecomputeTask.on_failure.
        fail_run(run_id=run.pk, error=error)
        # Celery's Redis result store, unreachable, raises RuntimeError once its retries are spent.
        unreachable = isinstance(error, (BrokerError, BackendError, OSError, RuntimeError))
        if unreachable and not celery_app.conf.task_always_eager:
            raise DomainError(reasons.recompute_not_started()) from error
        raise


def create_run(*, by: User | None = None) -> RecomputeRun:
    """A new full recompute of every city, with a row for each of its blocks (their progress)."""
    size = City.objects.count()
    with transaction.atomic():
        run = RecomputeRun.objects.create(block_count=len(block_ranges(size)), city_count=size, requested_by=by)
        RecomputeBlock.objects.bulk_create(
            [RecomputeBlock(run=run, number=number) for number in range(run.block_count)]
        )
    return run


def compute_block(*, run_id: int, number: int, start: int, stop: int, table: CityTable | None = None) -> int:
    """Score one block of cities (positions start..stop in id order), stage their suggestions for the run's
    swap, and mark the block finished; returns how many suggestions.

    Safe to run twice: the block's staged rows are replaced by the same rows, and the block is marked once.
    A block of a run already closed (a late duplicate) does nothing. A city deleted since the run began
    shifts the positions its blocks were cut at (another block may have read the cities before): the run
    then fails, as a city could be staged twice or not at all. Cities added since come after every position
    (ids only grow), and the swap leaves them their own suggestions."""
    run = RecomputeRun.objects.filter(pk=run_id).values("status", "city_count").first()
    if run is None or run["status"] in RecomputeRun.CLOSED:
        return 0
    RecomputeRun.objects.filter(pk=run_id, status=RecomputeRun.Status.QUEUED).update(status=RecomputeRun.Status.RUNNING)
    read_at = timezone.now()
    table = load_table() if table is None else table
    if len(table) < run["city_count"]:
        fail_run(
            run_id=run_id,
            error=f"Cities were deleted during the run ({run['city_count']} when it began, {len(table)} now): "
            "its blocks no longer line up. The suggestions stay as they were; start a new recompute.",
        )
        return 0
    results = rank_rows(table, np.arange(start, min(stop, len(table))), topic_ids())
    with transaction.atomic():
        StagedSuggestion.objects.filter(run_id=run_id, block=number).delete()
        count = _insert(StagedSuggestion, _ranked_rows(results), run_id=run_id, block=number, computed_at=read_at)
        RecomputeBlock.objects.filter(run_id=run_id, number=number, finished_at__isnull=True).update(
            finished_at=timezone.now()
        )
    return count


# A run's staged rows into Suggestion: one statement, whatever the number of cities (the rows never pass through
# Python). Both tables are this app's own, named by Django's default (app label and model name).
SWAP_IN = """
    INSERT INTO "matching_suggestion" ("city_id", "candidate_id", "score", "rank", "components", "computed_at")
    SELECT "city_id", "candidate_id", "score", "rank", "components", "computed_at"
    FROM "matching_stagedsuggestion" WHERE "run_id" = %s
"""


@transaction.atomic
def swap_suggestions(*, run_id: int) -> int:
    """Replace every city's suggestions with the run's staged rows in one transaction, and close the run. A
    city recomputed on its own after its block read the inputs keeps those newer rows.

    Safe to run twice: the run row is locked and a finished run is left alone. A run
    older than one that already finished does not overwrite the newer results.
    """
    run = RecomputeRun.objects.select_for_update().get(pk=run_id)
    if run.status in RecomputeRun.CLOSED:
        return run.suggestion_count
    lock_suggestions()
    count = 0
    if not RecomputeRun.objects.filter(status=RecomputeRun.Status.DONE, created_at__gt=run.created_at).exists():
        # A city whose needs changed during the run was recomputed on its own after the commit: where that was
        # after its block read the inputs, its rows are newer than the block's and stay. Both sides come out one
        # row a city (the staged first rows, each city's latest) and meet in Python: a correlated subquery took
        # minutes on PostgreSQL with the directory (NOT IN) and fifty on SQLite (EXISTS: each suggestion scanned
        # the run's staged rows), once suggestions were there to replace.
        read_at = dict(StagedSuggestion.objects.filter(run_id=run_id, rank=1).values_list("city_id", "computed_at"))
        latest = Suggestion.objects.order_by().values_list("city_id").annotate(latest=Max("computed_at"))
        # A city the run staged nothing for (added after its block read the cities) keeps rows computed since
        # the run began: its own recompute's.
        newer = {city_id for city_id, at in latest if read_at.get(city_id, run.created_at) < at}
        Suggestion.objects.exclude(city_id__in=newer).delete()
        StagedSuggestion.objects.filter(run_id=run_id, city_id__in=newer).delete()
        with connection.cursor() as cursor:
            cursor.execute(SWAP_IN, [run_id])
            count = cursor.rowcount
    run.status = RecomputeRun.Status.DONE
    run.suggestion_count = count
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "suggestion_count", "finished_at"])
    # This run's staged rows, and any a failed or duplicated block left behind in an earlier run.
    StagedSuggestion.objects.filter(run__status__in=RecomputeRun.CLOSED).delete()
    return count


# A full recompute still queued or running after this long will not finish (the chord's callback was lost with
# a worker, say; a block's own failure closes its run at once): it is closed as failed, and its staged rows go.
STALE_RUN_AFTER = datetime.timedelta(hours=2)


def close_stale_runs(*, older_than: datetime.timedelta = STALE_RUN_AFTER) -> int:
    """Close the full recomputes that will not finish as failed (hourly, beat); returns how many. Safe to run
    twice: a closed run is not stale."""
    stale = RecomputeRun.objects.filter(status__in=RecomputeRun.OPEN, created_at__lt=timezone.now() - older_than)
    run_ids = list(stale.values_list("pk", flat=True))
    hours = older_than.total_seconds() / 3600
    for run_id in run_ids:
        fail_run(
            run_id=run_id,
            error=f"Not finished after {hours:g} hours: a task of the run was lost (a worker stopped, say). "
            "The suggestions stay as they were; start a new recompute.",
        )
    return len(run_ids)


def lock_suggestions() -> None:
    """Until the transaction ends, no other writes suggestions: a city's recompute waits for the swap, or for
    another recompute of the city, then replaces the rows they wrote. (Otherwise it could delete the city's rows
    before the other inserts its own, and fail on them at its insert.) On PostgreSQL a lock on the table that
    lets readers through, held for a few milliseconds by a city's recompute and a few seconds by the swap;
    SQLite lets one transaction write at a time anyway."""
    _lock_table("matching_suggestion")


def _lock_table(name: str) -> None:
    """Until the transaction ends, no other transaction writes this table or takes this lock; readers pass.
    On PostgreSQL only: SQLite lets one transaction write at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(name)} IN SHARE ROW EXCLUSIVE MODE")


def stop_run(*, run_id: int, by: User) -> bool:
    """Staff stop a full recompute that has stalled (a worker lost mid-run, say) rather than wait for it to go
    stale: it is closed as failed, so that its swap changes nothing and a block not yet started stages nothing
    (what a block already past that check stages goes at the next swap). Returns whether it stopped: a run
    that finished meanwhile stays finished."""
    return fail_run(run_id=run_id, error=f"Stopped by {by.get_username()}: every city keeps the suggestions it had.")


def fail_run(*, run_id: int, error: BaseException | str) -> bool:
    """Close a run that cannot finish (a block failed for good, or nothing could be queued), with the error
    for staff to read ("ValueError: ..." for an exception); its staged rows go. A closed run stays as it is;
    returns whether this call closed it."""
    if isinstance(error, BaseException):
        error = f"{type(error).__name__}: {error}"
    with transaction.atomic():
        closed = RecomputeRun.objects.filter(pk=run_id, status__in=RecomputeRun.OPEN).update(
            status=RecomputeRun.Status.FAILED, error=error[:2000], finished_at=timezone.now()
        )
        StagedSuggestion.objects.filter(run_id=run_id, run__status=RecomputeRun.Status.FAILED).delete()
    return bool(closed)


# -- what officers do --------------------------------------------------------------------------


def can_act_for(user: Any, city: City) -> bool:
    """The city's own active officers dismiss candidates and propose partnerships from its suggestions."""
    return bool(
        isinstance(user, User) and user.is_active and user.role == User.Role.OFFICER and user.city_id == city.pk
    )


@transaction.atomic
def dismiss_candidate(*, city: City, candidate: City, by: User) -> Dismissal:
    """ "Not interested": the candidate is no longer suggested to this city; its list is recomputed after commit."""
    if not can_act_for(by, city):
        from sco_portal.errors import NotPermittedError

        raise NotPermittedError(reasons.not_your_city(city))
    if city.pk == candidate.pk:
        raise DomainError(reasons.same_city())
    dismissal, _created = Dismissal.objects.get_or_create(city=city, candidate=candidate, defaults={"dismissed_by": by})
    Suggestion.objects.filter(city=city, candidate=candidate).delete()
    schedule_city_recompute([city.pk])
    return dismissal


@transaction.atomic
def undo_dismissal(*, city: City, candidate: City, by: User) -> None:
    """The officer changes their mind: the candidate may be suggested again."""
    if not can_act_for(by, city):
        from sco_portal.errors import NotPermittedError

        raise NotPermittedError(reasons.not_your_city(city))
    deleted, _by_model = Dismissal.objects.filter(city=city, candidate=candidate).delete()
    if deleted:
        schedule_city_recompute([city.pk])


# -- the weekly e-mail ----------------------------------------------------------------------------


def week_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def send_weekly_suggestions(*, today: datetime.date | None = None) -> int:
    """E-mail each city's officers its suggestions, once per ISO week (the WeeklyDigest row is the claim)."""
    week = week_of(today or timezone.localdate())
    officers: dict[int, list[User]] = {}
    for person in User.objects.filter(role=User.Role.OFFICER, is_active=True, city__isnull=False):
        assert person.city_id is not None
        officers.setdefault(person.city_id, []).append(person)
    sent = 0
    for city in City.objects.filter(pk__in=officers).select_related("country").order_by("pk"):
        suggestions = list(
            Suggestion.objects.filter(city=city).select_related("candidate__country", "city__country").order_by("rank")
        )
        if not suggestions:
            continue
        with transaction.atomic():
            _digest, created = WeeklyDigest.objects.get_or_create(city=city, week=week)
            if not created:
                continue
            notify(
                event=city_events.PARTNER_SUGGESTIONS,
                recipients=officers[city.pk],
                context={"city": city, "suggestions": reasons.for_mail(suggestions)},
                occurrence=f"city:{city.pk}:partner-suggestions:{week.isoformat()}",
            )
        sent += 1
    return sent
