"""notify(): one outbox row per person, in the caller's transaction, in the person's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.test import Client
from kombu.exceptions import OperationalError

from accounts.models import User
from cities import events as city_events
from cities.models import City
from notifications import events, tasks
from notifications.models import Message, Preference
from notifications.services import notify, save_preferences
from partnerships import events as agreement_events
from practices import events as practice_events
from tests.factories import UserFactory
from tests.notifications.stand_ins import Suggestion, agreement_context, practice_context

SITE = "http://127.0.0.1:8000"


def test_proposal_writes_one_queued_message_per_partner_officer_with_the_link_to_act(
    officer: User, partner_officer: User, almaty_city: City, bishkek_city: City
) -> None:
    second_officer = UserFactory.create(role=User.Role.OFFICER, city=bishkek_city)

    created = notify(
        event=agreement_events.PROPOSED,
        recipients=[partner_officer, second_officer],
        context=agreement_context(almaty_city, bishkek_city, actor=officer),
        occurrence="agreement:17:transition:1",
    )

    assert {message.recipient for message in created} == {partner_officer, second_officer}
    message = Message.objects.get(recipient=partner_officer)
    assert message.status == Message.Status.QUEUED
    assert message.email == partner_officer.email
    assert message.subject == "Partnership proposal from Almaty: Almaty and Bishkek: clean air"
    assert "Almaty proposes a partnership to Bishkek." in message.text_body
    assert f"{SITE}/partnerships/17/" in message.text_body
    assert f'href="{SITE}/partnerships/17/"' in message.html_body
    assert message.action_url == f"{SITE}/partnerships/17/"
    assert "By: Municipal officer" in message.text_body  # who acted: by role, not by login name


def test_the_same_event_raised_twice_makes_one_message(
    partner_officer: User, almaty_city: City, bishkek_city: City
) -> None:
    arguments: dict[str, Any] = {
        "event": agreement_events.PROPOSED,
        "recipients": [partner_officer],
        "context": agreement_context(almaty_city, bishkek_city),
        "occurrence": "agreement:17:transition:1",
    }

    first = notify(**arguments)
    second = notify(**arguments)

    assert len(first) == 1
    assert second == []
    assert Message.objects.count() == 1


def test_a_person_listed_twice_gets_one_message(partner_officer: User, almaty_city: City, bishkek_city: City) -> None:
    notify(
        event=agreement_events.SIGNED,
        recipients=[partner_officer, partner_officer],
        context=agreement_context(almaty_city, bishkek_city),
        occurrence="agreement:17:transition:9",
    )

    assert Message.objects.count() == 1


def test_another_occurrence_of_the_same_event_is_another_message(
    partner_officer: User, almaty_city: City, bishkek_city: City
) -> None:
    for occurrence in ("agreement:17:transition:1", "agreement:17:transition:5"):
        notify(
            event=agreement_events.PROPOSED,
            recipients=[partner_officer],
            context=agreement_context(almaty_city, bishkek_city),
            occurrence=occurrence,
        )

    assert Message.objects.count() == 2


def test_the_database_itself_refuses_a_second_message_with_the_same_dedupe_key(
    partner_officer: User, almaty_city: City, bishkek_city: City
) -> None:
    [message] = notify(
        event=agreement_events.PROPOSED,
        recipients=[partner_officer],
        context=agreement_context(almaty_city, bishkek_city),
        occurrence="agreement:17:transition:1",
    )
    message.pk = None

    with pytest.raises(IntegrityError), transaction.atomic():
        message.save(force_insert=True)


def test_a_duplicate_leaves_the_callers_transaction_usable(
    partner_officer: User, almaty_city: City, bishkek_city: City
) -> None:
    arguments: dict[str, Any] = {
        "event": agreement_events.PROPOSED,
        "recipients": [partner_officer],
        "context": agreement_context(almaty_city, bishkek_city),
        "occurrence": "agreement:17:transition:1",
    }
    with transaction.atomic():
        notify(**arguments)
        notify(**arguments)
        assert City.objects.filter(pk=almaty_city.pk).exists()

    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("language", "subject", "phrase"),
    [
        (
            "ru",
            "Предложение о партнёрстве от Алматы: Almaty and Bishkek: clean air",
            "Алматы предлагает партнёрство",
        ),
        (
            "zh-hans",
            "来自阿拉木图的合作伙伴关系提议：Almaty and Bishkek: clean air",
            "阿拉木图向比什凯克提议建立伙伴关系",
        ),
    ],
)
def test_message_is_written_in_the_recipients_language_with_city_names_in_their_script(
    partner_officer: User, almaty_city: City, bishkek_city: City, language: str, subject: str, phrase: str
) -> None:
    partner_officer.language = language
    partner_officer.save()

    [message] = notify(
        event=agreement_events.PROPOSED,
        recipients=[partner_officer],
        context=agreement_context(almaty_city, bishkek_city),
        occurrence="agreement:17:transition:1",
    )

    assert message.language == language
    assert message.subject == subject
    assert phrase in message.text_body
    assert phrase in message.html_body
    assert f'<html lang="{language}">' in message.html_body


def all_contexts(almaty_city: City, bishkek_city: City) -> dict[str, dict[str, object]]:
    contexts: dict[str, dict[str, object]] = {}
    for event in events.registered():
        if event.name.startswith("agreement_"):
            contexts[event.name] = agreement_context(almaty_city, bishkek_city)
        elif event.name.startswith("practice_"):
            contexts[event.name] = practice_context(almaty_city, comment="Please add the costs.")
    contexts[city_events.PARTNER_SUGGESTIONS] = {
        "city": almaty_city,
        "suggestions": [Suggestion(city=bishkek_city, reasons=["900 km apart"])],
    }
    return contexts


@pytest.mark.parametrize("language", ["en", "ru", "zh-hans"])
def test_every_event_has_a_subject_text_and_html_in_every_language(
    partner_officer: User, almaty_city: City, bishkek_city: City, language: str
) -> None:
    partner_officer.language = language
    partner_officer.save()
    english: dict[str, str] = {}

    for event, context in all_contexts(almaty_city, bishkek_city).items():
        [message] = notify(event=event, recipients=[partner_officer], context=context, occurrence=f"{language}:1")
        assert message.subject, event
        assert message.action_url.startswith(SITE), event
        assert message.action_url in message.text_body, event
        assert f"{SITE}/notifications/preferences/" in message.text_body, event
        assert f'href="{SITE}/notifications/preferences/"' in message.html_body, event
        assert "{%" not in message.text_body + message.html_body, event
        english[event] = message.subject

    if language != "en":
        with mock.patch.object(partner_officer, "language", "en"):
            for event, context in all_contexts(almaty_city, bishkek_city).items():
                [message] = notify(event=event, recipients=[partner_officer], context=context, occurrence="en:1")
                assert message.subject != english[event], f"{event} has no {language} subject"


def test_plain_text_is_not_html_escaped_and_html_is(
    partner_officer: User, almaty_city: City, bishkek_city: City
) -> None:
    context = agreement_context(almaty_city, bishkek_city, title="Water & <waste>")

    [message] = notify(
        event=agreement_events.SIGNED, recipients=[partner_officer], context=context, occurrence="agreement:17:t:9"
    )

    assert message.subject == "Partnership signed: Water & <waste>"
    assert "Water & <waste>" in message.text_body
    assert "Water &amp; &lt;waste&gt;" in message.html_body
    assert "<waste>" not in message.html_body


def test_partner_suggestions_list_each_city_with_its_reasons(
    officer: User, almaty_city: City, bishkek_city: City
) -> None:
    context = {
        "city": almaty_city,
        "suggestions": [Suggestion(city=bishkek_city, reasons=["Needs waste management", "900 km apart"])],
    }

    [message] = notify(
        event=city_events.PARTNER_SUGGESTIONS, recipients=[officer], context=context, occurrence="week:48"
    )

    assert message.subject == "New partner suggestions for Almaty"
    assert "Bishkek (Kyrgyzstan)" in message.text_body
    assert "Needs waste management" in message.html_body
    assert message.action_url == f"{SITE}/cities/{almaty_city.pk}/"


def test_inactive_people_and_people_without_an_address_get_no_message(
    partner_officer: User, bishkek_city: City, almaty_city: City
) -> None:
    inactive = UserFactory.create(role=User.Role.OFFICER, city=bishkek_city, is_active=False)
    without_address = UserFactory.create(role=User.Role.OFFICER, city=bishkek_city, email="")

    created = notify(
        event=agreement_events.PROPOSED,
        recipients=[partner_officer, inactive, without_address],
        context=agreement_context(almaty_city, bishkek_city),
        occurrence="agreement:17:transition:1",
    )

    assert [message.recipient for message in created] == [partner_officer]


def test_people_who_turned_off_an_optional_email_get_no_message_of_that_kind(
    partner_officer: User, almaty_city: City, bishkek_city: City
) -> None:
    save_preferences(
        user=partner_officer,
        delivery=Preference.Delivery.IMMEDIATE,
        muted_events=[agreement_events.SIGNED, agreement_events.PROPOSED],
    )
    context = agreement_context(almaty_city, bishkek_city)

    signed = notify(event=agreement_events.SIGNED, recipients=[partner_officer], context=context, occurrence="a:1")
    proposed = notify(event=agreement_events.PROPOSED, recipients=[partner_officer], context=context, occurrence="a:2")

    assert signed == []
    assert len(proposed) == 1, "an e-mail that asks the person to act cannot be turned off"


def test_only_emails_that_ask_nothing_of_the_person_are_optional() -> None:
    assert not events.is_optional(agreement_events.PROPOSED)
    assert not events.is_optional(practice_events.SUBMITTED)
    assert not events.is_optional(agreement_events.ACCEPTED)
    assert events.is_optional(city_events.PARTNER_SUGGESTIONS)
    assert events.is_optional(agreement_events.SIGNED)


def test_a_digest_subscribers_message_is_held_and_not_enqueued(
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    save_preferences(user=partner_officer, delivery=Preference.Delivery.DAILY_DIGEST, muted_events=[])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        [message] = notify(
            event=agreement_events.PROPOSED,
            recipients=[partner_officer],
            context=agreement_context(almaty_city, bishkek_city),
            occurrence="agreement:17:transition:1",
        )

    assert callbacks == []
    assert message.status == Message.Status.HELD
    assert mail.outbox == []


def test_message_is_sent_once_the_event_commits(
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(
            event=agreement_events.PROPOSED,
            recipients=[partner_officer],
            context=agreement_context(almaty_city, bishkek_city),
            occurrence="agreement:17:transition:1",
        )
        assert mail.outbox == [], "nothing is sent before the commit"

    [sent] = mail.outbox
    assert isinstance(sent, EmailMultiAlternatives)
    assert sent.to == [partner_officer.email]
    assert sent.subject == "Partnership proposal from Almaty: Almaty and Bishkek: clean air"
    assert sent.alternatives[0][1] == "text/html"
    message = Message.objects.get()
    assert message.status == Message.Status.SENT
    assert message.sent_at is not None
    assert sent.extra_headers["Message-ID"] == f"<{message.dedupe_key}@127.0.0.1>"


def test_an_event_rolled_back_leaves_no_message_and_sends_nothing(
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        notify(
            event=agreement_events.PROPOSED,
            recipients=[partner_officer],
            context=agreement_context(almaty_city, bishkek_city),
            occurrence="agreement:17:transition:1",
        )
        raise RuntimeError("the transition failed")

    assert Message.objects.count() == 0
    assert mail.outbox == []


def test_a_broker_error_at_commit_is_logged_and_the_message_waits_for_the_sweeper(
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
    django_capture_on_commit_callbacks: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with (
        mock.patch.object(tasks.send_message, "apply_async", side_effect=refused),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notify(
            event=agreement_events.PROPOSED,
            recipients=[partner_officer],
            context=agreement_context(almaty_city, bishkek_city),
            occurrence="agreement:17:transition:1",
        )

    assert Message.objects.get().status == Message.Status.QUEUED
    assert "left for the outbox sweeper" in caplog.text


def test_unknown_event_is_refused(partner_officer: User) -> None:
    with pytest.raises(ValueError):
        notify(event="agreement_teleported", recipients=[partner_officer], context={}, occurrence="x")


def test_preferences_link_in_an_email_opens_the_preferences_page(
    partner_officer: User, almaty_city: City, bishkek_city: City
) -> None:
    [message] = notify(
        event=agreement_events.PROPOSED,
        recipients=[partner_officer],
        context=agreement_context(almaty_city, bishkek_city),
        occurrence="agreement:17:transition:1",
    )
    link = next(line for line in message.text_body.splitlines() if "/notifications/preferences/" in line)
    client = Client()
    client.force_login(partner_officer)

    response = client.get(link.strip().removeprefix(SITE))

    assert response.status_code == 200
    assert "E-mail preferences" in response.content.decode()
