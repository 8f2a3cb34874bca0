"""The daily digest: what was held for a person goes out as one e-mail in their language, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core import mail

from accounts.models import User
from cities.models import City
from notifications import events, tasks
from notifications.models import Message, Preference
from notifications.services import notify, save_preferences
from partnerships import events as agreement_events
from practices import events as practice_events
from tests.notifications.stand_ins import agreement_context, practice_context

Capture = Callable[..., Any]


def subscribe_to_digest(user: User, language: str = "en") -> None:
    user.language = language
    user.save()
    save_preferences(user=user, delivery=Preference.Delivery.DAILY_DIGEST, muted_events=[])


def test_a_digest_subscriber_gets_one_email_summarising_several_events_in_their_language(
    partner_officer: User, almaty_city: City, bishkek_city: City, django_capture_on_commit_callbacks: Capture
) -> None:
    subscribe_to_digest(partner_officer, "zh-hans")
    context = agreement_context(almaty_city, bishkek_city)
    for event in (agreement_events.PROPOSED, agreement_events.APPROVED):
        notify(event=event, recipients=[partner_officer], context=context, occurrence="agreement:17:1")
    notify(
        event=practice_events.PUBLISHED,
        recipients=[partner_officer],
        context=practice_context(bishkek_city),
        occurrence="practice:5:1",
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_daily_digests() == 1

    [digest] = mail.outbox
    assert digest.to == [partner_officer.email]
    assert digest.subject == "您的每日摘要：3 条动态"
    assert "自上次摘要以来门户中的动态" in str(digest.body)
    assert "来自阿拉木图的合作伙伴关系提议" in str(digest.body)
    assert "您的实践案例已发布：Bus lanes in a year" in str(digest.body)
    assert "http://127.0.0.1:8000/practices/5/" in str(digest.body)
    held = Message.objects.exclude(event=events.DAILY_DIGEST)
    assert {message.status for message in held} == {Message.Status.DIGESTED}
    assert {message.digest_id for message in held} == {Message.objects.get(event=events.DAILY_DIGEST).pk}


def test_running_the_digest_twice_sends_one_digest(
    partner_officer: User, almaty_city: City, bishkek_city: City, django_capture_on_commit_callbacks: Capture
) -> None:
    subscribe_to_digest(partner_officer)
    notify(
        event=agreement_events.SIGNED,
        recipients=[partner_officer],
        context=agreement_context(almaty_city, bishkek_city),
        occurrence="agreement:17:9",
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.send_daily_digests()
        second = tasks.send_daily_digests()

    assert (first, second) == (1, 0)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Your daily digest: 1 update"


def test_an_event_after_a_digest_waits_for_the_next_one(
    partner_officer: User, almaty_city: City, bishkek_city: City, django_capture_on_commit_callbacks: Capture
) -> None:
    subscribe_to_digest(partner_officer)
    context = agreement_context(almaty_city, bishkek_city)
    for occurrence, event in (("a:1", agreement_events.SIGNED), ("a:2", agreement_events.EXPIRING_90)):
        notify(event=event, recipients=[partner_officer], context=context, occurrence=occurrence)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_daily_digests()

    assert [email.subject for email in mail.outbox] == ["Your daily digest: 1 update"] * 2
    assert "expires in 90 days" in str(mail.outbox[1].body)
    assert "signed" not in str(mail.outbox[1].body)


def test_immediate_subscribers_get_their_email_at_once_and_no_digest(
    officer: User,
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    subscribe_to_digest(partner_officer)

    with django_capture_on_commit_callbacks(execute=True):
        notify(
            event=agreement_events.SIGNED,
            recipients=[officer, partner_officer],
            context=agreement_context(almaty_city, bishkek_city),
            occurrence="agreement:17:9",
        )
    immediate = list(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.send_daily_digests()

    assert [email.to for email in immediate] == [[officer.email]]
    assert [email.to for email in mail.outbox[1:]] == [[partner_officer.email]]
