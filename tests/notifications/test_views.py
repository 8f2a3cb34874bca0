"""The preferences page every e-mail links to, and the staff's view of the outbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core import mail
from django.test import Client

from accounts.models import User
from cities import events as city_events
from notifications import events
from notifications.models import Message, Preference
from partnerships import events as agreement_events
from tests.conftest import login
from tests.factories import MessageFactory

Capture = Callable[..., Any]
PREFERENCES = "/notifications/preferences/"
OUTBOX = "/notifications/outbox/"


def test_preferences_page_asks_a_visitor_to_log_in_first(client: Client) -> None:
    response = client.get(PREFERENCES)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def ticked(html: str, value: str) -> bool:
    """Whether the radio button or checkbox with this value is ticked."""
    match = re.search(rf'<input [^>]*value="{value}"[^>]*>', html)
    assert match, f"no input for {value}"
    return " checked" in match.group(0)


def test_preferences_page_starts_with_every_email_at_once(officer: User) -> None:
    html = login(officer).get(PREFERENCES).content.decode()

    assert ticked(html, "immediate")
    assert not ticked(html, "daily_digest")
    assert all(ticked(html, event.name) for event in events.optional_events())
    assert "A partnership is proposed to your city" in html  # listed as always sent
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html


def test_a_person_chooses_the_daily_digest_and_turns_off_an_optional_email(officer: User) -> None:
    kept = [event.name for event in events.optional_events() if event.name != city_events.PARTNER_SUGGESTIONS]
    client = login(officer)

    response = client.post(PREFERENCES, {"delivery": "daily_digest", "events": kept}, follow=True)

    assert "Your e-mail preferences are saved." in response.content.decode()
    preference = Preference.objects.get(user=officer)
    assert preference.delivery == Preference.Delivery.DAILY_DIGEST
    assert preference.muted_events == [city_events.PARTNER_SUGGESTIONS]
    html = client.get(PREFERENCES).content.decode()
    assert ticked(html, "daily_digest")
    assert not ticked(html, city_events.PARTNER_SUGGESTIONS)
    assert ticked(html, agreement_events.SIGNED)


def test_an_email_that_asks_for_action_cannot_be_turned_off(officer: User) -> None:
    response = login(officer).post(PREFERENCES, {"delivery": "immediate", "events": [agreement_events.PROPOSED]})

    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
    assert not Preference.objects.filter(user=officer).exists()


def test_preferences_page_speaks_the_readers_language(officer: User) -> None:
    client = login(officer)
    client.post("/i18n/setlang/", {"language": "ru", "next": PREFERENCES})

    html = client.get(PREFERENCES).content.decode()

    assert "<h1>Настройки писем</h1>" in html
    assert "Одна ежедневная сводка" in html
    assert "Новые предложения партнёров для вашего города" in html


def test_staff_see_counts_by_status_and_each_failed_message_with_its_error(staff: User, officer: User) -> None:
    MessageFactory.create_batch(3, recipient=officer, status=Message.Status.SENT, sent_at="2026-11-27T10:00:00Z")
    MessageFactory.create(recipient=officer, status=Message.Status.FAILED, last_error="SMTPDataError: (451, 'busy')")

    html = login(staff).get(OUTBOX).content.decode()

    assert '<td>sent</td><td class="number">3</td>' in html
    assert '<td>failed</td><td class="number">1</td>' in html
    assert "SMTPDataError: (451, &#x27;busy&#x27;)" in html
    assert officer.email in html


def test_the_outbox_does_not_exist_for_anyone_but_staff(outsider: User, client: Client) -> None:
    MessageFactory.create(status=Message.Status.FAILED, last_error="boom")

    assert login(outsider).get(OUTBOX).status_code == 404
    assert login(outsider).post("/notifications/outbox/retry/", {"all": "1"}).status_code == 404
    assert client.get(OUTBOX).status_code == 302
    assert Message.objects.get().status == Message.Status.FAILED


def test_staff_retry_sends_a_failed_message_again(
    staff: User, officer: User, django_capture_on_commit_callbacks: Capture
) -> None:
    failed = MessageFactory.create(recipient=officer, status=Message.Status.FAILED, attempts=8, last_error="boom")
    other = MessageFactory.create(recipient=officer, status=Message.Status.FAILED, attempts=8, last_error="boom")

    with django_capture_on_commit_callbacks(execute=True):
        response = login(staff).post("/notifications/outbox/retry/", {"message": [failed.pk]}, follow=True)

    assert "1 message is queued again." in response.content.decode()
    failed.refresh_from_db()
    other.refresh_from_db()
    assert (failed.status, failed.attempts) == (Message.Status.SENT, 1)
    assert other.status == Message.Status.FAILED
    assert [email.to for email in mail.outbox] == [[officer.email]]


def test_staff_retry_all_sends_every_failed_message_again(
    staff: User, officer: User, django_capture_on_commit_callbacks: Capture
) -> None:
    MessageFactory.create_batch(3, recipient=officer, status=Message.Status.FAILED, attempts=8)

    with django_capture_on_commit_callbacks(execute=True):
        response = login(staff).post("/notifications/outbox/retry/", {"all": "1"}, follow=True)

    assert "3 messages are queued again." in response.content.decode()
    assert len(mail.outbox) == 3


def test_admin_action_sends_failed_messages_again(
    staff: User, officer: User, django_capture_on_commit_callbacks: Capture
) -> None:
    failed = MessageFactory.create(recipient=officer, status=Message.Status.FAILED, attempts=8)
    client = login(staff)

    assert client.get("/admin/notifications/message/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/notifications/message/",
            {"action": "retry", "_selected_action": [failed.pk]},
        )

    failed.refresh_from_db()
    assert failed.status == Message.Status.SENT
    assert len(mail.outbox) == 1


def test_a_retry_of_ids_that_are_no_ids_retries_nothing_and_answers(staff: User) -> None:
    # Found by fuzzing: "²" passed str.isdigit() and int() refused it (a 500).
    failed = MessageFactory.create(status=Message.Status.FAILED, last_error="boom")
    response = login(staff).post("/notifications/outbox/retry/", {"message": ["²", "99999999999999999999"]})
    assert response.status_code == 302
    assert Message.objects.get(pk=failed.pk).status == Message.Status.FAILED
