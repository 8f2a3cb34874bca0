"""Celery tasks of the practice library; each takes ids, loads, calls the service, and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from practices import exports

# Writing 100,000 practices takes minutes; the limits leave room for that and stop a stuck run.
EXPORT_SOFT_TIME_LIMIT = 30 * 60
EXPORT_TIME_LIMIT = EXPORT_SOFT_TIME_LIMIT + 60


@shared_task(
    acks_late=True,
    ignore_result=True,
    soft_time_limit=EXPORT_SOFT_TIME_LIMIT,
    time_limit=EXPORT_TIME_LIMIT,
)
def export_library(export_id: int) -> bool:
    """Write the file of export `export_id`; a second delivery finds it claimed and does nothing."""
    return exports.write_library_export(export_id=export_id)
