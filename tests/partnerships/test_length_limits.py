"""Over-long texts are refused with a message naming the field, in the API and on the pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from partnerships.forms import COMMENT_MAX_LENGTH, SUMMARY_MAX_LENGTH
from partnerships.models import Agreement
from tests.conftest import field_error, login


def api_as(user: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_limits_are_the_documented_ones() -> None:
    assert (SUMMARY_MAX_LENGTH, COMMENT_MAX_LENGTH) == (5000, 2000)


def draft(bishkek_city: City, almaty_city: City, **fields: object) -> dict[str, object]:
    return {"initiator": almaty_city.pk, "partner": bishkek_city.pk, "title": "Almaty – Bishkek", **fields}


def test_api_draft_with_a_summary_at_the_limit_is_accepted(
    officer: User, almaty_city: City, bishkek_city: City
) -> None:
    response = api_as(officer).post(
        "/api/v1/agreements/", draft(bishkek_city, almaty_city, summary="s" * SUMMARY_MAX_LENGTH), format="json"
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("summary", "s" * 5001, "Ensure this field has no more than 5000 characters."),
        ("title", "t" * 201, "Ensure this field has no more than 200 characters."),
    ],
)
def test_api_draft_with_an_over_long_text_is_a_400_naming_the_field(
    officer: User, almaty_city: City, bishkek_city: City, field: str, value: str, message: str
) -> None:
    response = api_as(officer).post(
        "/api/v1/agreements/", draft(bishkek_city, almaty_city, **{field: value}), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not Agreement.objects.exists()


def test_api_patch_with_an_over_long_summary_is_a_400_and_keeps_the_draft(
    officer: User, agreement_in: Callable[..., Agreement]
) -> None:
    agreement = agreement_in("draft", summary="Transit and water.")

    response = api_as(officer).patch(f"/api/v1/agreements/{agreement.pk}/", {"summary": "s" * 5001}, format="json")

    assert response.status_code == 400
    assert response.json() == {"summary": ["Ensure this field has no more than 5000 characters."]}
    agreement.refresh_from_db()
    assert agreement.summary == "Transit and water."


@pytest.mark.parametrize(("move", "status"), [("terminate", "active"), ("propose", "draft")])
def test_api_move_with_an_over_long_comment_is_a_400_and_moves_nothing(
    officer: User, agreement_in: Callable[..., Agreement], move: str, status: str
) -> None:
    agreement = agreement_in(status)

    response = api_as(officer).post(
        f"/api/v1/agreements/{agreement.pk}/{move}/", {"comment": "c" * 2001}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"comment": ["Ensure this field has no more than 2000 characters."]}
    agreement.refresh_from_db()
    assert agreement.status == status


def test_api_activity_with_an_over_long_description_is_a_400_naming_the_field(
    officer: User, agreement_in: Callable[..., Agreement]
) -> None:
    agreement = agreement_in("active")

    response = api_as(officer).post(
        f"/api/v1/agreements/{agreement.pk}/activities/",
        {"date": timezone.localdate().isoformat(), "kind": "visit", "description": "d" * 301},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"description": ["Ensure this field has no more than 300 characters."]}
    assert not agreement.activities.exists()


def test_page_draft_with_an_over_long_summary_is_a_form_error_on_the_summary(officer: User, bishkek_city: City) -> None:
    response = login(officer).post(
        f"/agreements/new/{bishkek_city.pk}/", {"kind": "sister_city", "title": "Again", "summary": "s" * 5001}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "summary": ["Ensure this value has at most 5000 characters (it has 5001)."]
    }
    assert 'maxlength="5000"' in response.content.decode()
    assert not Agreement.objects.exists()


def test_page_terminate_with_an_over_long_reason_says_so_and_keeps_the_agreement_active(
    officer: User, agreement_in: Callable[..., Agreement]
) -> None:
    agreement = agreement_in("active")

    response = login(officer).post(
        f"/agreements/{agreement.pk}/terminate/",
        {"terminate-comment": "c" * 2001, "terminate-confirm": "on"},
        follow=True,
    )

    html = response.content.decode()
    assert field_error(html, "Reason", "Ensure this value has at most 2000 characters (it has 2001).")
    assert "This field is required" not in html  # the confirmation was given; only the reason is wrong
    agreement.refresh_from_db()
    assert agreement.status == "active"


def test_page_activity_with_an_over_long_description_names_the_field(
    officer: User, agreement_in: Callable[..., Agreement]
) -> None:
    agreement = agreement_in("active")

    response = login(officer).post(
        f"/agreements/{agreement.pk}/activities/",
        {"date": timezone.localdate().isoformat(), "kind": "visit", "description": "d" * 301},
        follow=True,
    )

    assert "“What happened” may be at most 300 characters (it has 301)." in response.content.decode()
    assert not agreement.activities.exists()
