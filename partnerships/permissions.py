"""Who sees which agreement, who may make which move, and who the portal is waiting on.

Every page, API endpoint, template tag, inbox and e-mail asks these questions
here, and nowhere else.

Active, expired and terminated agreements are public. The others are seen by
the officers of the two cities, the national coordinators of their countries,
the SCO coordinators and staff. Out of sight answers 404; in sight but not
allowed, 403. An inactive person is treated as a visitor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q

from accounts.models import User
from cities.models import City
from partnerships.models import Agreement, AgreementQuerySet

Move = Agreement.Move
Status = Agreement.Status


def _person(user: Any) -> User | None:
    return user if isinstance(user, User) and user.is_active else None


# -- who sees -----------------------------------------------------------------


def visible_agreements(queryset: AgreementQuerySet, user: Any) -> AgreementQuerySet:
    person = _person(user)
    public = Q(status__in=Agreement.PUBLIC)
    if person is None:
        return queryset.filter(public)
    if person.is_sco_coordinator or person.is_staff:
        return queryset
    if person.is_officer:
        return queryset.filter(public | Q(initiator=person.city_id) | Q(partner=person.city_id))
    if person.is_national_coordinator:
        return queryset.filter(public | Q(initiator__country=person.country_id) | Q(partner__country=person.country_id))
    return queryset.filter(public)


# -- who is on which side -------------------------------------------------------


def sides_of_officer(user: Any, agreement: Agreement) -> set[str]:
    """ "initiator" and/or "partner": the sides whose city this officer works for."""
    person = _person(user)
    if person is None or not person.is_officer:
        return set()
    return {
        side
        for side, city_id in (("initiator", agreement.initiator_id), ("partner", agreement.partner_id))
        if city_id == person.city_id
    }


def approvable_sides(user: Any, agreement: Agreement) -> set[str]:
    """The sides this coordinator approves for: their country's, or either for the SCO secretariat."""
    person = _person(user)
    if person is None:
        return set()
    if person.is_sco_coordinator:
        return {"initiator", "partner"}
    if person.is_national_coordinator:
        return {
            side
            for side, country_id in (
                ("initiator", agreement.initiator.country_id),
                ("partner", agreement.partner.country_id),
            )
            if country_id == person.country_id
        }
    return set()


def pending_sides(user: Any, agreement: Agreement) -> set[str]:
    """The sides this coordinator could still approve for: theirs, minus those approved already."""
    return approvable_sides(user, agreement) - agreement.approved_sides()


# -- who may make which move ------------------------------------------------------


def can_create_for(user: Any, initiator: City) -> bool:
    """Officers draft agreements for their own city only."""
    person = _person(user)
    return person is not None and person.is_officer and person.city_id == initiator.pk


def can_edit(user: Any, agreement: Agreement) -> bool:
    return "initiator" in sides_of_officer(user, agreement)


def _initiator_officer(user: Any, agreement: Agreement) -> bool:
    return "initiator" in sides_of_officer(user, agreement)


def _partner_officer(user: Any, agreement: Agreement) -> bool:
    return "partner" in sides_of_officer(user, agreement)


def _either_officer(user: Any, agreement: Agreement) -> bool:
    return bool(sides_of_officer(user, agreement))


def _coordinator(user: Any, agreement: Agreement) -> bool:
    return bool(approvable_sides(user, agreement))


def _party(user: Any, agreement: Agreement) -> bool:
    return _either_officer(user, agreement) or _coordinator(user, agreement)


# The moves people make, and who may make each; expiry is the daily task's.
MOVE_PERMISSIONS: dict[str, Callable[[Any, Agreement], bool]] = {
    Move.PROPOSE: _initiator_officer,
    Move.WITHDRAW: _initiator_officer,
    Move.ACCEPT: _partner_officer,
    Move.DECLINE: _partner_officer,
    Move.APPROVE: _coordinator,
    Move.REJECT: _coordinator,
    Move.SIGN: _party,
    Move.SUSPEND: _coordinator,
    Move.RESUME: _coordinator,
    Move.TERMINATE: _party,
    Move.RENEW: _either_officer,
}


def can_move(user: Any, agreement: Agreement, move: str) -> bool:
    return move in MOVE_PERMISSIONS and MOVE_PERMISSIONS[move](user, agreement)


def has_work_left(user: Any, agreement: Agreement, move: str) -> bool:
    """A coordinator whose countries have all approved has nothing left to approve or reject."""
    if move in (Move.APPROVE, Move.REJECT):
        return bool(pending_sides(user, agreement))
    return True


def allowed_moves(user: Any, agreement: Agreement) -> list[str]:
    """The moves to offer this person now: permitted to them, allowed from the status, not done by them already."""
    return [
        move
        for move in MOVE_PERMISSIONS
        if agreement.allows(move) and can_move(user, agreement, move) and has_work_left(user, agreement, move)
    ]


def can_log_activity(user: Any, agreement: Agreement) -> bool:
    return _either_officer(user, agreement)


def can_translate(user: Any, agreement: Agreement) -> bool:
    """The officers of either city write the agreement's title and summary in other languages."""
    return _either_officer(user, agreement)


def can_propose_to(user: Any, city: City) -> bool:
    """An officer may offer a partnership to another city (whether the pair is free is the services' question)."""
    person = _person(user)
    return person is not None and person.is_officer and person.city_id != city.pk


# -- who the portal waits on ---------------------------------------------------------


def waiting_on(queryset: AgreementQuerySet, user: Any) -> AgreementQuerySet:
    """What waits on this person: proposals to answer, approvals to give, signatures,
    renewals to confirm, and (officers) dormant partnerships to revive with an activity."""
    person = _person(user)
    if person is None:
        return queryset.none()
    if person.is_officer:
        city = person.city_id
        ours = Q(initiator=city) | Q(partner=city)
        renewal = Q(status=Status.ACTIVE, renewal_end_date__isnull=False) & (
            Q(initiator=city, renewal_confirmed_by_initiator=False)
            | Q(partner=city, renewal_confirmed_by_partner=False)
        )
        if "is_dormant" not in queryset.query.annotations:
            queryset = queryset.with_health()
        return queryset.filter(
            Q(status=Status.PROPOSED, partner=city) | (Q(status=Status.APPROVED) | Q(is_dormant=True)) & ours | renewal
        )
    under_review = Q(status=Status.UNDER_REVIEW)
    if person.is_national_coordinator:
        country = person.country_id
        return queryset.filter(
            under_review
            & (
                Q(initiator__country=country, initiator_country_approved_by__isnull=True)
                | Q(partner__country=country, partner_country_approved_by__isnull=True)
            )
        )
    if person.is_sco_coordinator:
        return queryset.filter(under_review)
    return queryset.none()


def officers_of(*cities: City) -> list[User]:
    """The active officers of these cities: who answers proposals, signs and logs activity."""
    return list(User.objects.filter(role=User.Role.OFFICER, city__in=cities, is_active=True))


def coordinators_of(*cities: City) -> list[User]:
    """The active national coordinators of these cities' countries: who approves."""
    countries = {city.country_id for city in cities}
    return list(User.objects.filter(role=User.Role.NATIONAL_COORDINATOR, country__in=countries, is_active=True))
