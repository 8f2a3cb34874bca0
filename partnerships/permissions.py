"""Who sees which agreement and who may make which move.

Active, expired and terminated agreements are public. The others are seen by
the officers of the two cities, the national coordinators of their countries
and the SCO coordinators. Out of sight answers 404; in sight but not allowed, 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from accounts.models import User

if TYPE_CHECKING:
    from partnerships.models import Agreement, AgreementQuerySet


def _person(user: Any) -> User | None:
    return user if isinstance(user, User) and user.is_active else None


def visible_agreements(queryset: AgreementQuerySet, user: Any) -> AgreementQuerySet:
    from partnerships.models import Agreement

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


def is_officer_of(user: Any, *cities: Any) -> bool:
    person = _person(user)
    return person is not None and person.is_officer and person.city_id in {city.pk for city in cities}


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
    """The sides this coordinator may approve for: their country's, or either for the SCO secretariat."""
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


def is_coordinator_for(user: Any, agreement: Agreement) -> bool:
    return bool(approvable_sides(user, agreement))


def can_edit(user: Any, agreement: Agreement) -> bool:
    return "initiator" in sides_of_officer(user, agreement)


def can_propose(user: Any, agreement: Agreement) -> bool:
    return "initiator" in sides_of_officer(user, agreement)


can_withdraw = can_propose


def can_accept(user: Any, agreement: Agreement) -> bool:
    return "partner" in sides_of_officer(user, agreement)


can_decline = can_accept


def can_approve(user: Any, agreement: Agreement) -> bool:
    return is_coordinator_for(user, agreement)


can_reject = can_approve
can_suspend = can_approve
can_resume = can_approve


def can_sign(user: Any, agreement: Agreement) -> bool:
    return bool(sides_of_officer(user, agreement)) or is_coordinator_for(user, agreement)


can_terminate = can_sign


def can_renew(user: Any, agreement: Agreement) -> bool:
    return bool(sides_of_officer(user, agreement))


def can_log_activity(user: Any, agreement: Agreement) -> bool:
    return bool(sides_of_officer(user, agreement))


def can_create_for(user: Any, initiator: Any) -> bool:
    """Officers draft agreements for their own city only."""
    return is_officer_of(user, initiator)


MOVE_PERMISSIONS = {
    "propose": can_propose,
    "withdraw": can_withdraw,
    "accept": can_accept,
    "decline": can_decline,
    "approve": can_approve,
    "reject": can_reject,
    "sign": can_sign,
    "suspend": can_suspend,
    "resume": can_resume,
    "terminate": can_terminate,
    "renew": can_renew,
}


def can_move(user: Any, agreement: Agreement, move: str) -> bool:
    return MOVE_PERMISSIONS[move](user, agreement)


def allowed_moves(user: Any, agreement: Agreement) -> list[str]:
    """The moves this person may make now: permitted to them and allowed from the current status."""
    return [
        move
        for move, permitted in MOVE_PERMISSIONS.items()
        if agreement.status in agreement.TRANSITIONS[move][0] and permitted(user, agreement)
    ]
