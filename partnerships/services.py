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
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from cities.models import City, Topic
from notifications.services import notify
from partnerships import events, permissions
from partnerships.models import SIDES, Agreement, AgreementActivity, AgreementTransition, AgreementTranslation
from sco_portal import changes
from sco_portal.content_languages import language_name, portal_language
from sco_portal.errors import ConflictError, DomainError, NotPermittedError

# Days before the end of term: (nearest, farthest) end dates that get this reminder.
REMINDER_WINDOWS = {90: (31, 90), 30: (0, 30)}


def pair_taken_message(existing: Agreement) -> str:
    return _("%(first)s and %(second)s already have an agreement that is not finished: “%(title)s” (%(status)s).") % {
        "first": existing.initiator.display_name,
        "second": existing.partner.display_name,
        "title": existing.title,
        "status": existing.get_status_display().lower(),
    }


@transaction.atomic
def save_agreement_translation(
    *, agreement: Agreement, language: str, title: str, summary: str = "", by: User
) -> AgreementTranslation | None:
    """An officer of either city writes the title and summary in another language; an empty title removes it.

    The original stays as it was written: a translation into its own language is refused.
    """
    if not permissions.can_translate(by, agreement):
        raise NotPermittedError(_("Only the officers of the two cities can translate this agreement."))
    code = portal_language(language)
    if code is None or code != language:
        raise DomainError(_("The portal has no language %(language)r.") % {"language": language})
    if code == agreement.original_language:
        raise DomainError(
            _("The agreement is written in %(language)s: change the original instead.")
            % {"language": language_name(code)}
        )
    if not title.strip():
        AgreementTranslation.objects.filter(original=agreement, language=code).delete()
        return None
    translation, _created = AgreementTranslation.objects.update_or_create(
        original=agreement,
        language=code,
        defaults={"title": title.strip(), "summary": summary.strip(), "translated_by": by},
    )
    return translation


def unfinished_agreement(first: City, second: City) -> Agreement | None:
    """The agreement of this pair that is not finished, if there is one (there is at most one)."""
    return Agreement.objects.between(first, second).unfinished().select_related("initiator", "partner").first()


def _check_pair_is_free(initiator: City, partner: City) -> None:
    if taken := unfinished_agreement(initiator, partner):
        raise ConflictError(pair_taken_message(taken))


def check_two_cities(*, initiator: City, partner: City) -> None:
    """An agreement joins two different cities (asked before the form, and again at the draft)."""
    if initiator.pk == partner.pk:
        raise DomainError(_("An agreement needs two different cities."))


@transaction.atomic
def create_draft(
    *,
    by: User,
    initiator: City,
    partner: City,
    title: str,
    kind: str = Agreement.Kind.SISTER_CITY,
    summary: str = "",
    original_language: str = "en",
    topics: Iterable[Topic] = (),
    start_date: datetime.date | None = None,
    end_date: datetime.date | None = None,
) -> Agreement:
    """An officer drafts an agreement for their own city with another city that it has no open agreement with."""
    if not permissions.can_create_for(by, initiator):
        raise NotPermittedError(_("Only the officers of %(city)s can draft its agreements.") % {"city": initiator})
    check_two_cities(initiator=initiator, partner=partner)
    Agreement.check_term(start_date, end_date)
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
                original_language=original_language,
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
    # A draft blocks the pair from each other's suggestions, and is on no public record.
    changes.cities_changed(initiator.pk, partner.pk, between_them_only=True)
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
    editable = {"kind", "title", "summary", "original_language", "start_date", "end_date"}
    unknown = set(fields) - editable
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    for name, value in fields.items():
        setattr(locked, name, value)
    Agreement.check_term(locked.start_date, locked.end_date)
    locked.save(update_fields=[*fields, "updated_at"])
    if topics is not None:
        locked.topics.set(topics)
    return locked


@dataclass(frozen=True)
class MoveResult:
    """What a move did: the agreement as it is now, and whether this request changed it or found it done."""

    agreement: Agreement
    transition: AgreementTransition | None

    @property
    def repeated(self) -> bool:
        return self.transition is None


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
) -> MoveResult:
    """A person moves an agreement on: permission (403), then the model method (409 from a wrong status), then e-mail.

    A repeated move changes nothing and sends nothing; the result says it was repeated.
    """
    if move not in permissions.MOVE_PERMISSIONS:
        raise DomainError(_("Unknown move %(move)s.") % {"move": move})
    Move = Agreement.Move
    if not permissions.can_move(by, agreement, move):
        raise NotPermittedError(_("You may not %(move)s this agreement.") % {"move": str(Move(move).label).lower()})
    transition: AgreementTransition | None
    if move == Move.APPROVE:
        transition = agreement.approve(by=by, sides=_sides_to_approve(by, agreement, country), comment=comment)
    elif move == Move.REJECT:
        if agreement.allows(move) and not permissions.has_work_left(by, agreement, move):
            raise ConflictError(_("You have approved this agreement already; it waits for the other country."))
        transition = agreement.reject(by=by, comment=comment)
    elif move == Move.SIGN:
        if signed_on is None or memorandum is None:
            raise DomainError(_("Signing needs the signing date and the signed memorandum (PDF)."))
        transition = agreement.sign(by=by, signed_on=signed_on, memorandum=memorandum, comment=comment)
    elif move == Move.RENEW:
        if end_date is None:
            raise DomainError(_("Renewing needs the new end of term."))
        side = sorted(permissions.sides_of_officer(by, agreement))[0]
        transition = agreement.renew(by=by, side=side, end_date=end_date, comment=comment)
    else:
        transition = getattr(agreement, move)(by=by, comment=comment)
    if transition is not None:
        _notify_move(agreement, transition)
        _report_change(agreement, transition)
    return MoveResult(agreement=agreement, transition=transition)


def _report_change(agreement: Agreement, transition: AgreementTransition) -> None:
    """What the rest of the portal reads of an agreement is where it stands: open (not finished) or not, and on the
    public record (active, expired, terminated) or not. A move that changes neither (a proposal, an acceptance, an
    approval, a renewal) is not reported: each such move in the embedded mode spent seconds recomputing partner
    suggestions that it could not change. One that changes only whether it is open concerns the two cities with
    each other alone."""
    before, after = transition.from_status, transition.to_status
    public = (before in Agreement.PUBLIC) != (after in Agreement.PUBLIC)
    if public or (before in Agreement.FINISHED) != (after in Agreement.FINISHED):
        changes.cities_changed(agreement.initiator_id, agreement.partner_id, between_them_only=not public)


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
        pending = sorted(permissions.pending_sides(by, agreement), key=SIDES.index)
        return frozenset(pending[:1] or sides)
    return frozenset(sides)


def _notify_move(agreement: Agreement, transition: AgreementTransition) -> None:
    """E-mail the people whom this move leaves waiting, or whom it concerns."""
    Move, Status = Agreement.Move, Agreement.Status
    initiator, partner = agreement.initiator, agreement.partner
    everyone = permissions.officers_of(initiator, partner) + permissions.coordinators_of(initiator, partner)
    recipients: dict[str, list[User]] = {
        Move.PROPOSE: permissions.officers_of(partner),
        Move.ACCEPT: permissions.officers_of(initiator) + permissions.coordinators_of(initiator, partner),
        Move.DECLINE: permissions.officers_of(initiator),
        Move.REJECT: permissions.officers_of(initiator, partner),
        Move.WITHDRAW: (permissions.officers_of(partner) if transition.from_status != Status.DRAFT else [])
        + (permissions.coordinators_of(initiator, partner) if transition.from_status == Status.UNDER_REVIEW else []),
        Move.SIGN: everyone,
        Move.TERMINATE: everyone,
    }
    if transition.move == Move.APPROVE and transition.to_status == Status.APPROVED:
        recipients[Move.APPROVE] = permissions.officers_of(initiator, partner)
    event = _MOVE_EVENTS.get(transition.move, "")
    if transition.move == Move.RENEW:
        # One city confirmed a new end of term: the other city's officers are asked to (a walk-through found the
        # other city told only by its inbox). Both confirmed: the term is renewed, and both cities told.
        if agreement.renewal_end_date is not None:
            waiting = partner if agreement.renewal_confirmed_by_initiator else initiator
            event, recipients[Move.RENEW] = events.RENEWAL_PROPOSED, permissions.officers_of(waiting)
        else:
            event, recipients[Move.RENEW] = events.RENEWED, permissions.officers_of(initiator, partner)
    people = [person for person in recipients.get(transition.move, []) if person.pk != transition.actor_id]
    if not people:
        return
    notify(
        event=event,
        recipients=people,
        context={"agreement": agreement, "actor": transition.actor, "comment": transition.comment},
        occurrence=f"agreement:{agreement.pk}:transition:{transition.pk}",
    )


_MOVE_EVENTS: dict[str, str] = {
    Agreement.Move.PROPOSE: events.PROPOSED,
    Agreement.Move.ACCEPT: events.ACCEPTED,
    Agreement.Move.DECLINE: events.DECLINED,
    Agreement.Move.REJECT: events.REJECTED,
    Agreement.Move.WITHDRAW: events.WITHDRAWN,
    Agreement.Move.SIGN: events.SIGNED,
    Agreement.Move.APPROVE: events.APPROVED,
    Agreement.Move.TERMINATE: events.TERMINATED,
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
    if agreement.signed_on and date < agreement.signed_on:
        raise DomainError(
            _("The activity's date cannot be before the agreement was signed (%(date)s).")
            % {"date": date_format(agreement.signed_on)}
        )
    return AgreementActivity.objects.create(
        agreement=agreement, date=date, kind=kind, description=description, author=by
    )


def expire_due_agreements(*, among: QuerySet[Agreement] | None = None, today: datetime.date | None = None) -> int:
    """End every agreement whose term is over (the daily task), or those of `among` (the admin's selection).

    Safe to run twice: each expiry locks its row and re-checks.
    """
    today = today or timezone.localdate()
    due = (
        (Agreement.objects.all() if among is None else among)
        .filter(status__in=Agreement.TRANSITIONS[Agreement.Move.EXPIRE].sources, end_date__lt=today)
        .values_list("pk", flat=True)
    )
    expired = 0
    for pk in due:
        agreement = Agreement.objects.get(pk=pk)
        if (transition := agreement.expire(today=today)) is not None:
            expired += 1
            _report_change(agreement, transition)
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
                    event=events.EXPIRING_90 if days == 90 else events.EXPIRING_30,
                    recipients=permissions.officers_of(agreement.initiator, agreement.partner),
                    context={"agreement": agreement, "actor": None, "comment": "", "days": days},
                    occurrence=f"agreement:{agreement.pk}:expiring:{agreement.end_date}:{days}",
                )
            reminded += 1
    return reminded


def remind_dormant_agreements(*, today: datetime.date | None = None) -> int:
    """Invite both cities' officers to log an activity when an active agreement turns dormant (the daily task).

    One e-mail per dormant spell: the occurrence names the day the quiet began,
    so a repeated run sends nothing, and an agreement revived and gone quiet
    again is a new spell. The inbox shows dormant agreements whatever e-mail says.
    """
    today = today or timezone.localdate()
    dormant = (
        Agreement.objects.with_health(today=today)
        .filter(Q(is_dormant=True))
        .select_related("initiator__country", "partner__country")
    )
    reminded = 0
    for agreement in dormant:
        since = agreement.health_since  # type: ignore[attr-defined]  # annotated by with_health()
        with transaction.atomic():
            notify(
                event=events.DORMANT,
                recipients=permissions.officers_of(agreement.initiator, agreement.partner),
                context={"agreement": agreement, "actor": None, "comment": "", "since": since},
                occurrence=f"agreement:{agreement.pk}:dormant-since:{since}",
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
    touched: set[int] = set()
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
            touched.update(pair)
            report.imported += 1
    changes.cities_changed(*touched)
    return report


class _Skip(Exception):
    pass


def _import_city(row: dict[str, str], side: str, cities: dict[int, City]) -> City:
    name, entity, geonameid = row[f"city_{side}"], row[f"entity_{side}"], row[f"geonameid_{side}"].strip()
    if entity != "city":
        raise _Skip(_("%(name)s is a %(entity)s, not a city") % {"name": name, "entity": entity})
    if not geonameid.isdecimal():  # not isdigit: "²" is a digit that int() refuses
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
