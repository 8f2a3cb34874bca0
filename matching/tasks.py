"""Celery tasks of partner matching: each takes ids, calls the service, and is safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.db import OperationalError

from matching import services

# Acknowledged after they ran (a killed worker's task runs again, harmlessly: every task
# here gives the same rows twice), bounded in time, retried with back-off when the
# database is briefly unreachable.
SAFE = {
    "acks_late": True,
    "autoretry_for": (OperationalError, ConnectionError),
    "max_retries": 3,
    "retry_backoff": True,
}


@shared_task(soft_time_limit=50, time_limit=60, **SAFE)
def recompute_city(city_id: int) -> int:
    """One city's suggestions, enqueued on commit when its profile, agreements or practices change, or its officers
    dismiss a candidate; its own list written, the next task recomputes the other cities' lists that the change can
    alter (none for a dismissal)."""
    reaches_other_lists = services.take_claim(city_id=city_id)
    count = services.recompute_city(city_id=city_id)
    if reaches_other_lists:
        services.enqueue_lists_it_reaches(city_id)
    return count


@shared_task(soft_time_limit=50, time_limit=60, **SAFE)
def recompute_lists_it_reaches(city_id: int) -> int:
    """After a city's recompute: the other cities' lists its change can alter (a thousand for a city many lists
    name: a second or so)."""
    return services.recompute_lists_it_reaches(city_id=city_id)


@shared_task(soft_time_limit=50, time_limit=60, **SAFE)
def sweep_pending_recomputes() -> int:
    """Every few minutes (beat): the recomputes whose task the broker never took, enqueued again."""
    return services.sweep_pending_recomputes()


class RecomputeTask(Task):
    """A step of a full recompute, called with run_id=: when it fails for good (its retries spent, or its
    time up), the run is closed as failed with the error, so that staff see it rather than a run that
    never ends (the chord's callback never comes after a failed block)."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        services.fail_run(run_id=kwargs["run_id"], error=exc)


@shared_task(base=RecomputeTask, soft_time_limit=240, time_limit=300, **SAFE)
def compute_block(*, run_id: int, number: int, start: int, stop: int) -> int:
    """One block of a full recompute: its suggestions are staged for the chord's callback."""
    return services.compute_block(run_id=run_id, number=number, start=start, stop=stop)


@shared_task(base=RecomputeTask, soft_time_limit=240, time_limit=300, **SAFE)
def swap_suggestions(_block_counts: list[int], *, run_id: int) -> int:
    """The chord's callback: every block's staged suggestions swapped in, in one transaction, then the table tidied
    for its readers."""
    count = services.swap_suggestions(run_id=run_id)
    services.vacuum_suggestions()
    return count


@shared_task(soft_time_limit=50, time_limit=60, **SAFE)
def close_stale_runs() -> int:
    """Hourly (beat): the full recomputes that will not finish, closed as failed."""
    return services.close_stale_runs()


@shared_task(soft_time_limit=50, time_limit=60, **SAFE)
def recompute_all() -> int:
    """The weekly full recompute (beat): queues the chord and returns the run's id (the run still under way,
    if one is)."""
    return services.request_full_recompute()[0].pk


@shared_task(soft_time_limit=1700, time_limit=1800, **SAFE)
def send_partner_suggestions() -> int:
    """The weekly e-mail to each city's officers. Safe to run twice: one per city and week."""
    return services.send_weekly_suggestions()
