"""The Celery and e-mail settings that the outbox's promises rest on."""

from __future__ import annotations

from pathlib import Path

import yaml
from celery.schedules import crontab
from django.conf import settings

from notifications import tasks
from sco_portal.celery import app


def test_the_send_task_is_acknowledged_late_and_redelivered_if_its_worker_dies() -> None:
    task = app.tasks["notifications.tasks.send_message"]

    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.ignore_result is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_every_outbox_task_has_a_soft_and_a_hard_time_limit() -> None:
    for task in (tasks.send_message, tasks.sweep_outbox, tasks.send_daily_digests):
        assert task.soft_time_limit is not None and task.time_limit is not None, task.name
        assert 0 < task.soft_time_limit < task.time_limit, task.name


def test_an_smtp_conversation_times_out_before_the_send_task_does() -> None:
    assert settings.EMAIL_TIMEOUT is not None
    assert 0 < settings.EMAIL_TIMEOUT < tasks.send_message.soft_time_limit


def test_the_sweeper_takes_back_a_message_only_once_no_live_worker_can_still_be_sending_it() -> None:
    assert tasks.send_message.time_limit < settings.NOTIFICATIONS_STALLED_AFTER


def test_failed_sends_are_retried_with_growing_delays_up_to_a_limit() -> None:
    assert 3 <= settings.NOTIFICATIONS_MAX_ATTEMPTS <= 20
    assert 0 < settings.NOTIFICATIONS_RETRY_DELAY < settings.NOTIFICATIONS_RETRY_MAX_DELAY


def test_beat_sweeps_the_outbox_every_minute_and_sends_the_digest_once_a_day() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert schedule["notifications.tasks.sweep_outbox"] <= 60
    digest = schedule["notifications.tasks.send_daily_digests"]
    assert isinstance(digest, crontab)
    assert digest.hour == {settings.NOTIFICATIONS_DIGEST_HOUR}
    assert digest.minute == {0}
    app.loader.import_default_modules()  # autodiscovery is lazy: load every app's tasks.py
    assert set(schedule) <= set(app.tasks)


def test_links_in_emails_are_absolute() -> None:
    assert settings.SITE_URL.startswith(("http://", "https://"))


def test_compose_runs_a_worker_that_may_finish_its_emails_beat_and_a_mail_catcher() -> None:
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())
    services = compose["services"]

    assert services["mail"]["image"].startswith("axllent/mailpit")
    assert services["worker"]["command"][:4] == ["celery", "-A", "sco_portal", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "sco_portal", "beat"]
    grace = int(services["worker"]["stop_grace_period"].removesuffix("s"))
    assert grace > tasks.send_message.time_limit
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["EMAIL_URL"] == "${EMAIL_URL:-smtp://mail:1025}"
        assert environment["SITE_URL"].startswith("${SITE_URL:-http")
