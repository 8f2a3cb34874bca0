"""Who sees which practice, who may write, move or delete it, and whose moderation it waits on.

Every page, API endpoint, template tag and e-mail asks these questions here.

Published practices are public. A city's officers see all of their city's
practices, drafts included. A national coordinator sees the submitted, returned
and archived practices of their country's cities; the SCO coordinator those of
every country; neither sees a draft before it is submitted. Staff see everything.
Out of sight answers 404; in sight but not allowed, 403. An inactive person,
like an API key, is a visitor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q

from accounts.models import User
from cities.models import City
from practices.models import Practice, PracticeQuerySet

Move = Practice.Move
Status = Practice.Status

# What coordinators see of their scope besides the public set: drafts stay with the city.
MODERATED = frozenset({Status.SUBMITTED, Status.RETURNED, Status.ARCHIVED})


def _person(user: Any) -> User | None:
    return user if isinstance(user, User) and user.is_active else None


# -- who sees -----------------------------------------------------------------


def visible_practices(queryset: PracticeQuerySet, user: Any) -> PracticeQuerySet:
    person = _person(user)
    public = Q(status=Status.PUBLISHED)
    if person is None:
        return queryset.filter(public)
    if person.is_staff:
        return queryset
    if person.is_officer:
        return queryset.filter(public | Q(city=person.city_id))
    if person.is_national_coordinator:
        return queryset.filter(public | Q(status__in=MODERATED, city__country=person.country_id))
    if person.is_sco_coordinator:
        return queryset.filter(public | Q(status__in=MODERATED))
    return queryset.filter(public)


# -- who may do what --------------------------------------------------------------


def is_city_officer(user: Any, practice: Practice) -> bool:
    person = _person(user)
    return person is not None and person.is_officer and person.city_id == practice.city_id


def can_translate(user: Any, practice: Practice) -> bool:
    """The city's officers write the title and summary in the portal's other languages, whatever the status."""
    return is_city_officer(user, practice)


def moderates(user: Any, practice: Practice) -> bool:
    """A national coordinator of the practice's city's country, or an SCO coordinator."""
    person = _person(user)
    if person is None:
        return False
    if person.is_sco_coordinator:
        return True
    return person.is_national_coordinator and person.country_id == practice.city.country_id


def can_create_for(user: Any, city: City) -> bool:
    """Officers write practices for their own city only."""
    person = _person(user)
    return person is not None and person.is_officer and person.city_id == city.pk


def can_edit(user: Any, practice: Practice) -> bool:
    """The city's officers change a draft or a returned practice; its moderators correct a published one.

    Whether the status allows it now is the service's question (409).
    """
    return is_city_officer(user, practice) or moderates(user, practice)


def editable_now(user: Any, practice: Practice) -> bool:
    """The status lets this person change it now: a draft or returned practice for its city's
    officers, a published one for its moderators. (The services answer 409 otherwise.)"""
    return (is_city_officer(user, practice) and practice.status in Practice.EDITABLE) or (
        moderates(user, practice) and practice.status == Status.PUBLISHED
    )


def attachments_editable_now(user: Any, practice: Practice) -> bool:
    """The city's officers add and remove files while the practice is a draft or returned."""
    return is_city_officer(user, practice) and practice.status in Practice.EDITABLE


def can_write_practices(user: Any) -> bool:
    """Officers write their city's practices (the library page offers them the form)."""
    person = _person(user)
    return person is not None and person.is_officer and person.city_id is not None


def can_delete(user: Any, practice: Practice) -> bool:
    """Staff delete any practice; the city's officers one that was never published (the service checks that)."""
    person = _person(user)
    return person is not None and (person.is_staff or is_city_officer(person, practice))


def _officer_or_moderator(user: Any, practice: Practice) -> bool:
    return is_city_officer(user, practice) or moderates(user, practice)


# The moves people make, and who may make each.
MOVE_PERMISSIONS: dict[str, Callable[[Any, Practice], bool]] = {
    Move.SUBMIT: is_city_officer,
    Move.PUBLISH: moderates,
    Move.RETURN: moderates,
    Move.ARCHIVE: _officer_or_moderator,
}


def can_move(user: Any, practice: Practice, move: str) -> bool:
    return move in MOVE_PERMISSIONS and MOVE_PERMISSIONS[move](user, practice)


def allowed_moves(user: Any, practice: Practice) -> list[str]:
    """The moves to offer this person now: permitted to them and allowed from the status."""
    return [move for move in MOVE_PERMISSIONS if practice.allows(move) and can_move(user, practice, move)]


# -- whose moderation it waits on ----------------------------------------------------


def waiting_on(queryset: PracticeQuerySet, user: Any) -> PracticeQuerySet:
    """The moderation queue: submitted practices of the coordinator's country (every country for the SCO);
    for officers, their city's practices returned for changes."""
    person = _person(user)
    if person is None:
        return queryset.none()
    if person.is_officer:
        return queryset.filter(status=Status.RETURNED, city=person.city_id)
    if person.is_national_coordinator:
        return queryset.filter(status=Status.SUBMITTED, city__country=person.country_id)
    if person.is_sco_coordinator:
        return queryset.filter(status=Status.SUBMITTED)
    return queryset.none()


def moderators_of(practice: Practice) -> list[User]:
    """Who is told of a submission: the active national coordinators of the city's country,
    or, when the country has none, the SCO coordinators, so a submission never waits unseen."""
    national = list(
        User.objects.filter(
            role=User.Role.NATIONAL_COORDINATOR, country=practice.city.country_id, is_active=True
        ).exclude(email="")
    )
    if national:
        return national
    return list(User.objects.filter(role=User.Role.SCO_COORDINATOR, is_active=True).exclude(email=""))
