"""The sweeper Celery beat runs every minute: it enqueues what the broker lost, takes back what dead workers held."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from unittest import mock

from django.core import mail
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.models import User
from notifications import tasks
from notifications.models import Message
from tests.factories import MessageFactory

Capture = Callable[..., Any]


def ago(**delta: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


def sweep(capture: Capture) -> dict[str, int]:
    with capture(execute=True):
        return tasks.sweep_outbox()


def test_a_message_whose_task_never_ran_is_enqueued_again_and_sent(
    partner_officer: User, django_capture_on_commit_callbacks: Capture
) -> None:
    lost = MessageFactory.create(recipient=partner_officer, next_attempt_at=ago(minutes=10))

    report = sweep(django_capture_on_commit_callbacks)

    assert report == {"requeued": 1, "taken_back": 0, "failed": 0}
    lost.refresh_from_db()
    assert lost.status == Message.Status.SENT
    assert len(mail.outbox) == 1


def test_a_message_queued_a_moment_ago_is_left_to_its_own_task(
    partner_officer: User, django_capture_on_commit_callbacks: Capture
) -> None:
    MessageFactory.create(recipient=partner_officer, next_attempt_at=ago(seconds=5))

    assert sweep(django_capture_on_commit_callbacks)["requeued"] == 0
    assert mail.outbox == []


def test_a_message_requeued_by_one_sweep_is_left_alone_by_the_next(
    partner_officer: User, django_capture_on_commit_callbacks: Capture
) -> None:
    MessageFactory.create(recipient=partner_officer, next_attempt_at=ago(minutes=10))

    with mock.patch.object(tasks.send_message, "apply_async") as publish:  # the broker takes it, no worker runs
        first = sweep(django_capture_on_commit_callbacks)
        second = sweep(django_capture_on_commit_callbacks)

    assert (first["requeued"], second["requeued"]) == (1, 0)
    assert publish.call_count == 1


def test_a_message_whose_worker_died_is_taken_back_and_sent(
    partner_officer: User, django_capture_on_commit_callbacks: Capture
) -> None:
    stalled = MessageFactory.create(
        recipient=partner_officer, status=Message.Status.SENDING, claimed_at=ago(minutes=10), attempts=1
    )

    report = sweep(django_capture_on_commit_callbacks)

    assert report["taken_back"] == 1
    stalled.refresh_from_db()
    assert (stalled.status, stalled.attempts) == (Message.Status.SENT, 2)
    assert len(mail.outbox) == 1


def test_a_message_being_sent_right_now_is_not_taken_back(
    partner_officer: User, django_capture_on_commit_callbacks: Capture
) -> None:
    sending = MessageFactory.create(
        recipient=partner_officer, status=Message.Status.SENDING, claimed_at=ago(seconds=30), attempts=1
    )

    assert sweep(django_capture_on_commit_callbacks)["taken_back"] == 0
    sending.refresh_from_db()
    assert sending.status == Message.Status.SENDING


def test_a_message_whose_worker_died_on_the_last_attempt_fails(
    partner_officer: User, settings: SettingsWrapper, django_capture_on_commit_callbacks: Capture
) -> None:
    stalled = MessageFactory.create(
        recipient=partner_officer,
        status=Message.Status.SENDING,
        claimed_at=ago(minutes=10),
        attempts=settings.NOTIFICATIONS_MAX_ATTEMPTS,
    )

    assert sweep(django_capture_on_commit_callbacks)["failed"] == 1
    stalled.refresh_from_db()
    assert stalled.status == Message.Status.FAILED
    assert "last attempt" in stalled.last_error
    assert mail.outbox == []


def test_held_digest_messages_are_not_swept(partner_officer: User, django_capture_on_commit_callbacks: Capture) -> None:
    MessageFactory.create(recipient=partner_officer, status=Message.Status.HELD, next_attempt_at=ago(days=1))

    assert sweep(django_capture_on_commit_callbacks) == {"requeued": 0, "taken_back": 0, "failed": 0}
    assert mail.outbox == []
