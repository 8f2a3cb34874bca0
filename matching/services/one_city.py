"""One city's suggestions: recomputed after a change to its profile, practices or agreements (once for a burst
of changes, claimed by a PendingRecompute row and swept again if its task was lost), then the other cities'
lists that the change can alter; and the same-country suggestions an officer may ask for.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import logging
from collections.abc import Callable, Collection, Iterator

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from cities.models import City
from matching import scoring
from matching.inputs import load_table_unless_unchanged, topic_ids
from matching.models import PendingRecompute, Suggestion
from matching.pruning import SCORE_MARGIN
from matching.services.results import no_cycle_collection, rank_rows, with_reasons, write_suggestions
from matching.services.runs import matching_queue, start_full_recompute
from matching.table import CityTable
from sco_portal.celery import PUBLISH_RETRY_POLICY
from sco_portal.errors import DomainError

logger = logging.getLogger(__name__)

# More changed cities than this at once (an import) start a full recompute instead of one task per city.
FULL_RECOMPUTE_ABOVE = 50


# The key of the PostgreSQL advisory lock that lets one city's recompute, or one step after it, run at a time.
RECOMPUTE_LOCK = 0x5C0_0001


def take_claim(*, city_id: int) -> bool:
    """The city's pending claim deleted, as its task begins and before it reads anything: a change committed after
    this makes a new claim and a new task, so none is missed (one under way holds the claim's row until it commits,
    and this waits for it). Returns whether the changes claimed can alter other cities' lists (yes without a claim:
    a task run twice, or by hand, does not know what changed)."""
    with transaction.atomic():
        claimed = list(
            PendingRecompute.objects.select_for_update()
            .filter(city_id=city_id)
            .values_list("reaches_other_lists", flat=True)
        )
        PendingRecompute.objects.filter(city_id=city_id).delete()
    return any(claimed) or not claimed


def recompute_city(*, city_id: int) -> int:
    """Recompute one city's suggestions now and replace them in one transaction; returns how many. The task that
    acts on a claim takes it first (take_claim())."""
    with one_recompute_at_a_time():
        return _recompute(city_id, lambda table, row: np.array([row]))


def recompute_lists_it_reaches(*, city_id: int) -> int:
    """After a city's own recompute: the suggestions of the other cities whose lists its change can alter
    (cities_whose_lists_it_may_change()), recomputed and replaced in one transaction; returns how many rows."""
    with one_recompute_at_a_time():
        return _recompute(city_id, cities_whose_lists_it_may_change)


def _recompute(city_id: int, positions: Callable[[CityTable, int], npt.NDArray[np.int64]]) -> int:
    """The suggestions of the cities at `positions(table, the city's row)`, ranked block by block and written in
    one transaction; none if the city is gone or no position is given. Returns how many rows were written."""
    read_at = timezone.now()
    # Loading every city again (a few hundred thousand values) costs ten times the computation: the table
    # is kept while a digest of its inputs, computed by the database, stays the same.
    table = load_table_unless_unchanged()
    if city_id not in table.position:
        return 0
    rows = positions(table, table.position[city_id])
    if not len(rows):
        return 0  # nothing to write: the suggestions' lock is not taken (it waits behind a swap)
    topics = topic_ids()
    results = [
        ranked
        for start, stop in scoring.blocks(len(rows), scoring.block_size_for(len(table)))
        for ranked in rank_rows(table, rows[start:stop], topics)
    ]
    with transaction.atomic():
        return write_suggestions(results, read_at=read_at)


@contextlib.contextmanager
def one_recompute_at_a_time() -> Iterator[None]:
    """One city's recompute, or the step after it, at a time (on PostgreSQL: an advisory lock held from reading the
    inputs to the commit). Which lists a change reaches is judged against the lists stored: a recompute that
    read the inputs before the change and writes after the judgement would leave a list without the change
    until the weekly recompute. SQLite, the embedded default, runs the tasks one after the other anyway."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [RECOMPUTE_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RECOMPUTE_LOCK])


def cities_whose_lists_it_may_change(table: CityTable, row: int) -> npt.NDArray[np.int64]:
    """Positions of the other cities whose stored suggestions a change to this city can change: those that list
    it now, and those whose k-th best stored score its score with them now reaches (any score, where they hold
    fewer than k: a candidate newly allowed, its agreement with them ended, enters such a list at once). Cities
    not computed yet are left to the full recompute.

    A change to a city's needs, expertise or practices changes the scores of its own pairs only: with these
    cities recomputed beside it, every list is the one a full recompute gives, where the lists stored were so
    before (Kazan publishes a practice on waste management, and Bishkek, which needs it, finds Kazan in its
    suggestions at once). A few more may be recomputed for nothing (a city that dismissed it, or has an
    agreement with it). An agreement changes more than its two cities' pairs (partners in common, the
    countries' and regions' counts of other pairs): what it changes beyond these lists waits for the weekly
    full recompute."""
    cutoff = np.full(len(table), np.nan)  # NaN: not computed yet, reached by no score
    # order_by(): without the model's ordering (by city name, through a join), read from the index alone.
    stored = Suggestion.objects.filter(rank__in=(1, scoring.TOP_K)).order_by().values_list("city_id", "rank", "score")
    for other, rank, score in stored.iterator(chunk_size=10_000):
        position = table.position.get(other)
        if position is None:
            continue
        if rank == scoring.TOP_K:
            cutoff[position] = score
        elif np.isnan(cutoff[position]):
            cutoff[position] = -np.inf
    score = np.round(scoring.score_block(table, np.array([row]))[0], scoring.SCORE_DECIMALS)
    reached = (table.country != table.country[row]) & (score >= cutoff - SCORE_MARGIN)
    listing = Suggestion.objects.filter(candidate_id=int(table.ids[row])).order_by().values_list("city_id", flat=True)
    reached[[table.position[other] for other in listing if other in table.position]] = True
    reached[row] = False
    return np.flatnonzero(reached)


def enqueue_lists_it_reaches(city_id: int) -> None:
    """Enqueue the step after a city's recompute (its own task: its own time and retries). With the broker
    unreachable, those lists wait for the weekly full recompute."""
    from matching import tasks

    try:
        tasks.recompute_lists_it_reaches.apply_async(
            args=[city_id], retry_policy=PUBLISH_RETRY_POLICY, **matching_queue()
        )
    except (BrokerError, OSError) as error:
        logger.warning(
            "Broker unreachable, the lists city %s's change reaches wait for the weekly run: %s", city_id, error
        )


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
    with no_cycle_collection():
        [(_city, ranked)] = with_reasons(table, found, topic_ids())
    candidates = City.objects.select_related("country").in_bulk([candidate for candidate, _score, _ in ranked])
    now = timezone.now()
    return [
        Suggestion(
            city=city, candidate=candidates[candidate], score=score, rank=rank, components=components, computed_at=now
        )
        for rank, (candidate, score, components) in enumerate(ranked, start=1)
    ]


def schedule_city_recompute(city_ids: Collection[int], *, own_list_only: bool = False) -> None:
    """Recompute these cities after the current transaction commits, once for a burst of changes; then the other
    cities' lists the change can alter, unless it alters the cities' own lists only ("Not interested" and its undo).

    The PendingRecompute row is the claim: only the change that creates it enqueues
    a task, after a short countdown that lets the rest of a burst arrive. Many
    cities at once (an import) start one full recompute instead.
    """

    if len(city_ids) > FULL_RECOMPUTE_ABOVE:
        transaction.on_commit(functools.partial(_recompute_all_after, list(city_ids)))
        return
    created = _claim(city_ids, own_list_only=own_list_only)
    countdown = getattr(settings, "MATCHING_RECOMPUTE_COUNTDOWN", 5)
    for row in created:
        transaction.on_commit(functools.partial(enqueue_city_recompute, row.city_id, countdown=countdown))


def recompute_changed_cities(city_ids: Collection[int], *, between_them_only: bool = False) -> None:
    """What sco_portal.changes reports (matching's listener): the cities recomputed after the commit. What concerns
    them with each other alone (an agreement opened or closed between them) alters their own lists only."""
    schedule_city_recompute(city_ids, own_list_only=between_them_only)


def _claim(city_ids: Collection[int], *, own_list_only: bool = False) -> list[PendingRecompute]:
    """A PendingRecompute row for each city that has none yet; returns those this change inserts (one inserted at
    the same moment by another change, not committed when this one looked, is among them: the city's task then
    runs twice, harmlessly). The claims stay locked until the change commits (their task waits to take them, and
    so reads the change), and say whether the changes can alter other cities' lists."""
    with transaction.atomic():  # the change's own, or one of its own after an import's commit
        existing = PendingRecompute.objects.filter(city_id__in=city_ids)
        found = set(existing.select_for_update().order_by("city_id").values_list("city_id", flat=True))
        if not own_list_only:
            existing.filter(reaches_other_lists=False).update(reaches_other_lists=True)
        new = [
            PendingRecompute(city_id=city_id, reaches_other_lists=not own_list_only)
            for city_id in sorted(city_ids)
            if city_id not in found
        ]
        if own_list_only:
            return PendingRecompute.objects.bulk_create(new, ignore_conflicts=True)
        # A claim the other change inserted meanwhile (a dismissal's, say) is made to reach the other lists too:
        # skipped as a conflict, this change's need of them was lost.
        return PendingRecompute.objects.bulk_create(
            new, update_conflicts=True, unique_fields=["city"], update_fields=["reaches_other_lists"]
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
