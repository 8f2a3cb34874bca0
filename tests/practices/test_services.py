"""Writing, moving and deleting practices: the rules the services enforce, and the e-mails and tombstones they leave."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from cities.models import City
from practices import services
from practices.models import Practice, PracticeTombstone
from sco_portal.errors import ConflictError, DomainError, NotPermittedError
from tests.factories import PracticeFactory, TopicFactory, days_from_today

THIS_YEAR = days_from_today(0).year


def write(officer: User, **fields: Any) -> Practice:
    data: dict[str, Any] = {
        "title": "Separate collection of household waste",
        "summary": "Households sort waste into four streams.",
        "topics": [TopicFactory.create(slug="waste", name="Waste")],
        "indicators": [
            {
                "indicator": "Recycling rate",
                "unit": "%",
                "baseline": Decimal("15"),
                "achieved": Decimal("38"),
                "year": THIS_YEAR - 1,
            }
        ],
        "sdgs": [11, 12],
        "cost": Decimal("1200000"),
        "currency": "KZT",
        "start_year": THIS_YEAR - 3,
        "end_year": THIS_YEAR - 1,
    }
    data.update(fields)
    assert officer.city is not None
    return services.create_practice(by=officer, city=officer.city, **data)


def test_an_officer_writes_a_draft_with_its_indicators(officer: User) -> None:
    practice = write(officer)

    assert practice.status == Practice.Status.DRAFT
    assert [(row.indicator, row.achieved) for row in practice.indicators.all()] == [("Recycling rate", Decimal("38"))]
    assert sorted(practice.sdgs.values_list("number", flat=True)) == [11, 12]
    assert practice.transitions.get().move == Practice.Move.CREATE


def test_an_officer_cannot_write_for_another_city(officer: User, bishkek_city: City) -> None:
    with pytest.raises(NotPermittedError):
        services.create_practice(by=officer, city=bishkek_city, title="X", summary="Y", topics=[])


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"currency": ""}, "currency"),
        ({"language": "xx"}, "language"),
        ({"start_year": THIS_YEAR, "end_year": THIS_YEAR - 2}, "end_year"),
        (
            {"indicators": [{"indicator": "Rate", "unit": "%", "achieved": "many", "year": THIS_YEAR}]},
            "Indicator row 1",
        ),
        ({"indicators": [{"indicator": "", "unit": "%", "achieved": 1, "year": THIS_YEAR}]}, "Indicator row 1"),
        ({"topics": []}, "topics"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    officer: User, fields: dict[str, Any], named: str
) -> None:
    with pytest.raises(DomainError) as refused:
        write(officer, **fields)

    assert named in refused.value.message
    assert not Practice.objects.exists()


def test_the_database_refuses_an_end_year_before_the_start(almaty_city: City) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeFactory.create(city=almaty_city, start_year=THIS_YEAR, end_year=THIS_YEAR - 1)


def test_the_database_refuses_a_cost_without_currency(almaty_city: City) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeFactory.create(city=almaty_city, cost=Decimal(10), currency="")


def test_the_database_refuses_a_published_practice_without_its_date(almaty_city: City) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeFactory.create(city=almaty_city, status=Practice.Status.PUBLISHED, published_at=None)


def test_submitting_tells_the_countrys_coordinators(
    officer: User, coordinator: User, partner_coordinator: User, sent_notifications: list[dict[str, Any]]
) -> None:
    practice = write(officer)

    services.make_move(practice=practice, move="submit", by=officer)

    assert [(call["event"], call["recipients"]) for call in sent_notifications] == [
        ("practice_submitted", ["coordinator.kz"])
    ]
    assert sent_notifications[0]["context"]["practice"] == practice


def test_a_submission_from_a_country_without_coordinator_goes_to_the_sco(
    officer: User, sco_coordinator: User, sent_notifications: list[dict[str, Any]]
) -> None:
    services.make_move(practice=write(officer), move="submit", by=officer)

    assert sent_notifications[0]["recipients"] == ["coordinator.sco"]


def test_publishing_and_returning_tell_the_author(
    practice_in: Callable[..., Practice], coordinator: User, sent_notifications: list[dict[str, Any]]
) -> None:
    published = practice_in("submitted")
    returned = practice_in("submitted")

    services.make_move(practice=published, move="publish", by=coordinator)
    services.make_move(practice=returned, move="return", by=coordinator, comment="Add the 2024 figures.")

    assert [(call["event"], call["recipients"], call["context"]["comment"]) for call in sent_notifications] == [
        ("practice_published", ["officer.almaty"], ""),
        ("practice_returned", ["officer.almaty"], "Add the 2024 figures."),
    ]
    published.refresh_from_db()
    assert published.published_at is not None


def test_returning_needs_a_comment(practice_in: Callable[..., Practice], coordinator: User) -> None:
    practice = practice_in("submitted")

    with pytest.raises(DomainError):
        services.make_move(practice=practice, move="return", by=coordinator, comment="  ")

    practice.refresh_from_db()
    assert practice.status == Practice.Status.SUBMITTED


def test_a_repeated_move_sends_nothing_twice(
    practice_in: Callable[..., Practice], coordinator: User, sent_notifications: list[dict[str, Any]]
) -> None:
    practice = practice_in("submitted")

    first = services.make_move(practice=practice, move="publish", by=coordinator)
    second = services.make_move(practice=Practice.objects.get(pk=practice.pk), move="publish", by=coordinator)

    assert not first.repeated and second.repeated
    assert len(sent_notifications) == 1
    assert practice.transitions.filter(move="publish").count() == 1


def test_a_returned_practice_is_changed_and_submitted_again(
    practice_in: Callable[..., Practice], officer: User
) -> None:
    practice = practice_in("returned")

    services.update_practice(practice=practice, by=officer, title="With the 2024 figures")
    services.make_move(practice=practice, move="submit", by=officer)

    practice.refresh_from_db()
    assert (practice.title, practice.status) == ("With the 2024 figures", Practice.Status.SUBMITTED)


def test_a_submitted_practice_waits_unchanged_for_its_moderator(
    practice_in: Callable[..., Practice], officer: User
) -> None:
    with pytest.raises(ConflictError):
        services.update_practice(practice=practice_in("submitted"), by=officer, title="Changed")


def test_archiving_leaves_a_tombstone(practice_in: Callable[..., Practice], coordinator: User) -> None:
    practice = practice_in("published")

    services.make_move(practice=practice, move="archive", by=coordinator)
    services.make_move(practice=practice, move="archive", by=coordinator)

    assert list(PracticeTombstone.objects.values_list("practice_id", "reason")) == [(practice.pk, "archived")]


def test_an_officer_deletes_a_draft_but_archives_a_published_practice(
    practice_in: Callable[..., Practice], officer: User
) -> None:
    draft, published = practice_in("draft"), practice_in("published")

    services.delete_practice(practice=draft, by=officer)
    with pytest.raises(ConflictError):
        services.delete_practice(practice=published, by=officer)

    assert list(Practice.objects.values_list("pk", flat=True)) == [published.pk]
    assert not PracticeTombstone.objects.exists()


def test_staff_deleting_a_published_practice_leaves_a_tombstone(
    practice_in: Callable[..., Practice], staff: User
) -> None:
    practice = practice_in("published")
    practice_id = practice.pk

    services.delete_practice(practice=practice, by=staff)

    assert list(PracticeTombstone.objects.values_list("practice_id", "reason")) == [(practice_id, "deleted")]


def test_the_form_hint_finds_a_practice_of_the_same_city_with_a_close_title(
    practice_in: Callable[..., Practice], officer: User
) -> None:
    existing = practice_in("published", title="Separate collection of household waste")
    practice_in("published", title="Bus rapid transit")

    found = services.similar_practices(user=officer, city=officer.city, title="Separate household waste collection")

    assert found == [existing]
