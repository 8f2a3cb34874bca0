from __future__ import annotations

from celery import shared_task

from partnerships import services

# Daily jobs: acknowledged after they ran (a killed worker's job runs again, harmlessly),
# bounded in time, retried a few times with back-off when the database is unreachable.
DAILY = {
    "acks_late": True,
    "soft_time_limit": 240,
    "time_limit": 300,
    "autoretry_for": (ConnectionError,),
    "max_retries": 3,
    "retry_backoff": True,
}


@shared_task(**DAILY)
def expire_agreements() -> int:
    """End the agreements whose term is over. Safe to run twice (each expiry locks and re-checks)."""
    return services.expire_due_agreements()


@shared_task(**DAILY)
def send_agreement_reminders() -> int:
    """The 90- and 30-day reminders before the end of term. Safe to run twice (deduplicated)."""
    return services.send_expiry_reminders()


@shared_task(**DAILY)
def remind_dormant_agreements() -> int:
    """Invite the officers of agreements that turned dormant to log an activity. Safe to run twice (deduplicated)."""
    return services.remind_dormant_agreements()
