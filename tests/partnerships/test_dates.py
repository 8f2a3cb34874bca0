"""Dates an agreement cannot have: a term outside 1945 to 2100, a signing before 1945, an activity before the
signing (a walk-through saved a term from the year 1 to 9999, a signing in 1990 and an activity in 1980)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from partnerships import services
from partnerships.models import Agreement
from sco_portal.errors import DomainError
from tests.conftest import field_error, login
from tests.partnerships.conftest import pdf


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "2030-12-31"), ("2026-01-01", "9999-12-31"), ("1944-12-31", "")]
)
def test_a_term_outside_1945_to_2100_is_refused_on_the_page_and_in_the_api(
    officer: User, bishkek_city: City, start: str, end: str
) -> None:
    fields = {"kind": "sister_city", "title": "Almaty – Bishkek", "start_date": start, "end_date": end}
    page = login(officer).post(f"/agreements/new/{bishkek_city.pk}/", fields).content.decode()
    assert "A term&#x27;s dates lie between 1945 and 2100." in page
    client = APIClient()
    client.force_login(officer)
    answer = client.post(
        "/api/v1/agreements/",
        {**fields, "initiator": officer.city_id, "partner": bishkek_city.pk, "end_date": end or None},
        format="json",
    )
    assert answer.status_code == 400 and "1945 and 2100" in answer.content.decode()
    assert not Agreement.objects.exists()


def test_a_term_within_the_range_is_kept(officer: User, bishkek_city: City) -> None:
    assert officer.city is not None
    agreement = services.create_draft(
        by=officer,
        initiator=officer.city,
        partner=bishkek_city,
        title="Almaty – Bishkek",
        start_date=datetime.date(1945, 1, 1),
        end_date=datetime.date(2100, 12, 31),
    )
    assert (agreement.start_date.year, agreement.end_date.year) == (1945, 2100)  # type: ignore[union-attr]


def test_a_signing_before_1945_is_refused(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("approved")
    with pytest.raises(DomainError, match="before 1945"):
        agreement.sign(by=officer, signed_on=datetime.date(1944, 12, 31), memorandum=pdf())


def test_an_activity_before_the_signing_is_refused(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("active", signed_on=datetime.date(2024, 5, 1))
    with pytest.raises(DomainError, match="before the agreement was signed"):
        services.log_activity(
            agreement=agreement, by=officer, date=datetime.date(1980, 1, 1), kind="visit", description="A visit"
        )
    services.log_activity(
        agreement=agreement, by=officer, date=datetime.date(2024, 5, 1), kind="visit", description="Day one"
    )


def test_an_activity_refused_on_the_page_comes_back_in_place_with_what_was_typed(
    agreement_in: Callable[..., Agreement], officer: User
) -> None:
    # A redirect lost the description typed, and showed the error in a banner at the page's top.
    agreement = agreement_in("active", signed_on=datetime.date(2024, 5, 1))
    response = login(officer).post(
        f"/agreements/{agreement.pk}/activities/",
        {"date": "1980-01-01", "kind": "visit", "description": "The mayors' visit to Bishkek"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert field_error(html, "Date", "The activity&#x27;s date cannot be before the agreement was signed")
    assert "The mayors&#x27; visit to Bishkek" in html
    assert not agreement.activities.exists()
