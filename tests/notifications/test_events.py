"""The outbox knows no domain word: the apps register their events, and a new one needs nothing here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.models import User
from notifications import events
from notifications.services import notify

NOTIFICATIONS = Path(__file__).resolve().parents[2] / "notifications"
DOMAIN_WORDS = re.compile(r"agreement|practice|partnership", re.IGNORECASE)


def test_no_agreement_or_practice_word_in_the_notifications_app() -> None:
    offending = [
        f"{path.relative_to(NOTIFICATIONS)}:{number}: {line.strip()}"
        for path in NOTIFICATIONS.rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if DOMAIN_WORDS.search(line)
    ]
    assert offending == []


def test_each_app_registers_its_own_events() -> None:
    templates = {event.name: event.templates for event in events.registered()}

    assert templates["agreement_proposed"] == "partnerships/email/agreement_proposed"
    assert templates["practice_submitted"] == "practices/email/practice_submitted"
    assert templates["partner_suggestions"] == "cities/email/partner_suggestions"
    assert templates["daily_digest"] == "notifications/email/daily_digest"


def test_a_new_event_is_delivered_without_any_change_to_notifications(
    officer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "_REGISTRY", dict(events._REGISTRY))  # forgotten after this test
    # The digest's templates stand in for a new app's own; no migration, no choice list to extend.
    name = events.register(
        "test_new_event",
        label="A new kind of e-mail",
        optional=True,
        templates="notifications/email/daily_digest",
    )

    [message] = notify(event=name, recipients=[officer], context={"items": [], "count": 0}, occurrence="new:1")

    assert message.event == "test_new_event"
    assert message.event_label == "A new kind of e-mail"
    assert events.is_optional("test_new_event")


def test_an_unregistered_event_is_refused(officer: User) -> None:
    with pytest.raises(ValueError, match="not a registered e-mail event"):
        notify(event="agreement_teleported", recipients=[officer], context={}, occurrence="x:1")


def test_one_name_cannot_be_registered_twice_differently() -> None:
    with pytest.raises(ImproperlyConfigured):
        events.register("daily_digest", label="Something else", optional=True, templates="elsewhere")
