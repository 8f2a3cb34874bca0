from __future__ import annotations

from celery import shared_task

from partnerships import services


@shared_task(
    acks_late=True,
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=(ConnectionError,),
    max_retries=3,
    retry_backoff=True,
)
def expire_agreements() -> int:
    """Daily: end the agreements whose term is over. Safe to run twice (each expiry locks and re-checks)."""
    return services.expire_due_agreements()


@shared_task(
    acks_late=True,
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=(ConnectionError,),
    max_retries=3,
    retry_backoff=True,
)
def send_agreement_reminders() -> int:
    """Daily: the 90- and 30-day reminders before the end of term. Safe to run twice (deduplicated)."""
    return services.send_expiry_reminders()
