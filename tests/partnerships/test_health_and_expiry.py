from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from partnerships.models import Agreement
from partnerships.services import expire_due_agreements, send_expiry_reminders
from tests.conftest import login

TODAY = timezone.localdate()


def days_ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


def is_dormant(agreement: Agreement, today: datetime.date | None = None) -> bool:
    return bool(Agreement.objects.with_health(today=today).get(pk=agreement.pk).is_dormant)  # type: ignore[attr-defined]  # annotated by with_health()


def test_agreement_goes_dormant_after_twelve_months_without_activity(
    agreement_in: Callable[..., Agreement],
) -> None:
    agreement = agreement_in("active", signed_on=days_ago(300))

    assert not is_dormant(agreement)
    # Travel three months ahead: fifteen months since signing, nothing logged.
    assert is_dormant(agreement, today=TODAY + datetime.timedelta(days=90))


def test_dormant_flag_shows_in_api_page_and_lists_and_goes_when_activity_is_logged(
    agreement_in: Callable[..., Agreement], officer: User, coordinator: User
) -> None:
    agreement = agreement_in("active", signed_on=days_ago(400))
    api = APIClient()
    api.force_authenticate(officer)

    assert api.get(f"/api/v1/agreements/{agreement.pk}/").json()["is_dormant"] is True
    assert "dormant" in login(officer).get(agreement.get_absolute_url()).content.decode()
    assert agreement.title in login(coordinator).get("/agreements/", {"dormant": "true"}).content.decode()

    response = api.post(
        f"/api/v1/agreements/{agreement.pk}/activities/",
        {"date": TODAY.isoformat(), "kind": "visit", "description": "Mayors' visit to Bishkek"},
        format="json",
    )

    assert response.status_code == 201
    body = api.get(f"/api/v1/agreements/{agreement.pk}/").json()
    assert (body["is_dormant"], body["last_activity_on"]) == (False, TODAY.isoformat())
    assert agreement.title not in login(coordinator).get("/agreements/", {"dormant": "true"}).content.decode()


def test_old_activity_does_not_keep_an_agreement_alive(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("active", signed_on=days_ago(900))
    agreement.activities.create(date=days_ago(500), kind="exchange", description="Student exchange", author=officer)

    assert is_dormant(agreement)


def test_only_the_two_cities_officers_log_activity(
    agreement_in: Callable[..., Agreement], outsider: User, coordinator: User
) -> None:
    agreement = agreement_in("active", signed_on=days_ago(10))
    for person in (outsider, coordinator):
        api = APIClient()
        api.force_authenticate(person)
        response = api.post(
            f"/api/v1/agreements/{agreement.pk}/activities/",
            {"date": TODAY.isoformat(), "kind": "visit", "description": "x"},
            format="json",
        )
        assert response.status_code == 403
    assert not agreement.activities.exists()


def test_agreements_expire_at_the_end_of_their_term_once(agreement_in: Callable[..., Agreement]) -> None:
    ended = agreement_in("active", signed_on=days_ago(3000), end_date=days_ago(1))

    assert expire_due_agreements() == 1
    assert expire_due_agreements() == 0

    ended.refresh_from_db()
    assert ended.status == Agreement.Status.EXPIRED
    assert list(ended.transitions.values_list("move", "actor")) == [("expire", None)]


def test_agreement_ending_today_is_not_yet_expired(agreement_in: Callable[..., Agreement]) -> None:
    agreement_in("active", signed_on=days_ago(3000), end_date=TODAY)

    assert expire_due_agreements() == 0


def test_reminders_go_90_and_30_days_before_the_end(
    agreement_in: Callable[..., Agreement],
    officer: User,
    partner_officer: User,
    sent_notifications: list[dict[str, Any]],
) -> None:
    agreement = agreement_in("active", signed_on=days_ago(3000), end_date=TODAY + datetime.timedelta(days=75))

    send_expiry_reminders()
    send_expiry_reminders(today=TODAY + datetime.timedelta(days=50))

    assert [(call["event"], call["recipients"]) for call in sent_notifications] == [
        ("agreement_expiring_90", ["officer.almaty", "officer.bishkek"]),
        ("agreement_expiring_30", ["officer.almaty", "officer.bishkek"]),
    ]
    assert sent_notifications[0]["occurrence"] == f"agreement:{agreement.pk}:expiring:{agreement.end_date}:90"


def test_agreement_page_shows_the_timeline(
    agreement_in: Callable[..., Agreement], officer: User, partner_officer: User, client: Client
) -> None:
    agreement = agreement_in("proposed")
    api = APIClient()
    api.force_authenticate(partner_officer)
    api.post(f"/api/v1/agreements/{agreement.pk}/accept/", {"comment": "We look forward to it"}, format="json")

    html = login(officer).get(agreement.get_absolute_url()).content.decode()

    assert "Proposed → Under review" in html
    assert "We look forward to it" in html
    assert "(Municipal officer)" in html and "officer.bishkek" not in html
