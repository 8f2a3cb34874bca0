"""The outbox against the real thing: Redis, `celery worker` processes and an SMTP server on localhost.

These are the promises the portal makes about e-mail: none lost when Redis, the
SMTP server or a worker goes down, none sent twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.models import User
from cities.models import City
from notifications import events, tasks
from notifications.models import Message, Preference
from notifications.services import notify, save_preferences
from partnerships import events as agreement_events
from tests.notifications.conftest import MailServer, TcpProxy, Worker, wait_until
from tests.notifications.stand_ins import agreement_context


def raise_proposals(count: int, *, recipient: User, initiator: City, partner: City) -> None:
    with transaction.atomic():
        for pk in range(1, count + 1):
            notify(
                event=agreement_events.PROPOSED,
                recipients=[recipient],
                context=agreement_context(initiator, partner, pk=pk, title=f"Agreement {pk}"),
                occurrence=f"agreement:{pk}:transition:1",
            )


def all_sent(count: int) -> Callable[[], bool]:
    return lambda: Message.objects.filter(status=Message.Status.SENT).count() == count


def arrivals(mail_server: MailServer) -> Counter[str]:
    return Counter(str(message["Message-ID"]) for message in mail_server.messages())


def settle() -> None:
    """Give a duplicate, if the code would make one, the time to show up."""
    time.sleep(1.5)


def queue_length() -> int:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return int(client.llen(settings.CELERY_TASK_DEFAULT_QUEUE))


@pytest.mark.urls("tests.notifications.urls")
def test_events_raised_while_the_broker_is_unreachable_all_arrive_once_the_sweeper_runs(
    start_worker: Callable[[], Worker],
    broker_proxy: TcpProxy,
    mail_server: MailServer,
    partner_officer: User,
    almaty_city: City,
    settings: SettingsWrapper,
) -> None:
    worker = start_worker()
    broker_proxy.stop()  # Redis is gone, as far as the portal can tell
    client = Client()

    started = time.monotonic()
    statuses = [client.post(f"/agreements/{pk}/propose/").status_code for pk in range(1, 101)]
    elapsed = time.monotonic() - started

    assert statuses == [200] * 100
    assert elapsed < 30, f"raising 100 events with the broker down took {elapsed:.1f} s"
    assert Message.objects.filter(status=Message.Status.QUEUED).count() == 100
    time.sleep(1)
    assert mail_server.messages() == [], "nothing could have reached the worker"

    broker_proxy.start()
    settings.NOTIFICATIONS_REQUEUE_AFTER = 0
    report = tasks.sweep_outbox()  # what Celery beat runs every minute

    assert report["requeued"] == 100
    mail_server.wait_for(100)
    wait_until(all_sent(100), what=f"100 messages marked sent\n{worker.log}")
    settle()
    arrived = arrivals(mail_server)
    assert len(arrived) == 100
    assert set(arrived.values()) == {1}, "a message arrived twice"
    assert {str(message["To"]) for message in mail_server.messages()} == {partner_officer.email}


def test_messages_the_smtp_server_refuses_at_first_are_retried_and_arrive_exactly_once(
    start_worker: Callable[[], Worker],
    mail_server: MailServer,
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
) -> None:
    mail_server.refuse_first = 2  # every message: "451 try again later" twice, then accepted
    worker = start_worker()

    raise_proposals(5, recipient=partner_officer, initiator=almaty_city, partner=bishkek_city)

    mail_server.wait_for(5)
    wait_until(all_sent(5), what=f"5 messages marked sent\n{worker.log}")
    settle()
    arrived = arrivals(mail_server)
    assert len(arrived) == 5
    assert set(arrived.values()) == {1}, "a message arrived twice"
    assert set(mail_server.attempts.values()) == {3}
    assert set(Message.objects.values_list("attempts", "last_error")) == {(3, "")}


def test_a_message_refused_on_every_attempt_fails_with_its_error_after_the_last_one(
    start_worker: Callable[[], Worker],
    mail_server: MailServer,
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
) -> None:
    mail_server.refuse_first = 1000
    worker = start_worker()

    raise_proposals(1, recipient=partner_officer, initiator=almaty_city, partner=bishkek_city)

    wait_until(
        lambda: Message.objects.filter(status=Message.Status.FAILED).exists(),
        what=f"the message to fail\n{worker.log}",
    )
    message = Message.objects.get()
    assert message.attempts == 4  # NOTIFICATIONS_MAX_ATTEMPTS for the test worker
    assert "451" in message.last_error
    assert "Mailbox busy" in message.last_error
    assert sum(mail_server.attempts.values()) == 4
    assert mail_server.messages() == []


def test_a_worker_killed_in_the_middle_of_sending_loses_nothing_and_doubles_nothing(
    start_worker: Callable[[], Worker],
    mail_server: MailServer,
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
    settings: SettingsWrapper,
) -> None:
    mail_server.hold_sessions = 2  # the first two SMTP conversations hang at RCPT
    first = start_worker()
    raise_proposals(10, recipient=partner_officer, initiator=almaty_city, partner=bishkek_city)
    wait_until(lambda: mail_server.held == 2, what=f"two sends in progress\n{first.log}")

    first.kill()  # SIGKILL, the main process and its pool children

    in_flight = Message.objects.filter(status=Message.Status.SENDING)
    assert in_flight.count() == 2
    assert mail_server.messages() == []
    mail_server.release.set()

    second = start_worker()
    mail_server.wait_for(8)
    wait_until(all_sent(8), what=f"the 8 waiting messages sent\n{second.log}")
    assert in_flight.count() == 2, "nothing but the sweeper may take a claimed message back"

    # The sweeper takes back what has been in flight longer than any live worker may take.
    settings.NOTIFICATIONS_STALLED_AFTER = 0
    report = tasks.sweep_outbox()

    assert report["taken_back"] == 2
    mail_server.wait_for(10)
    wait_until(all_sent(10), what=f"all 10 messages sent\n{second.log}")
    settle()
    arrived = arrivals(mail_server)
    assert len(arrived) == 10
    assert set(arrived.values()) == {1}, "a message arrived twice"


def test_a_send_task_delivered_many_times_to_a_worker_sends_one_email(
    start_worker: Callable[[], Worker],
    mail_server: MailServer,
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
) -> None:
    worker = start_worker()
    raise_proposals(1, recipient=partner_officer, initiator=almaty_city, partner=bishkek_city)
    message = Message.objects.get()

    for _ in range(19):  # the broker redelivers, the sweeper re-enqueues...
        tasks.send_message.delay(message.pk)

    wait_until(all_sent(1), what=f"the message sent\n{worker.log}")
    wait_until(lambda: queue_length() == 0, what="the queue drained")
    settle()
    assert len(mail_server.messages()) == 1
    assert sum(mail_server.attempts.values()) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_a_digest_subscriber_receives_one_email_summarising_several_events_in_their_language(
    start_worker: Callable[[], Worker],
    mail_server: MailServer,
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
) -> None:
    partner_officer.language = "ru"
    partner_officer.save()
    save_preferences(user=partner_officer, delivery=Preference.Delivery.DAILY_DIGEST, muted_events=[])
    context = agreement_context(almaty_city, bishkek_city)
    worker = start_worker()
    with transaction.atomic():
        for event in (agreement_events.PROPOSED, agreement_events.SIGNED, agreement_events.EXPIRING_90):
            notify(event=event, recipients=[partner_officer], context=context, occurrence="agreement:17:1")
    time.sleep(1)
    assert mail_server.messages() == [], "a digest subscriber gets nothing until the digest"

    tasks.send_daily_digests.delay()  # what Celery beat runs once a day

    [digest] = mail_server.wait_for(1)
    wait_until(all_sent(1), what=f"the digest marked sent\n{worker.log}")
    settle()
    assert len(mail_server.messages()) == 1
    assert str(digest["Subject"]).strip() == "Ваша ежедневная сводка: 3 события"
    assert digest["Content-Language"] == "ru"
    text = digest.get_body(("plain",))
    html = digest.get_body(("html",))
    assert text is not None and html is not None
    for subject in (
        "Предложение о партнёрстве от Алматы: Almaty and Bishkek: clean air",
        "Партнёрство подписано: Almaty and Bishkek: clean air",
        "Партнёрство истекает через 90 дней: Almaty and Bishkek: clean air",
    ):
        assert subject in text.get_content()
        assert subject in html.get_content()
    assert set(Message.objects.exclude(event=events.DAILY_DIGEST).values_list("status", flat=True)) == {
        Message.Status.DIGESTED
    }
