"""Sister-city and friendship-city agreements, their audit trail and the activity that keeps them alive."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cities.models import City, Country, Topic
from sco_portal import uploads
from sco_portal.content_languages import LANGUAGE_CHOICES, ContentTranslation, HasTranslations
from sco_portal.errors import ConflictError, DomainError
from sco_portal.workflows import TransitionRecord, Workflow, step

MEMORANDUM_MAX_BYTES = 10 * 1024 * 1024
MEMORANDUM = uploads.FileCheck(uploads.PDF, max_bytes=MEMORANDUM_MAX_BYTES)
DORMANT_AFTER = datetime.timedelta(days=365)
# The two parties of an agreement, as the approval and renewal fields name them.
SIDES = ("initiator", "partner")


def validate_memorandum(memorandum: File[Any]) -> None:
    """A signed memorandum is a PDF that pypdf reads whole (every page, not encrypted), of at most 10 MB."""
    MEMORANDUM.check(memorandum)


class AgreementQuerySet(models.QuerySet["Agreement"]):
    def unfinished(self) -> AgreementQuerySet:
        return self.exclude(status__in=Agreement.FINISHED)

    def between(self, first: City | int, second: City | int) -> AgreementQuerySet:
        """Agreements of this pair of cities, whichever initiated."""
        return self.filter(Q(initiator=first, partner=second) | Q(initiator=second, partner=first))

    def involving(self, city: City | int) -> AgreementQuerySet:
        return self.filter(Q(initiator=city) | Q(partner=city))

    def with_health(self, today: datetime.date | None = None) -> AgreementQuerySet:
        """Annotate `last_activity_on` and `is_dormant`: active with nothing logged for 12 months.

        Without any activity the clock starts at signing, or at creation for
        imported agreements whose signing date the public lists do not give.
        """
        today = today or timezone.localdate()
        latest = AgreementActivity.objects.filter(agreement=models.OuterRef("pk")).order_by("-date").values("date")[:1]
        return (
            self.annotate(last_activity_on=models.Subquery(latest, output_field=models.DateField()))
            .annotate(
                health_since=Coalesce(
                    "last_activity_on", "signed_on", TruncDate("created_at"), output_field=models.DateField()
                )
            )
            .annotate(
                is_dormant=models.Case(
                    models.When(
                        Q(status=Agreement.Status.ACTIVE, health_since__lt=today - DORMANT_AFTER),
                        then=models.Value(True),
                    ),
                    default=models.Value(False),
                    output_field=models.BooleanField(),
                )
            )
        )

    def visible_to(self, user: Any) -> AgreementQuerySet:
        from partnerships.permissions import visible_agreements

        return visible_agreements(self, user)


class Agreement(HasTranslations, Workflow["AgreementTransition"]):
    """An agreement between two cities, from the initiator's draft to its end.

    draft → proposed → under_review → approved → active → expired | terminated,
    with declined (by the partner), rejected (by a coordinator), withdrawn (by
    the initiator) and active ↔ suspended. Both countries' coordinators must
    approve. Every move is a method below and leaves an AgreementTransition.
    """

    class Kind(models.TextChoices):
        SISTER_CITY = "sister_city", _("Sister cities")
        FRIENDSHIP_CITY = "friendship_city", _("Friendship cities")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PROPOSED = "proposed", _("Proposed")
        UNDER_REVIEW = "under_review", _("Under review")
        APPROVED = "approved", _("Approved")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")
        DECLINED = "declined", _("Declined")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Move(models.TextChoices):
        CREATE = "create", _("Created")
        IMPORT = "import", _("Imported")
        PROPOSE = "propose", _("Propose")
        WITHDRAW = "withdraw", _("Withdraw")
        ACCEPT = "accept", _("Accept")
        DECLINE = "decline", _("Decline")
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        SIGN = "sign", _("Sign")
        SUSPEND = "suspend", _("Suspend")
        RESUME = "resume", _("Resume")
        TERMINATE = "terminate", _("Terminate")
        RENEW = "renew", _("Renew")
        EXPIRE = "expire", _("Expire")

    # The whole workflow: each move, the statuses it starts from, where it leads.
    # Approve and renew are made in steps (both countries, both cities).
    TRANSITIONS = {
        Move.PROPOSE: step({Status.DRAFT}, Status.PROPOSED, done=_("proposed")),
        Move.WITHDRAW: step(
            {Status.DRAFT, Status.PROPOSED, Status.UNDER_REVIEW}, Status.WITHDRAWN, done=_("withdrawn")
        ),
        Move.ACCEPT: step({Status.PROPOSED}, Status.UNDER_REVIEW, done=_("accepted")),
        Move.DECLINE: step({Status.PROPOSED}, Status.DECLINED, done=_("declined")),
        Move.APPROVE: step({Status.UNDER_REVIEW}, Status.APPROVED, done=_("approved"), stepwise=True),
        Move.REJECT: step({Status.UNDER_REVIEW}, Status.REJECTED, done=_("rejected")),
        Move.SIGN: step({Status.APPROVED}, Status.ACTIVE, done=_("signed")),
        Move.SUSPEND: step({Status.ACTIVE}, Status.SUSPENDED, done=_("suspended")),
        Move.RESUME: step({Status.SUSPENDED}, Status.ACTIVE, done=_("resumed")),
        Move.TERMINATE: step({Status.ACTIVE, Status.SUSPENDED}, Status.TERMINATED, done=_("terminated")),
        Move.RENEW: step({Status.ACTIVE}, Status.ACTIVE, done=_("renewed"), stepwise=True),
        Move.EXPIRE: step({Status.ACTIVE, Status.SUSPENDED}, Status.EXPIRED, done=_("expired")),
    }
    CONFLICT_MESSAGE = _("An agreement that is %(status)s cannot be %(move)s.")
    FINISHED = frozenset({Status.EXPIRED, Status.TERMINATED, Status.DECLINED, Status.REJECTED, Status.WITHDRAWN})
    PUBLIC = frozenset({Status.ACTIVE, Status.EXPIRED, Status.TERMINATED})
    # The dates an agreement's term may take: sister-city ties began after the Second World War, and no term runs a
    # century ahead (a walk-through saved a term from 1 January of the year 1 to 9999).
    TERM_RANGE = (datetime.date(1945, 1, 1), datetime.date(2100, 12, 31))
    IN_PROGRESS = frozenset({Status.PROPOSED, Status.UNDER_REVIEW, Status.APPROVED})
    SIGNED = frozenset({Status.ACTIVE, Status.SUSPENDED, Status.EXPIRED, Status.TERMINATED})

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SISTER_CITY)
    initiator = models.ForeignKey(
        City, on_delete=models.PROTECT, related_name="initiated_agreements", verbose_name=_("initiating city")
    )
    partner = models.ForeignKey(
        City, on_delete=models.PROTECT, related_name="partner_agreements", verbose_name=_("partner city")
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="agreements", verbose_name=_("topics"))
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    # The language the title and summary are written in; `translations` holds them in the others.
    original_language = models.CharField(
        _("original language"), max_length=10, choices=LANGUAGE_CHOICES, default=settings.LANGUAGE_CODE
    )
    start_date = models.DateField(_("start of term"), null=True, blank=True)
    end_date = models.DateField(_("end of term"), null=True, blank=True, help_text=_("Empty: open-ended."))
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    memorandum = models.FileField(
        _("signed memorandum"),
        upload_to=uploads.GeneratedName("memoranda"),
        blank=True,
        validators=[validate_memorandum],
    )
    source = models.TextField(_("source"), blank=True, help_text=_("Where an imported agreement is documented."))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)

    initiator_country_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    initiator_country_approved_at = models.DateTimeField(null=True, blank=True)
    partner_country_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    partner_country_approved_at = models.DateTimeField(null=True, blank=True)

    # A renewal waits here until the officers of both cities have confirmed the same new end date.
    renewal_end_date = models.DateField(_("proposed new end of term"), null=True, blank=True)
    renewal_confirmed_by_initiator = models.BooleanField(default=False)
    renewal_confirmed_by_partner = models.BooleanField(default=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        indexes = [models.Index(fields=["status"], name="agreement_status")]
        constraints = [
            models.CheckConstraint(condition=~Q(initiator=models.F("partner")), name="agreement_two_cities"),
            models.UniqueConstraint(
                Least("initiator", "partner"),
                Greatest("initiator", "partner"),
                condition=~Q(status__in=["expired", "terminated", "declined", "rejected", "withdrawn"]),
                name="one_unfinished_agreement_per_pair",
                violation_error_message=_("These two cities already have an agreement that is not finished."),
            ),
            # Signed means a signing date, except for imported agreements: the public lists give none.
            models.CheckConstraint(
                condition=~Q(status__in=["active", "suspended", "expired", "terminated"])
                | Q(signed_on__isnull=False)
                | ~Q(source=""),
                name="signed_agreement_has_signing_date",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="agreement_term_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def line_style(self) -> str:
        """How maps draw it: "proposed" while in progress, "dormant" when suspended or with no activity for
        12 months (needs `with_health()`), else "active"."""
        if self.status in self.IN_PROGRESS:
            return "proposed"
        if self.status == self.Status.SUSPENDED or getattr(self, "is_dormant", False):
            return "dormant"
        return "active"

    def get_absolute_url(self) -> str:
        return reverse("partnerships:detail", args=[self.pk])

    @classmethod
    def check_term(cls, start_date: datetime.date | None, end_date: datetime.date | None) -> None:
        """A term's dates within TERM_RANGE and in order (either may be left open); a DomainError names the fault."""
        first, last = cls.TERM_RANGE
        if any(day is not None and not first <= day <= last for day in (start_date, end_date)):
            raise DomainError(
                gettext("A term's dates lie between %(first)s and %(last)s.") % {"first": first.year, "last": last.year}
            )
        if start_date and end_date and end_date < start_date:
            raise DomainError(gettext("The term cannot end before it starts."))

    @classmethod
    def is_ending(cls, move: str) -> bool:
        """The move finishes the agreement (withdraw, decline, reject, terminate): pages ask to confirm it."""
        return cls.TRANSITIONS[move].target in cls.FINISHED

    def waiting_for(self) -> list[Country]:
        """The countries whose approval an agreement under review still needs."""
        if self.status != self.Status.UNDER_REVIEW:
            return []
        cities = {"initiator": self.initiator, "partner": self.partner}
        return [cities[side].country for side in SIDES if side not in self.approved_sides()]

    # -- moves: each one row, locked and recorded by the workflow engine -------

    def propose(self, *, by: Any, comment: str = "") -> AgreementTransition | None:
        return self.make_transition(self.Move.PROPOSE, by=by, comment=comment)

    def withdraw(self, *, by: Any, comment: str = "") -> AgreementTransition | None:
        return self.make_transition(self.Move.WITHDRAW, by=by, comment=comment)

    def accept(self, *, by: Any, comment: str = "") -> AgreementTransition | None:
        return self.make_transition(self.Move.ACCEPT, by=by, comment=comment)

    def decline(self, *, by: Any, comment: str = "") -> AgreementTransition | None:
        return self.make_transition(self.Move.DECLINE, by=by, comment=comment)

    def approved_sides(self) -> set[str]:
        """ "initiator" and/or "partner": the sides whose country has approved."""
        return {side for side in SIDES if getattr(self, f"{side}_country_approved_by_id") is not None}

    def approve(self, *, by: Any, sides: frozenset[str], comment: str = "") -> AgreementTransition | None:
        """Record the approval of the given sides ("initiator", "partner"); approved once both have one.

        The audit row names the sides this step approved, so the timeline can say
        "Kazakhstan approved; waiting for Kyrgyzstan".
        """
        details: dict[str, Any] = {}

        def pending(agreement: Agreement) -> list[str]:
            return sorted(set(sides) - agreement.approved_sides())

        def apply(agreement: Agreement) -> list[str]:
            now = timezone.now()
            changed = []
            details["sides"] = pending(agreement)
            for side in details["sides"]:
                setattr(agreement, f"{side}_country_approved_by", by)
                setattr(agreement, f"{side}_country_approved_at", now)
                changed += [f"{side}_country_approved_by", f"{side}_country_approved_at"]
            if agreement.approved_sides() == set(SIDES):
                agreement.status = self.Status.APPROVED
                changed.append("status")
            return changed

        return self.make_transition(
            self.Move.APPROVE,
            by=by,
            comment=comment,
            apply=apply,
            done=lambda a: (
                a.status == self.Status.APPROVED or (a.status == self.Status.UNDER_REVIEW and not pending(a))
            ),
            details=details,
        )

    def reject(self, *, by: Any, comment: str = "") -> AgreementTransition | None:
        return self.make_transition(self.Move.REJECT, by=by, comment=comment)

    def sign(
        self, *, by: Any, signed_on: datetime.date, memorandum: File[Any], comment: str = ""
    ) -> AgreementTransition | None:
        if signed_on > timezone.localdate():
            raise DomainError(gettext("The signing date cannot be in the future."))
        if signed_on < self.TERM_RANGE[0]:
            raise DomainError(
                gettext("The signing date cannot be before %(year)s.") % {"year": self.TERM_RANGE[0].year}
            )

        def apply(agreement: Agreement) -> list[str]:
            agreement.signed_on = signed_on
            uploads.store(agreement.memorandum, memorandum, check=MEMORANDUM)
            changed = ["signed_on", "memorandum"]
            if agreement.start_date is None:
                agreement.start_date = signed_on
                changed.append("start_date")
            return changed

        return self.make_transition(self.Move.SIGN, by=by, comment=comment, apply=apply)

    def suspend(self, *, by: Any, comment: str = "") -> AgreementTransition | None:
        return self.make_transition(self.Move.SUSPEND, by=by, comment=comment)

    def resume(self, *, by: Any, comment: str = "") -> AgreementTransition | None:
        return self.make_transition(self.Move.RESUME, by=by, comment=comment)

    def terminate(self, *, by: Any, comment: str) -> AgreementTransition | None:
        if not comment.strip():
            raise DomainError(gettext("Say why the agreement is terminated."))
        return self.make_transition(self.Move.TERMINATE, by=by, comment=comment)

    def expire(self, *, today: datetime.date | None = None) -> AgreementTransition | None:
        """End the agreement at the end of its term (the daily task)."""
        today = today or timezone.localdate()
        if self.end_date is None or self.end_date >= today:
            raise ConflictError(gettext("The agreement's term has not ended."))
        return self.make_transition(self.Move.EXPIRE, by=None)

    def renew(self, *, by: Any, side: str, end_date: datetime.date, comment: str = "") -> AgreementTransition | None:
        """One city's officers confirm a new end of term; the term changes once both cities confirm it."""
        if end_date <= timezone.localdate() or (self.end_date and end_date <= self.end_date):
            raise DomainError(gettext("The new end of term must be later than the current one and than today."))
        other = "partner" if side == "initiator" else "initiator"

        def apply(agreement: Agreement) -> list[str]:
            if agreement.renewal_end_date != end_date:
                agreement.renewal_end_date = end_date
                agreement.renewal_confirmed_by_initiator = agreement.renewal_confirmed_by_partner = False
            setattr(agreement, f"renewal_confirmed_by_{side}", True)
            if getattr(agreement, f"renewal_confirmed_by_{other}"):
                agreement.end_date = end_date
                agreement.renewal_end_date = None
                agreement.renewal_confirmed_by_initiator = agreement.renewal_confirmed_by_partner = False
            return [
                "end_date",
                "renewal_end_date",
                "renewal_confirmed_by_initiator",
                "renewal_confirmed_by_partner",
            ]

        return self.make_transition(
            self.Move.RENEW,
            by=by,
            comment=comment,
            apply=apply,
            done=lambda a: (
                a.end_date == end_date
                or (a.renewal_end_date == end_date and getattr(a, f"renewal_confirmed_by_{side}"))
            ),
        )


class AgreementTransition(TransitionRecord):
    """One move in an agreement's life: who made it, when, from which status to which, and why."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="transitions")
    move = models.CharField(_("move"), max_length=20, choices=Agreement.Move.choices)
    from_status = models.CharField(_("from"), max_length=20, choices=Agreement.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Agreement.Status.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("agreement transition")
        verbose_name_plural = _("agreement transitions")

    def __str__(self) -> str:
        return f"{self.agreement_id}: {self.from_status or '-'} → {self.to_status} ({self.move})"

    def approved_countries(self) -> list[Country]:
        """The countries an approval step approved for (empty for other moves)."""
        cities = {"initiator": self.agreement.initiator, "partner": self.agreement.partner}
        return [cities[side].country for side in self.details.get("sides", []) if side in cities]


class AgreementActivity(models.Model):
    """Something the partners did together under an active agreement; what keeps it from going dormant."""

    class Kind(models.TextChoices):
        VISIT = "visit", _("Visit")
        EXCHANGE = "exchange", _("Exchange")
        JOINT_PROJECT = "joint_project", _("Joint project")
        EVENT = "event", _("Event")
        OTHER = "other", _("Other")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="activities")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    description = models.CharField(_("what happened"), max_length=300)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [models.Index(fields=["agreement", "-date"], name="activity_agreement_date")]

    def __str__(self) -> str:
        return f"{self.date}: {self.description}"


class AgreementTranslation(ContentTranslation):
    """An agreement's title and summary in a language other than the one it was written in."""

    original = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="translations")

    class Meta:
        ordering = ["language"]
        verbose_name = _("translation")
        verbose_name_plural = _("translations")
        constraints = [
            models.UniqueConstraint(fields=["original", "language"], name="one_agreement_translation_per_language"),
        ]
