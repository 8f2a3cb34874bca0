"""The agreement lifecycle as PRODUCT.md draws it, checked both ways: every allowed move works,
and every (move, status) pair outside the table answers 409 with a message that names both."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from partnerships.models import Agreement
from sco_portal.errors import ConflictError
from tests.factories import days_from_today
from tests.partnerships.conftest import pdf_file

# The specification, written out on its own: a change to Agreement.TRANSITIONS that
# is not also made here (and so in PRODUCT.md) fails these tests.
EXPECTED: dict[str, tuple[set[str], str]] = {
    "propose": ({"draft"}, "proposed"),
    "withdraw": ({"draft", "proposed", "under_review"}, "withdrawn"),
    "accept": ({"proposed"}, "under_review"),
    "decline": ({"proposed"}, "declined"),
    "approve": ({"under_review"}, "approved"),
    "reject": ({"under_review"}, "rejected"),
    "sign": ({"approved"}, "active"),
    "suspend": ({"active"}, "suspended"),
    "resume": ({"suspended"}, "active"),
    "terminate": ({"active", "suspended"}, "terminated"),
    "renew": ({"active"}, "active"),
    "expire": ({"active", "suspended"}, "expired"),
}
# Who makes each move in these tests: someone the permission table allows.
MAKER = {
    "propose": "officer",
    "withdraw": "officer",
    "accept": "partner_officer",
    "decline": "partner_officer",
    "approve": "sco_coordinator",
    "reject": "sco_coordinator",
    "sign": "officer",
    "suspend": "sco_coordinator",
    "resume": "sco_coordinator",
    "terminate": "officer",
    "renew": "officer",
}
STATUSES = [status.value for status in Agreement.Status]


def _data(move: str) -> dict[str, Any]:
    if move == "sign":
        return {"signed_on": days_from_today(-3).isoformat(), "memorandum": pdf_file()}
    if move == "renew":
        return {"end_date": days_from_today(20 * 365).isoformat()}
    if move == "terminate":
        return {"comment": "The programme ended"}
    return {}


def _post(person: User, agreement: Agreement, move: str) -> Any:
    client = APIClient()
    client.force_authenticate(person)
    return client.post(f"/api/v1/agreements/{agreement.pk}/{move}/", _data(move), format="multipart")


def _make(agreement_in: Callable[..., Agreement], status: str) -> Agreement:
    # Signed statuses need a signing date or a source; a term that ends lets expiry run.
    return agreement_in(status, source="list", end_date=days_from_today(-1) if status != "draft" else None)


def test_the_transition_table_is_the_documented_lifecycle() -> None:
    actual = {move: ({str(s) for s in rule.sources}, str(rule.target)) for move, rule in Agreement.TRANSITIONS.items()}
    assert actual == EXPECTED


@pytest.mark.parametrize(
    ("move", "status"),
    [(move, status) for move in MAKER for status in STATUSES if status not in EXPECTED[move][0]],
)
def test_a_move_the_status_does_not_allow_answers_409_naming_both(
    request: pytest.FixtureRequest, agreement_in: Callable[..., Agreement], move: str, status: str
) -> None:
    agreement = _make(agreement_in, status)
    before = agreement.transitions.count()

    response = _post(request.getfixturevalue(MAKER[move]), agreement, move)

    agreement.refresh_from_db()
    assert agreement.status == status
    assert agreement.transitions.count() == before
    if status == EXPECTED[move][1]:
        # Already where the move leads: a repeated request, answered as such.
        assert (response.status_code, response["Move-Outcome"]) == (200, "already-done")
        return
    assert response.status_code == 409, response.content
    label = Agreement.Status(status).label.lower()
    assert response.json()["detail"].startswith(f"An agreement that is {label} cannot be ")


@pytest.mark.parametrize(("move", "status"), [(move, status) for move in MAKER for status in sorted(EXPECTED[move][0])])
def test_every_move_the_table_allows_is_made(
    request: pytest.FixtureRequest, agreement_in: Callable[..., Agreement], move: str, status: str
) -> None:
    agreement = _make(agreement_in, status)

    response = _post(request.getfixturevalue(MAKER[move]), agreement, move)

    assert (response.status_code, response["Move-Outcome"]) == (200, "done"), response.content
    agreement.refresh_from_db()
    # Approval is made in steps: one coordinator's approval leaves it under review.
    expected = "under_review" if move == "approve" else EXPECTED[move][1]
    assert agreement.status == expected
    assert agreement.transitions.get().from_status == status


@pytest.mark.parametrize("status", STATUSES)
def test_expiry_follows_the_table_too(agreement_in: Callable[..., Agreement], status: str) -> None:
    agreement = _make(agreement_in, status)
    agreement.end_date = timezone.localdate() - datetime.timedelta(days=1)

    if status in EXPECTED["expire"][0]:
        assert agreement.expire() is not None
        assert agreement.status == "expired"
    elif status == "expired":
        assert agreement.expire() is None
    else:
        with pytest.raises(ConflictError, match=r"cannot be expired"):
            agreement.expire()
