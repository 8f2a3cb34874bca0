"""Celery tasks of the outbox: send one message, sweep up what was lost, send the daily digests.

Each task takes ids, loads, and calls the service; each is safe to run twice.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

from notifications import services
from sco_portal.celery import PUBLISH_RETRY_POLICY

logger = logging.getLogger(__name__)


class OutboxTask(DjangoTask):
    """A task whose `delay_on_commit` never fails the caller's request when the broker is unreachable.

    The outbox row is already committed when the task is enqueued, so a lost
    enqueue only delays the e-mail until the sweeper's next run.
    """

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        transaction.on_commit(functools.partial(self.enqueue_or_leave_for_sweeper, *args, **kwargs))

    def enqueue_or_leave_for_sweeper(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.apply_async(args, kwargs, retry_policy=PUBLISH_RETRY_POLICY)
        except (OperationalError, OSError) as error:
            logger.warning("Broker unreachable, %s%r left for the outbox sweeper: %s", self.name, args, error)


@shared_task(
    base=OutboxTask,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,  # the outbox row counts the attempts, not the task message
    soft_time_limit=settings.NOTIFICATIONS_SEND_SOFT_TIME_LIMIT,
    time_limit=settings.NOTIFICATIONS_SEND_TIME_LIMIT,
)
def send_message(self: OutboxTask, message_id: int) -> str:
    """Send outbox message `message_id`; a second run for the same message finds it claimed and does nothing."""
    delivery = services.deliver_message(message_id=message_id)
    if delivery.retry_in is not None and not self.request.is_eager:
        # If this retry cannot be published, the row is still queued with its due
        # time, and the sweeper enqueues it.
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome


@shared_task(
    base=OutboxTask,
    acks_late=True,
    ignore_result=True,
    soft_time_limit=settings.NOTIFICATIONS_SWEEP_TIME_LIMIT - 10,
    time_limit=settings.NOTIFICATIONS_SWEEP_TIME_LIMIT,
)
def sweep_outbox() -> dict[str, int]:
    """Run by Celery beat every minute: enqueue what the broker lost, take back what dead workers held."""
    report = services.sweep_outbox()
    return {"requeued": report.requeued, "taken_back": report.taken_back, "failed": report.failed}


@shared_task(
    base=OutboxTask,
    acks_late=True,
    ignore_result=True,
    soft_time_limit=settings.NOTIFICATIONS_DIGEST_TIME_LIMIT - 30,
    time_limit=settings.NOTIFICATIONS_DIGEST_TIME_LIMIT,
)
def send_daily_digests() -> int:
    """Run by Celery beat once a day: one digest e-mail per person with held messages."""
    return services.send_daily_digests()
