"""The full recompute: a chord of block tasks, each staging its cities' suggestions, whose callback swaps every
result in at once; its progress for staff, a stop for a stalled run, and the closing of runs that will not finish.
"""

from __future__ import annotations

import datetime

import numpy as np
from celery.exceptions import BackendError
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from accounts.models import User
from cities.models import City
from matching import reasons, scoring
from matching.inputs import load_table, topic_ids
from matching.models import RecomputeBlock, RecomputeRun, StagedSuggestion, Suggestion
from matching.services.results import insert_rows, lock_suggestions, lock_table, rank_rows, ranked_rows
from matching.table import CityTable
from sco_portal.celery import app as celery_app
from sco_portal.errors import DomainError


def matching_queue() -> dict[str, str]:
    """The queue option of matching's tasks, when one is configured (MATCHING_QUEUE)."""
    queue = getattr(settings, "MATCHING_QUEUE", "")
    return {"queue": queue} if queue else {}


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
        lock_table("matching_recomputerun")
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
        count = insert_rows(StagedSuggestion, ranked_rows(results), run_id=run_id, block=number, computed_at=read_at)
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
    clear_staged_rows()
    return count


def vacuum_suggestions() -> None:
    """After a swap has committed, on PostgreSQL: the suggestions' table vacuumed and analysed. The swap replaced
    every row; until autovacuum came by (a minute or more), the dead rows and a visibility map not yet set sent
    readers to the table's pages: the step after Bishkek's recompute, which reads the first and last rows of every
    list from an index, took 1.1 to 1.6 s after a swap, 0.5 to 0.6 s once vacuumed (the directory; the vacuum
    itself, 1.2 s, during which a city's recompute waits to write: VACUUM's lock and the suggestions' lock exclude
    each other, as the swap's did). VACUUM cannot run in a transaction: inside one (a caller's, a test's), it is
    left to autovacuum."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute('VACUUM (ANALYZE) "matching_suggestion"')


def clear_staged_rows() -> None:
    """The staged rows of every closed run: the swapped run's, and any a failed or duplicated block left behind.

    On PostgreSQL, with no other run open, the table is emptied at once (TRUNCATE: a second, against deleting
    81,020 rows one by one, and no dead rows left for vacuum). The table is locked first, so that no block of a
    run opened meanwhile has staged rows that the check missed: such a block waits for the commit. The lock is
    taken only if it is free at once (NOWAIT): the swap holds the suggestions' lock, and waiting behind a reader
    of this table (a report, a dump) would hold every city's recompute back; the rows are deleted instead."""
    if (
        connection.vendor == "postgresql"
        and _staged_table_locked_at_once()
        and not RecomputeRun.objects.filter(status__in=RecomputeRun.OPEN).exists()
    ):
        with connection.cursor() as cursor:
            cursor.execute('TRUNCATE "matching_stagedsuggestion"')
        return
    StagedSuggestion.objects.filter(run__status__in=RecomputeRun.CLOSED).delete()


def _staged_table_locked_at_once() -> bool:
    try:
        # A savepoint: a lock refused aborts only it, not the swap's transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute('LOCK TABLE "matching_stagedsuggestion" IN ACCESS EXCLUSIVE MODE NOWAIT')
    except OperationalError:
        return False
    return True


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
