"""Racing moves end in one consistent state (PostgreSQL row locks; SQLite serialises writers anyway)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from accounts.models import User
from partnerships import services
from partnerships.models import Agreement
from sco_portal.errors import DomainError
from tests.conftest import missing_service

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    if connection.vendor != "postgresql":
        missing_service("the race tests need PostgreSQL (set DATABASE_URL)")


def race(*moves: Callable[[], object]) -> list[object]:
    """Run the moves in threads released together; return each one's result or error."""
    barrier = threading.Barrier(len(moves))
    results: list[object] = [None] * len(moves)

    def run(index: int, move: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = move()
        except DomainError as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, move)) for index, move in enumerate(moves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.parametrize("attempt", range(5))
def test_two_coordinators_approving_at_once_approve_the_agreement(
    agreement_in: Callable[..., Agreement], coordinator: User, partner_coordinator: User, attempt: int
) -> None:
    agreement = agreement_in("under_review")

    def approve(person: User) -> Callable[[], object]:
        return lambda: services.make_move(agreement=Agreement.objects.get(pk=agreement.pk), move="approve", by=person)

    race(approve(coordinator), approve(partner_coordinator))

    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.APPROVED
    assert agreement.initiator_country_approved_by == coordinator
    assert agreement.partner_country_approved_by == partner_coordinator
    assert list(agreement.transitions.values_list("to_status", flat=True)) == ["under_review", "approved"]


@pytest.mark.parametrize("attempt", range(5))
def test_an_approval_racing_a_withdrawal_ends_consistent(
    agreement_in: Callable[..., Agreement], officer: User, coordinator: User, attempt: int
) -> None:
    agreement = agreement_in("under_review", partner_country_approved_by=None)

    approval, withdrawal = race(
        lambda: services.make_move(agreement=Agreement.objects.get(pk=agreement.pk), move="approve", by=coordinator),
        lambda: services.make_move(agreement=Agreement.objects.get(pk=agreement.pk), move="withdraw", by=officer),
    )

    agreement.refresh_from_db()
    assert not isinstance(withdrawal, DomainError)
    assert agreement.status == Agreement.Status.WITHDRAWN
    moves = list(agreement.transitions.values_list("move", "from_status", "to_status"))
    if isinstance(approval, DomainError):
        # The withdrawal locked the row first; the approval then saw it withdrawn.
        assert "cannot be approved" in approval.message
        assert moves == [("withdraw", "under_review", "withdrawn")]
        assert agreement.initiator_country_approved_by is None
    else:
        assert moves == [("approve", "under_review", "under_review"), ("withdraw", "under_review", "withdrawn")]
