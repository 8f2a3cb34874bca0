"""Password guessing is slowed to a crawl, a forgotten password is reset by e-mail, and others see a
person by name and role, never by the login name."""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from notifications.models import Message, Preference
from tests.conftest import PASSWORD

LOCKED = "This account is locked for 15 minutes"


def attempt(client: Client, username: str, password: str, address: str = "203.0.113.7") -> tuple[int, str]:
    response = client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)
    return response.status_code, response.content.decode()


def test_fifth_wrong_password_locks_the_account_until_the_lock_expires(officer: User) -> None:
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        answers = [attempt(client, officer.username, f"wrong-{n}") for n in range(30)]
        for n, (status, body) in enumerate(answers[:4], start=1):
            assert status == 200 and LOCKED not in body, n
        for n, (status, body) in enumerate(answers[4:], start=5):
            assert status == 429 and LOCKED in body, n
        # Locked means locked: the right password is refused too.
        assert attempt(client, officer.username, PASSWORD)[0] == 429
    with time_machine.travel(start + datetime.timedelta(minutes=14), tick=False):
        assert attempt(client, officer.username, PASSWORD)[0] == 429
    with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
        status, _body = attempt(client, officer.username, PASSWORD)
        assert status == 302
        assert client.get("/notifications/preferences/").status_code == 200


def test_lock_holds_only_the_username_and_address_pair(officer: User, partner_officer: User) -> None:
    client = Client()
    for n in range(5):
        attempt(client, officer.username, f"wrong-{n}")
    # The same person from another address, and another person from this one, still log in.
    assert attempt(Client(), officer.username, PASSWORD, address="198.51.100.2")[0] == 302
    assert attempt(Client(), partner_officer.username, PASSWORD)[0] == 302


def test_lock_message_is_translated(officer: User) -> None:
    client = Client()
    for n in range(5):
        _status, _body = attempt(client, officer.username, f"wrong-{n}")
    client.cookies["django_language"] = "ru"
    response = client.post(
        "/accounts/login/", {"username": officer.username, "password": "x"}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 429
    assert "заблокирована" in response.content.decode()


def test_failures_are_logged(officer: User, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="axes"):
        attempt(Client(), officer.username, "wrong")
    assert any("failure" in record.getMessage().lower() for record in caplog.records)


def test_staff_unlock_in_the_admin(officer: User, staff: User) -> None:
    from axes.models import AccessAttempt

    for n in range(5):
        attempt(Client(), officer.username, f"wrong-{n}")
    attempt_row = AccessAttempt.objects.get(username=officer.username)
    admin = Client()
    admin.force_login(staff)
    response = admin.post(f"/admin/axes/accessattempt/{attempt_row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert attempt(Client(), officer.username, PASSWORD)[0] == 302


def test_password_reset_goes_through_the_outbox_and_sets_a_new_password(
    officer: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    # Even a daily-digest subscriber gets the link at once: it expires.
    Preference.objects.create(user=officer, delivery=Preference.Delivery.DAILY_DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/password_reset/", {"email": officer.email})
    assert response.status_code == 302
    message = Message.objects.get(recipient=officer, event="password_reset")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [officer.email]
    link = re.search(r"http://\S+/accounts/reset/\S+/", message.text_body)
    assert link is not None
    client = Client()
    form = client.get(link.group(0).replace("http://127.0.0.1:8000", ""), follow=True)
    assert form.status_code == 200
    new_password = "a-brand-new-long-password"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password(new_password)


def test_password_reset_for_an_unknown_address_sends_nothing(db: None) -> None:
    response = Client().post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert not Message.objects.exists() and not mail.outbox


def test_pages_and_api_show_a_person_by_name_and_role_not_login(officer: User, partner_officer: User) -> None:
    from partnerships.models import Agreement
    from tests.factories import AgreementFactory

    officer.first_name, officer.last_name = "Aigerim", "Sadykova"
    officer.save()
    agreement = AgreementFactory.create(initiator=officer.city, partner=partner_officer.city, status="active")
    agreement.transitions.create(move="create", from_status="", to_status="draft", actor=officer)
    assert agreement.status == Agreement.Status.ACTIVE
    page = Client().get(f"/agreements/{agreement.pk}/").content.decode()
    api = Client().get(f"/api/v1/agreements/{agreement.pk}/").json()
    assert "Aigerim Sadykova (Municipal officer)" in page
    assert api["transitions"][0]["actor"] == {"name": "Aigerim Sadykova", "role": "officer"}
    assert officer.username not in page and officer.username not in str(api)
