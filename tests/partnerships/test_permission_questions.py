"""Each question partnerships/permissions.py answers, for every persona, staff and an inactive person included.

The expectations are written out per persona, so taking a rule out of the
permission module (or adding one) fails a test here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from cities.models import City
from partnerships import permissions
from partnerships.models import Agreement
from tests.factories import UserFactory, days_from_today

PERSONAS = [
    "visitor",
    "officer",  # of Almaty, the initiating city
    "partner_officer",  # of Bishkek
    "outsider",  # officer of a Russian city not party to the agreement
    "coordinator",  # Kazakhstan
    "partner_coordinator",  # Kyrgyzstan
    "other_coordinator",  # Uzbekistan
    "sco_coordinator",
    "staff",
    "inactive",  # an Almaty officer whose account is switched off
]


@pytest.fixture
def inactive(almaty_city: City) -> User:
    return UserFactory.create(username="officer.gone", role=User.Role.OFFICER, city=almaty_city, is_active=False)


@pytest.fixture
def persona(request: pytest.FixtureRequest) -> Callable[[str], Any]:
    def get(name: str) -> Any:
        return AnonymousUser() if name == "visitor" else request.getfixturevalue(name)

    return get


def _who(persona: Callable[[str], Any], question: Callable[[Any], bool]) -> set[str]:
    return {name for name in PERSONAS if question(persona(name))}


PARTIES = {"officer", "partner_officer", "coordinator", "partner_coordinator", "sco_coordinator", "staff"}


def test_who_sees_an_agreement_under_review(
    agreement_in: Callable[..., Agreement], persona: Callable[[str], Any]
) -> None:
    agreement = agreement_in("under_review")

    def sees(user: Any) -> bool:
        return Agreement.objects.visible_to(user).filter(pk=agreement.pk).exists()

    assert _who(persona, sees) == PARTIES


def test_who_sees_an_active_agreement(agreement_in: Callable[..., Agreement], persona: Callable[[str], Any]) -> None:
    agreement = agreement_in("active", source="list")

    def sees(user: Any) -> bool:
        return Agreement.objects.visible_to(user).filter(pk=agreement.pk).exists()

    assert _who(persona, sees) == set(PERSONAS)


def test_who_drafts_for_almaty(persona: Callable[[str], Any], almaty_city: City) -> None:
    assert _who(persona, lambda user: permissions.can_create_for(user, almaty_city)) == {"officer"}


def test_who_is_offered_to_propose_a_partnership_to_bishkek(persona: Callable[[str], Any], bishkek_city: City) -> None:
    assert _who(persona, lambda user: permissions.can_propose_to(user, bishkek_city)) == {"officer", "outsider"}


def test_who_edits_a_draft(agreement_in: Callable[..., Agreement], persona: Callable[[str], Any]) -> None:
    agreement = agreement_in("draft")
    assert _who(persona, lambda user: permissions.can_edit(user, agreement)) == {"officer"}


def test_who_logs_activity(agreement_in: Callable[..., Agreement], persona: Callable[[str], Any]) -> None:
    agreement = agreement_in("active", source="list")
    assert _who(persona, lambda user: permissions.can_log_activity(user, agreement)) == {"officer", "partner_officer"}


COORDINATORS = {"coordinator", "partner_coordinator", "sco_coordinator"}
MAY_MOVE: dict[str, set[str]] = {
    "propose": {"officer"},
    "withdraw": {"officer"},
    "accept": {"partner_officer"},
    "decline": {"partner_officer"},
    "approve": COORDINATORS,
    "reject": COORDINATORS,
    "sign": {"officer", "partner_officer"} | COORDINATORS,
    "suspend": COORDINATORS,
    "resume": COORDINATORS,
    "terminate": {"officer", "partner_officer"} | COORDINATORS,
    "renew": {"officer", "partner_officer"},
}


def test_every_move_a_person_makes_has_a_rule() -> None:
    assert set(permissions.MOVE_PERMISSIONS) == set(MAY_MOVE)


@pytest.mark.parametrize("move", list(MAY_MOVE))
def test_who_may_make_each_move(
    agreement_in: Callable[..., Agreement], persona: Callable[[str], Any], move: str
) -> None:
    agreement = agreement_in(sorted(Agreement.TRANSITIONS[move].sources)[0], source="list")
    assert _who(persona, lambda user: permissions.can_move(user, agreement, move)) == MAY_MOVE[move]


def test_a_coordinator_whose_country_approved_is_offered_neither_approve_nor_reject(
    agreement_in: Callable[..., Agreement], coordinator: User, partner_coordinator: User, sco_coordinator: User
) -> None:
    agreement = agreement_in("under_review")
    agreement.approve(by=coordinator, sides=frozenset({"initiator"}))

    assert permissions.allowed_moves(coordinator, agreement) == []
    assert permissions.allowed_moves(partner_coordinator, agreement) == ["approve", "reject"]
    assert permissions.allowed_moves(sco_coordinator, agreement) == ["approve", "reject"]


@pytest.mark.parametrize(
    ("status", "waits_on"),
    [
        ("proposed", {"partner_officer"}),
        ("under_review", COORDINATORS),
        ("approved", {"officer", "partner_officer"}),
        ("active", set()),
    ],
)
def test_who_the_portal_waits_on(
    agreement_in: Callable[..., Agreement], persona: Callable[[str], Any], status: str, waits_on: set[str]
) -> None:
    # Signed last month: an active agreement that is not dormant.
    agreement = agreement_in(status, source="list", signed_on=days_from_today(-30))

    def waited_on(user: Any) -> bool:
        return permissions.waiting_on(Agreement.objects.all(), user).filter(pk=agreement.pk).exists()

    assert _who(persona, waited_on) == waits_on


def test_a_dormant_agreement_waits_on_both_cities_officers(
    agreement_in: Callable[..., Agreement], persona: Callable[[str], Any]
) -> None:
    agreement = agreement_in("active", source="list", signed_on=days_from_today(-400))

    def waited_on(user: Any) -> bool:
        return permissions.waiting_on(Agreement.objects.all(), user).filter(pk=agreement.pk).exists()

    assert _who(persona, waited_on) == {"officer", "partner_officer"}


def test_who_is_told_of_a_move(almaty_city: City, bishkek_city: City, persona: Callable[[str], Any]) -> None:
    for name in PERSONAS:  # every persona exists; only the active people of the two cities and countries count
        persona(name)

    officers = {person.username for person in permissions.officers_of(almaty_city, bishkek_city)}
    coordinators = {person.username for person in permissions.coordinators_of(almaty_city, bishkek_city)}

    assert officers == {"officer.almaty", "officer.bishkek"}
    assert coordinators == {"coordinator.kz", "coordinator.kg"}
