"""Agreement work that spans models or sends mail: drafting, moves with their e-mails, activity, import, expiry."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cities.models import City, Topic
from notifications.services import notify
from partnerships import permissions
from partnerships.models import Agreement, AgreementActivity, AgreementTransition
from sco_portal.errors import ConflictError, DomainError, NotPermittedError

# Days before the end of term: (nearest, farthest) end dates that get this reminder.
REMINDER_WINDOWS = {90: (31, 90), 30: (0, 30)}


def _officers(*cities: City) -> list[User]:
    return list(User.objects.filter(role=User.Role.OFFICER, city__in=cities, is_active=True))


def _coordinators(*cities: City) -> list[User]:
    countries = {city.country_id for city in cities}
    return list(User.objects.filter(role=User.Role.NATIONAL_COORDINATOR, country__in=countries, is_active=True))


def _pair_taken_message(existing: Agreement) -> str:
    return _("%(first)s and %(second)s already have an agreement that is not finished: “%(title)s” (%(status)s).") % {
        "first": existing.initiator.display_name,
        "second": existing.partner.display_name,
        "title": existing.title,
        "status": existing.get_status_display().lower(),
    }


def _check_pair_is_free(initiator: City, partner: City) -> None:
    existing = Agreement.objects.between(initiator, partner).unfinished().select_related("initiator", "partner")
    if taken := existing.first():
        raise ConflictError(_pair_taken_message(taken))


@transaction.atomic
def create_draft(
    *,
    by: User,
    initiator: City,
    partner: City,
    title: str,
    kind: str = Agreement.Kind.SISTER_CITY,
    summary: str = "",
    topics: Iterable[Topic] = (),
    start_date: datetime.date | None = None,
    end_date: datetime.date | None = None,
) -> Agreement:
    """An officer drafts an agreement for their own city with another city that it has no open agreement with."""
    if not permissions.can_create_for(by, initiator):
        raise NotPermittedError(_("Only the officers of %(city)s can draft its agreements.") % {"city": initiator})
    if initiator.pk == partner.pk:
        raise DomainError(_("An agreement needs two different cities."))
    if start_date and end_date and end_date < start_date:
        raise DomainError(_("The term cannot end before it starts."))
    _check_pair_is_free(initiator, partner)
    try:
        # The partial unique index settles a race between two drafts for one pair.
        with transaction.atomic():
            agreement = Agreement.objects.create(
                initiator=initiator,
                partner=partner,
                kind=kind,
                title=title,
                summary=summary,
                start_date=start_date,
                end_date=end_date,
                created_by=by,
            )
    except IntegrityError as error:
        raise ConflictError(_("These two cities already have an agreement that is not finished.")) from error
    agreement.topics.set(topics)
    AgreementTransition.objects.create(
        agreement=agreement, move=Agreement.Move.CREATE, to_status=agreement.status, actor=by
    )
    return agreement


@transaction.atomic
def update_draft(*, agreement: Agreement, by: User, topics: Iterable[Topic] | None = None, **fields: Any) -> Agreement:
    """The initiator's officers change a draft; once proposed, its terms are what the partner answers."""
    if not permissions.can_edit(by, agreement):
        raise NotPermittedError(_("Only the initiating city's officers can change this agreement."))
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if locked.status != Agreement.Status.DRAFT:
        raise ConflictError(
            _("Only a draft can be changed; this agreement is %(status)s.")
            % {"status": locked.get_status_display().lower()}
        )
    editable = {"kind", "title", "summary", "start_date", "end_date"}
    unknown = set(fields) - editable
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    for name, value in fields.items():
        setattr(locked, name, value)
    if locked.start_date and locked.end_date and locked.end_date < locked.start_date:
        raise DomainError(_("The term cannot end before it starts."))
    locked.save(update_fields=[*fields, "updated_at"])
    if topics is not None:
        locked.topics.set(topics)
    return locked


@transaction.atomic
def make_move(
    *,
    agreement: Agreement,
    move: str,
    by: User,
    comment: str = "",
    signed_on: datetime.date | None = None,
    memorandum: File[Any] | None = None,
    end_date: datetime.date | None = None,
    country: str | None = None,
) -> Agreement:
    """A person moves an agreement on: permission (403), then the model method (409 from a wrong status), then e-mail.

    A repeated move changes nothing and sends nothing.
    """
    if move not in permissions.MOVE_PERMISSIONS:
        raise DomainError(_("Unknown move %(move)s.") % {"move": move})
    if not permissions.can_move(by, agreement, move):
        raise NotPermittedError(
            _("You may not %(move)s this agreement.") % {"move": str(Agreement.Move(move).label).lower()}
        )
    transition: AgreementTransition | None
    if move == Agreement.Move.APPROVE:
        transition = agreement.approve(by=by, sides=_sides_to_approve(by, agreement, country), comment=comment)
    elif move == Agreement.Move.SIGN:
        if signed_on is None or memorandum is None:
            raise DomainError(_("Signing needs the signing date and the signed memorandum (PDF)."))
        transition = agreement.sign(by=by, signed_on=signed_on, memorandum=memorandum, comment=comment)
    elif move == Agreement.Move.RENEW:
        if end_date is None:
            raise DomainError(_("Renewing needs the new end of term."))
        side = sorted(permissions.sides_of_officer(by, agreement))[0]
        transition = agreement.renew(by=by, side=side, end_date=end_date, comment=comment)
    else:
        transition = getattr(agreement, move)(by=by, comment=comment)
    if transition is not None:
        _notify_move(agreement, transition)
    return agreement


def _sides_to_approve(by: User, agreement: Agreement, country: str | None) -> frozenset[str]:
    """A national coordinator approves for their country; an SCO coordinator for the one named, or the first pending."""
    sides = permissions.approvable_sides(by, agreement)
    if country:
        cities = {"initiator": agreement.initiator, "partner": agreement.partner}
        named = {side for side in sides if cities[side].country.code == country.upper()}
        if not named:
            raise DomainError(_("You cannot approve for %(country)s here.") % {"country": country})
        return frozenset(named)
    if by.is_sco_coordinator:
        pending = [
            side for side in ("initiator", "partner") if not getattr(agreement, f"{side}_country_approved_by_id")
        ]
        return frozenset(pending[:1] or sides)
    return frozenset(sides)


def _notify_move(agreement: Agreement, transition: AgreementTransition) -> None:
    """E-mail the people whom this move leaves waiting, or whom it concerns."""
    initiator, partner = agreement.initiator, agreement.partner
    recipients: dict[str, list[User]] = {
        Agreement.Move.PROPOSE: _officers(partner),
        Agreement.Move.ACCEPT: _officers(initiator) + _coordinators(initiator, partner),
        Agreement.Move.DECLINE: _officers(initiator),
        Agreement.Move.REJECT: _officers(initiator, partner),
        Agreement.Move.WITHDRAW: (_officers(partner) if transition.from_status != Agreement.Status.DRAFT else [])
        + (_coordinators(initiator, partner) if transition.from_status == Agreement.Status.UNDER_REVIEW else []),
        Agreement.Move.SIGN: _officers(initiator, partner) + _coordinators(initiator, partner),
    }
    if transition.move == Agreement.Move.APPROVE and transition.to_status == Agreement.Status.APPROVED:
        recipients[Agreement.Move.APPROVE] = _officers(initiator, partner)
    people = [person for person in recipients.get(transition.move, []) if person.pk != transition.actor_id]
    if not people:
        return
    notify(
        event=f"agreement_{_EVENT_NAMES[transition.move]}",
        recipients=people,
        context={"agreement": agreement, "actor": transition.actor, "comment": transition.comment},
        occurrence=f"agreement:{agreement.pk}:transition:{transition.pk}",
    )


_EVENT_NAMES: dict[str, str] = {
    Agreement.Move.PROPOSE: "proposed",
    Agreement.Move.ACCEPT: "accepted",
    Agreement.Move.DECLINE: "declined",
    Agreement.Move.REJECT: "rejected",
    Agreement.Move.WITHDRAW: "withdrawn",
    Agreement.Move.SIGN: "signed",
    Agreement.Move.APPROVE: "approved",
}


@transaction.atomic
def log_activity(
    *, agreement: Agreement, by: User, date: datetime.date, kind: str, description: str
) -> AgreementActivity:
    """An officer of either city records what the partners did; it keeps the agreement from going dormant."""
    if not permissions.can_log_activity(by, agreement):
        raise NotPermittedError(_("Only the officers of the two cities can log activity."))
    if agreement.status != Agreement.Status.ACTIVE:
        raise ConflictError(_("Activity is logged on active agreements only."))
    if date > timezone.localdate():
        raise DomainError(_("The activity's date cannot be in the future."))
    return AgreementActivity.objects.create(
        agreement=agreement, date=date, kind=kind, description=description, author=by
    )


def expire_due_agreements(*, today: datetime.date | None = None) -> int:
    """End every agreement whose term is over (the daily task); safe to run twice."""
    today = today or timezone.localdate()
    due = Agreement.objects.filter(
        status__in=[Agreement.Status.ACTIVE, Agreement.Status.SUSPENDED], end_date__lt=today
    ).values_list("pk", flat=True)
    expired = 0
    for pk in due:
        agreement = Agreement.objects.get(pk=pk)
        if agreement.expire(today=today) is not None:
            expired += 1
    return expired


def send_expiry_reminders(*, today: datetime.date | None = None) -> int:
    """Remind both cities 90 and 30 days before the end of term.

    Windows rather than exact days, so a day the task did not run loses no
    reminder; the occurrence names the end date, so each goes once per term.
    """
    today = today or timezone.localdate()
    reminded = 0
    for days, (nearest, farthest) in REMINDER_WINDOWS.items():
        due = Agreement.objects.filter(
            status=Agreement.Status.ACTIVE,
            end_date__range=(today + datetime.timedelta(days=nearest), today + datetime.timedelta(days=farthest)),
        ).select_related("initiator__country", "partner__country")
        for agreement in due:
            with transaction.atomic():
                notify(
                    event=f"agreement_expiring_{days}",
                    recipients=_officers(agreement.initiator, agreement.partner),
                    context={"agreement": agreement, "actor": None, "comment": "", "days": days},
                    occurrence=f"agreement:{agreement.pk}:expiring:{agreement.end_date}:{days}",
                )
            reminded += 1
    return reminded


@dataclass
class ImportReport:
    imported: int = 0
    already_there: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)


def import_agreements(*, path: Path) -> ImportReport:
    """Create the real, existing partnerships of a twinning list as active agreements with their source.

    Rows that are not city to city, whose city is not in the directory, or whose
    name does not match the GeoNames record are skipped and reported by line:
    the importer never guesses. A pair that already has an agreement is left alone,
    so a re-run creates nothing.
    """
    report = ImportReport()
    cities = {city.geonameid: city for city in City.objects.select_related("country")}
    seen: dict[frozenset[int], int] = {}
    # Every pair that already has an agreement, read once rather than once per row.
    existing = {frozenset(pair) for pair in Agreement.objects.values_list("initiator_id", "partner_id")}
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                first = _import_city(row, "a", cities)
                second = _import_city(row, "b", cities)
                pair = frozenset({first.pk, second.pk})
                if len(pair) == 1:
                    raise _Skip(_("both sides are %(city)s") % {"city": first.name})
                if pair in seen:
                    raise _Skip(_("same pair as line %(line)d") % {"line": seen[pair]})
                seen[pair] = line
            except _Skip as skip:
                report.skipped.append((line, str(skip)))
                continue
            if pair in existing:
                report.already_there += 1
                continue
            _create_imported(first, second, row)
            report.imported += 1
    return report


class _Skip(Exception):
    pass


def _import_city(row: dict[str, str], side: str, cities: dict[int, City]) -> City:
    name, entity, geonameid = row[f"city_{side}"], row[f"entity_{side}"], row[f"geonameid_{side}"].strip()
    if entity != "city":
        raise _Skip(_("%(name)s is a %(entity)s, not a city") % {"name": name, "entity": entity})
    if not geonameid.isdigit():
        raise _Skip(_("%(name)s has no GeoNames id") % {"name": name})
    city = cities.get(int(geonameid))
    if city is None:
        raise _Skip(_("%(name)s (GeoNames %(id)s) is not in the city directory") % {"name": name, "id": geonameid})
    if name.casefold() not in city.search_names.split("\n"):
        raise _Skip(
            _("%(name)s does not match GeoNames %(id)s, which is %(geonames)s")
            % {"name": name, "id": geonameid, "geonames": city.name}
        )
    return city


@transaction.atomic
def _create_imported(first: City, second: City, row: dict[str, str]) -> None:
    agreement = Agreement.objects.create(
        initiator=first,
        partner=second,
        kind=Agreement.Kind.FRIENDSHIP_CITY if row["relation"] == "partner" else Agreement.Kind.SISTER_CITY,
        title=f"{first.name} – {second.name}",
        status=Agreement.Status.ACTIVE,
        source=row["source"],
    )
    AgreementTransition.objects.create(
        agreement=agreement, move=Agreement.Move.IMPORT, to_status=agreement.status, comment=row["source"]
    )
