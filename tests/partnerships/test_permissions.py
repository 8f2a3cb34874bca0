"""Every move × every role: allowed (200), visible but not allowed (403), out of sight (404), anonymous (401)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from partnerships.models import Agreement
from tests.factories import days_from_today
from tests.partnerships.conftest import pdf_file

ROLES = [
    "officer",  # of Almaty, the initiating city
    "partner_officer",  # of Bishkek, the partner city
    "outsider",  # officer of an unrelated city
    "coordinator",  # national coordinator of Kazakhstan
    "partner_coordinator",  # national coordinator of Kyrgyzstan
    "other_coordinator",  # national coordinator of Uzbekistan
    "sco_coordinator",
    "visitor",
]
OFFICERS = {"officer", "partner_officer"}
COORDINATORS = {"coordinator", "partner_coordinator", "sco_coordinator"}

# move: (the status it is tried from, the roles that may make it, extra data)
MOVES: dict[str, tuple[str, set[str], dict[str, Any]]] = {
    "propose": ("draft", {"officer"}, {}),
    "withdraw": ("proposed", {"officer"}, {}),
    "accept": ("proposed", {"partner_officer"}, {}),
    "decline": ("proposed", {"partner_officer"}, {}),
    "approve": ("under_review", COORDINATORS, {}),
    "reject": ("under_review", COORDINATORS, {}),
    "sign": ("approved", OFFICERS | COORDINATORS, {"signed_on": days_from_today(-7).isoformat()}),
    "suspend": ("active", COORDINATORS, {}),
    "resume": ("suspended", COORDINATORS, {}),
    "terminate": ("active", OFFICERS | COORDINATORS, {"comment": "Ended by agreement of both sides"}),
    "renew": ("active", OFFICERS, {"end_date": days_from_today(10 * 365).isoformat()}),
}


def expected_status(move: str, role: str) -> int:
    status, allowed, _data = MOVES[move]
    if role == "visitor":
        return 401
    if role in allowed:
        return 200
    # Outsiders see public agreements only; private ones are out of their sight.
    if role in {"outsider", "other_coordinator"} and status not in Agreement.PUBLIC:
        return 404
    return 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("move", list(MOVES))
def test_every_move_for_every_role(
    request: pytest.FixtureRequest, agreement_in: Callable[..., Agreement], move: str, role: str
) -> None:
    status, _allowed, data = MOVES[move]
    people = {name: request.getfixturevalue(name) for name in ROLES if name != "visitor"}
    agreement = agreement_in(status, source="list" if status in Agreement.SIGNED else "")
    client = APIClient()
    if role != "visitor":
        client.force_authenticate(people[role])
    if move == "sign":
        data = {**data, "memorandum": pdf_file()}

    response = client.post(f"/api/v1/agreements/{agreement.pk}/{move}/", data, format="multipart")

    assert response.status_code == expected_status(move, role), response.content
    agreement.refresh_from_db()
    if response.status_code != 200:
        assert agreement.status == status
        assert not agreement.transitions.exists()


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("officer", True),
        ("partner_officer", True),
        ("coordinator", True),
        ("partner_coordinator", True),
        ("sco_coordinator", True),
        ("outsider", False),
        ("other_coordinator", False),
        ("visitor", False),
    ],
)
def test_unfinished_agreements_are_seen_by_those_concerned_only(
    request: pytest.FixtureRequest, agreement_in: Callable[..., Agreement], role: str, visible: bool
) -> None:
    agreement = agreement_in("under_review")
    client = APIClient()
    if role != "visitor":
        client.force_authenticate(request.getfixturevalue(role))

    assert client.get(f"/api/v1/agreements/{agreement.pk}/").status_code == (200 if visible else 404)


def test_allowed_moves_tell_each_person_what_they_can_do(
    agreement_in: Callable[..., Agreement], officer: User, partner_officer: User, coordinator: User
) -> None:
    agreement = agreement_in("proposed")

    def moves(person: User) -> list[str]:
        client = APIClient()
        client.force_authenticate(person)
        return client.get(f"/api/v1/agreements/{agreement.pk}/").json()["allowed_moves"]

    assert moves(officer) == ["withdraw"]
    assert moves(partner_officer) == ["accept", "decline"]
    assert moves(coordinator) == []
