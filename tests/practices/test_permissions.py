"""Every move × every role, and the complement of the transition table, each against an explicit expected answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from practices.models import Practice

ROLES = [
    "visitor",
    "officer",  # of Almaty, the practice's city
    "neighbour_officer",  # of Astana: another city of the same country
    "partner_officer",  # of Bishkek: another city, another country
    "coordinator",  # national coordinator of Kazakhstan, the practice's country
    "partner_coordinator",  # national coordinator of Kyrgyzstan
    "sco_coordinator",
    "staff",
    "api_key",
]

# (move, the status it is tried from): the answer for each role, written out rather than derived,
# so a change in the rules shows up here as a reviewed edit.
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("submit", "draft"): {
        "visitor": 401,
        "officer": 200,
        "neighbour_officer": 404,
        "partner_officer": 404,
        "coordinator": 404,  # a draft stays with its city until submitted
        "partner_coordinator": 404,
        "sco_coordinator": 404,
        "staff": 403,
        "api_key": 403,
    },
    ("submit", "returned"): {
        "visitor": 401,
        "officer": 200,
        "neighbour_officer": 404,
        "partner_officer": 404,
        "coordinator": 403,
        "partner_coordinator": 404,
        "sco_coordinator": 403,
        "staff": 403,
        "api_key": 403,
    },
    ("publish", "submitted"): {
        "visitor": 401,
        "officer": 403,
        "neighbour_officer": 404,
        "partner_officer": 404,
        "coordinator": 200,
        "partner_coordinator": 404,
        "sco_coordinator": 200,
        "staff": 403,
        "api_key": 403,
    },
    ("return", "submitted"): {
        "visitor": 401,
        "officer": 403,
        "neighbour_officer": 404,
        "partner_officer": 404,
        "coordinator": 200,
        "partner_coordinator": 404,
        "sco_coordinator": 200,
        "staff": 403,
        "api_key": 403,
    },
    ("archive", "published"): {
        "visitor": 401,
        "officer": 200,
        "neighbour_officer": 403,
        "partner_officer": 403,
        "coordinator": 200,
        "partner_coordinator": 403,
        "sco_coordinator": 200,
        "staff": 403,
        "api_key": 403,
    },
}
CASES = [(move, status, role) for (move, status), answers in EXPECTED.items() for role in answers]


def client_for(request: pytest.FixtureRequest, role: str) -> APIClient:
    if role == "api_key":
        return request.getfixturevalue("api_client")
    client = APIClient()
    if role != "visitor":
        client.force_authenticate(request.getfixturevalue(role))
    return client


def test_the_matrix_covers_every_move_and_every_source_status() -> None:
    covered = {(move, status) for move, status in EXPECTED}
    assert covered == {(move, source) for move, step in Practice.TRANSITIONS.items() for source in step.sources}


@pytest.mark.parametrize(("move", "status", "role"), CASES)
def test_every_move_for_every_role(
    request: pytest.FixtureRequest, practice_in: Callable[..., Practice], move: str, status: str, role: str
) -> None:
    for person in ROLES[1:-1]:
        request.getfixturevalue(person)  # everyone exists, so "another city" is a real city
    practice = practice_in(status)

    response = client_for(request, role).post(
        f"/api/v1/practices/{practice.pk}/{move}/", {"comment": "Add the 2024 figures."}, format="json"
    )

    assert response.status_code == EXPECTED[(move, status)][role], response.content
    practice.refresh_from_db()
    if response.status_code == 200:
        assert practice.status == Practice.TRANSITIONS[move].target
        actor = practice.transitions.get().actor
        assert actor is not None and actor.username == request.getfixturevalue(role).username
    else:
        assert practice.status == status
        assert not practice.transitions.exists()


# The complement of the transition table, tried by a person who may make the move:
# (move, status) → (answer, Move-Outcome header). 404 where that person cannot see the practice.
COMPLEMENT: dict[tuple[str, str], tuple[int, str | None]] = {
    ("submit", "submitted"): (200, "already-done"),
    ("submit", "published"): (409, None),
    ("submit", "archived"): (409, None),
    ("publish", "draft"): (404, None),
    ("publish", "published"): (200, "already-done"),
    ("publish", "returned"): (409, None),
    ("publish", "archived"): (409, None),
    ("return", "draft"): (404, None),
    ("return", "returned"): (200, "already-done"),
    ("return", "published"): (409, None),
    ("return", "archived"): (409, None),
    ("archive", "draft"): (409, None),
    ("archive", "submitted"): (409, None),
    ("archive", "returned"): (409, None),
    ("archive", "archived"): (200, "already-done"),
}
MOVER = {"submit": "officer", "publish": "coordinator", "return": "coordinator", "archive": "officer"}


def test_the_complement_is_every_status_a_move_does_not_start_from() -> None:
    statuses = set(Practice.Status.values)
    expected = {(move, status) for move, step in Practice.TRANSITIONS.items() for status in statuses - step.sources}
    assert set(COMPLEMENT) == expected


@pytest.mark.parametrize(("move", "status"), list(COMPLEMENT))
def test_a_move_the_status_does_not_allow_changes_nothing(
    request: pytest.FixtureRequest, practice_in: Callable[..., Practice], move: str, status: str
) -> None:
    practice = practice_in(status)
    expected_status, outcome = COMPLEMENT[(move, status)]

    response = client_for(request, MOVER[move]).post(
        f"/api/v1/practices/{practice.pk}/{move}/", {"comment": "Once more."}, format="json"
    )

    assert response.status_code == expected_status, response.content
    if expected_status == 409:
        assert "cannot be" in response.json()["detail"]
    if outcome:
        assert response["Move-Outcome"] == outcome
    practice.refresh_from_db()
    assert practice.status == status
    assert not practice.transitions.exists()


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("visitor", False),
        ("api_key", False),
        ("officer", True),
        ("neighbour_officer", False),
        ("coordinator", False),
        ("sco_coordinator", False),
        ("staff", True),
    ],
)
def test_a_draft_is_seen_by_its_city_and_staff_only(
    request: pytest.FixtureRequest, practice_in: Callable[..., Practice], role: str, visible: bool
) -> None:
    practice = practice_in("draft")
    assert client_for(request, role).get(f"/api/v1/practices/{practice.pk}/").status_code == (200 if visible else 404)


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("visitor", False),
        ("officer", True),
        ("partner_officer", False),
        ("coordinator", True),
        ("partner_coordinator", False),
        ("sco_coordinator", True),
    ],
)
def test_a_submitted_practice_is_seen_by_its_city_and_its_moderators(
    request: pytest.FixtureRequest, practice_in: Callable[..., Practice], role: str, visible: bool
) -> None:
    practice = practice_in("submitted")
    assert client_for(request, role).get(f"/api/v1/practices/{practice.pk}/").status_code == (200 if visible else 404)


def test_an_inactive_coordinator_is_a_visitor(
    request: pytest.FixtureRequest, practice_in: Callable[..., Practice]
) -> None:
    coordinator = request.getfixturevalue("coordinator")
    coordinator.is_active = False
    coordinator.save()
    practice = practice_in("submitted")
    client = APIClient()
    client.force_authenticate(coordinator)

    assert client.get(f"/api/v1/practices/{practice.pk}/").status_code == 404
    assert client.post(f"/api/v1/practices/{practice.pk}/publish/").status_code == 404


def test_allowed_moves_tell_each_person_what_they_can_do(
    request: pytest.FixtureRequest, practice_in: Callable[..., Practice]
) -> None:
    practice = practice_in("submitted")

    def moves(role: str) -> list[str]:
        return client_for(request, role).get(f"/api/v1/practices/{practice.pk}/").json()["allowed_moves"]

    assert moves("officer") == []
    assert moves("coordinator") == ["publish", "return"]
