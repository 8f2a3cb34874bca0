"""Racing moves on one practice end in one consistent state, with one audit row, one e-mail, one tombstone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from accounts.models import User
from notifications.models import Message
from practices import services
from practices.models import Practice, PracticeTombstone
from sco_portal.errors import ConflictError
from tests.conftest import missing_service
from tests.partnerships.test_races import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    if connection.vendor != "postgresql":
        missing_service("the race tests need PostgreSQL (set DATABASE_URL)")


def move(practice: Practice, name: str, person: User, comment: str = "") -> Callable[[], object]:
    return lambda: services.make_move(
        practice=Practice.objects.get(pk=practice.pk), move=name, by=person, comment=comment
    )


@pytest.mark.parametrize("attempt", range(3))
def test_two_coordinators_publishing_at_once_publish_once(
    practice_in: Callable[..., Practice], coordinator: User, sco_coordinator: User, attempt: int
) -> None:
    practice = practice_in("submitted")

    first, second = race(move(practice, "publish", coordinator), move(practice, "publish", sco_coordinator))

    practice.refresh_from_db()
    assert practice.status == Practice.Status.PUBLISHED
    assert practice.transitions.filter(move="publish").count() == 1
    assert sorted(result.repeated for result in (first, second)) == [False, True]  # type: ignore[attr-defined]
    assert Message.objects.filter(event="practice_published").count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_a_publication_racing_a_return_ends_one_way(
    practice_in: Callable[..., Practice], coordinator: User, sco_coordinator: User, attempt: int
) -> None:
    practice = practice_in("submitted")

    results = race(
        move(practice, "publish", coordinator), move(practice, "return", sco_coordinator, "Add the 2024 figures.")
    )

    practice.refresh_from_db()
    assert practice.status in (Practice.Status.PUBLISHED, Practice.Status.RETURNED)
    assert practice.transitions.count() == 1
    assert sum(isinstance(result, ConflictError) for result in results) == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_archives_at_once_leave_one_tombstone(
    practice_in: Callable[..., Practice], officer: User, coordinator: User, attempt: int
) -> None:
    practice = practice_in("published")

    race(move(practice, "archive", officer), move(practice, "archive", coordinator))

    assert PracticeTombstone.objects.filter(practice_id=practice.pk).count() == 1
    assert Practice.objects.get(pk=practice.pk).transitions.count() == 1
