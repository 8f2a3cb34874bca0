"""The send task against a real SMTP server on localhost, run in this process: claims, retries, failures."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.models import User
from notifications import tasks
from notifications.models import Message
from notifications.services import deliver_message, retry_delay
from tests.factories import MessageFactory
from tests.notifications.conftest import MailServer, free_port


@pytest.fixture
def smtp(mail_server: MailServer, settings: SettingsWrapper) -> MailServer:
    """This process sends over SMTP to the test's server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = mail_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.NOTIFICATIONS_RETRY_DELAY = 60.0
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    return mail_server


def make_due(message: Message) -> None:
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def test_the_send_task_run_twice_for_one_message_sends_one_email(smtp: MailServer, partner_officer: User) -> None:
    message = MessageFactory.create(recipient=partner_officer)

    first = tasks.send_message.apply(args=(message.pk,)).get()
    second = tasks.send_message.apply(args=(message.pk,)).get()

    assert (first, second) == ("sent", "skipped")
    [email] = smtp.messages()
    assert email["To"] == partner_officer.email
    assert email["Subject"] == message.subject
    assert str(email["Message-ID"]).strip() == f"<{message.dedupe_key}@127.0.0.1>"
    assert email["Auto-Submitted"] == "auto-generated"
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.attempts == 1


def test_a_refused_message_waits_longer_after_each_attempt_then_fails_with_the_servers_answer(
    smtp: MailServer, partner_officer: User
) -> None:
    smtp.refuse_first = 100
    message = MessageFactory.create(recipient=partner_officer)

    first = deliver_message(message_id=message.pk)
    not_yet_due = deliver_message(message_id=message.pk)
    make_due(message)
    second = deliver_message(message_id=message.pk)
    make_due(message)
    third = deliver_message(message_id=message.pk)

    assert (first.outcome, first.retry_in) == ("deferred", 60.0)
    assert not_yet_due.outcome == "skipped"
    assert (second.outcome, second.retry_in) == ("deferred", 120.0)
    assert third.outcome == "failed"
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.attempts == 3
    assert "451" in message.last_error and "Mailbox busy" in message.last_error
    assert sum(smtp.attempts.values()) == 3
    assert len(smtp.attempts) == 1, "every attempt carries the same Message-ID"


def test_a_deferred_message_is_due_again_after_its_delay(smtp: MailServer, partner_officer: User) -> None:
    smtp.refuse_first = 1
    message = MessageFactory.create(recipient=partner_officer)
    before = timezone.now()

    deliver_message(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert before + datetime.timedelta(seconds=59) < message.next_attempt_at
    assert message.next_attempt_at < timezone.now() + datetime.timedelta(seconds=61)
    make_due(message)
    assert deliver_message(message_id=message.pk).outcome == "sent"
    assert len(smtp.messages()) == 1


def test_a_permanent_refusal_fails_the_message_at_once(smtp: MailServer, partner_officer: User) -> None:
    smtp.refuse_first = 100
    smtp.refusal = "550 5.1.1 No such mailbox"
    message = MessageFactory.create(recipient=partner_officer)

    assert deliver_message(message_id=message.pk).outcome == "failed"

    message.refresh_from_db()
    assert message.attempts == 1
    assert "550" in message.last_error


def test_an_unreachable_smtp_server_is_a_failure_worth_retrying(
    partner_officer: User, settings: SettingsWrapper
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    message = MessageFactory.create(recipient=partner_officer)

    delivery = deliver_message(message_id=message.pk)

    assert delivery.outcome == "deferred"
    message.refresh_from_db()
    assert "ConnectionRefusedError" in message.last_error


def test_retry_delay_doubles_up_to_its_cap(settings: SettingsWrapper) -> None:
    settings.NOTIFICATIONS_RETRY_DELAY = 60.0
    settings.NOTIFICATIONS_RETRY_MAX_DELAY = 3600.0

    assert [retry_delay(attempts) for attempts in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_two_claims_on_one_message_let_only_one_through(partner_officer: User) -> None:
    message = MessageFactory.create(recipient=partner_officer)
    first = Message.objects.get(pk=message.pk)
    second = Message.objects.get(pk=message.pk)
    now = timezone.now()

    assert first.claim(now=now) is True
    assert second.claim(now=now) is False


def test_a_late_result_from_a_worker_presumed_dead_does_not_overwrite_the_new_claim(partner_officer: User) -> None:
    message = MessageFactory.create(recipient=partner_officer)
    presumed_dead = Message.objects.get(pk=message.pk)
    presumed_dead.claim(now=timezone.now())
    presumed_dead.take_back(claimed_before=timezone.now(), now=timezone.now())
    successor = Message.objects.get(pk=message.pk)
    successor.claim(now=timezone.now())

    assert presumed_dead.mark_sent(now=timezone.now()) is False
    assert successor.mark_sent(now=timezone.now()) is True
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.SENT, 2)


def test_a_move_outside_the_workflow_is_refused(partner_officer: User) -> None:
    message = MessageFactory.create(recipient=partner_officer, status=Message.Status.HELD)

    with pytest.raises(ValueError):
        message._move(source=Message.Status.HELD, target=Message.Status.SENT)
