"""Best practices: what a city did that worked, as a record other cities can compare and copy."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import PurePosixPath
from typing import Any

import pycountry
from babel import Locale, UnknownLocaleError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cities.models import City, Topic
from sco_portal import uploads
from sco_portal.content_languages import ContentTranslation, HasTranslations, portal_language
from sco_portal.workflows import TransitionRecord, Workflow, step

# Years a practice's period and its indicators may name.
FIRST_YEAR, LAST_YEAR = 1950, 2100

# What a practice may carry besides its text: documents and pictures, judged by their content.
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_PER_PRACTICE = 5
# Significant digits a cost or a measured figure may have: SQLite (the embedded default) keeps a decimal as a
# float, which holds 15, and a number with more saved there could not be read back (every page showing it failed).
SIGNIFICANT_DIGITS = 15


def validate_significant_digits(value: Decimal) -> None:
    """At most SIGNIFICANT_DIGITS digits from the first non-zero one to the last (123,000,000 has three). The
    columns keep their width: a validator, not a narrower column, so that no figure already saved on
    PostgreSQL is refused by a migration."""
    if value.is_finite() and len(value.normalize().as_tuple().digits) > SIGNIFICANT_DIGITS:
        raise ValidationError(
            _("Enter a number with at most %(count)d significant digits."),
            code="significant_digits",
            params={"count": SIGNIFICANT_DIGITS},
        )


ATTACHMENT = uploads.FileCheck(uploads.PDF, *uploads.IMAGES, max_bytes=ATTACHMENT_MAX_BYTES)


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 alphabetic codes, as pycountry knows them."""
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


@cache
def language_choices() -> list[tuple[str, str]]:
    """ISO 639-1 languages (those with a two-letter code), by English name."""
    languages = [(language.alpha_2, language.name) for language in pycountry.languages if hasattr(language, "alpha_2")]
    return sorted(languages, key=lambda choice: choice[1])


def language_choices_for_reader() -> list[tuple[str, str]]:
    """The same languages, named in the reader's language (CLDR, through babel) where it has a name."""
    names: Mapping[str, str]
    try:
        names = Locale.parse(translation.to_locale(translation.get_language() or "en")).languages
    except (ValueError, UnknownLocaleError):
        names = {}
    choices = [(code, names.get(code, name)) for code, name in language_choices()]
    return sorted(choices, key=lambda choice: choice[1].casefold())


def validate_currency(code: str) -> None:
    if code and code not in currency_codes():
        raise ValidationError(
            _("%(code)s is not an ISO 4217 currency code."), params={"code": code}, code="unknown_currency"
        )


def validate_language(code: str) -> None:
    if code not in {code for code, _name in language_choices()}:
        raise ValidationError(
            _("%(code)s is not an ISO 639-1 language code."), params={"code": code}, code="unknown_language"
        )


class SustainableDevelopmentGoal(models.Model):
    """One of the 17 UN Sustainable Development Goals; a practice names those it serves.

    A table rather than a list column so the SDG filter works on SQLite and PostgreSQL alike;
    the 17 rows are created by the migration.
    """

    number = models.PositiveSmallIntegerField(_("number"), primary_key=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("sustainable development goal")
        verbose_name_plural = _("sustainable development goals")
        constraints = [models.CheckConstraint(condition=Q(number__gte=1, number__lte=17), name="sdg_is_1_to_17")]

    def __str__(self) -> str:
        return str(_("SDG %(number)d") % {"number": self.number})


class PracticeQuerySet(models.QuerySet["Practice"]):
    def published(self) -> PracticeQuerySet:
        return self.filter(status=Practice.Status.PUBLISHED)

    def visible_to(self, user: Any) -> PracticeQuerySet:
        from practices.permissions import visible_practices

        return visible_practices(self, user)

    def search(self, text: str) -> PracticeQuerySet:
        from practices.search import search_practices

        return search_practices(self, text)


class Practice(HasTranslations, Workflow["PracticeTransition"]):
    """A practice a city shares: the problem, what was done, the results as indicators, what it cost.

    draft → submitted → published | returned (→ submitted again); published → archived.
    The city's officers write and submit; a coordinator of the city's country or the
    SCO secretariat publishes or returns it. Published practices are public. Every
    move leaves a PracticeTransition. Free text is plain text, rendered escaped.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        PUBLISHED = "published", _("Published")
        RETURNED = "returned", _("Returned")
        ARCHIVED = "archived", _("Archived")

    class Move(models.TextChoices):
        CREATE = "create", _("Created")
        SUBMIT = "submit", _("Submit")
        PUBLISH = "publish", _("Publish")
        RETURN = "return", _("Return for changes")
        ARCHIVE = "archive", _("Archive")

    # The whole workflow: each move, the statuses it starts from, where it leads.
    TRANSITIONS = {
        Move.SUBMIT: step({Status.DRAFT, Status.RETURNED}, Status.SUBMITTED, done=_("submitted")),
        Move.PUBLISH: step({Status.SUBMITTED}, Status.PUBLISHED, done=_("published")),
        Move.RETURN: step({Status.SUBMITTED}, Status.RETURNED, done=_("returned")),
        Move.ARCHIVE: step({Status.PUBLISHED}, Status.ARCHIVED, done=_("archived")),
    }
    CONFLICT_MESSAGE = _("A practice that is %(status)s cannot be %(move)s.")
    # What its city's officers may still change.
    EDITABLE = frozenset({Status.DRAFT, Status.RETURNED})

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="practices", verbose_name=_("city"))
    topics = models.ManyToManyField(Topic, related_name="practices", verbose_name=_("topics"))
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), max_length=1000)
    problem = models.TextField(_("the problem"), blank=True)
    solution = models.TextField(_("what was done"), blank=True)
    cost = models.DecimalField(
        _("cost"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), validate_significant_digits],
    )
    currency = models.CharField(
        _("currency"), max_length=3, blank=True, validators=[validate_currency], help_text=_("ISO 4217, e.g. KZT.")
    )
    funding = models.CharField(_("funding source"), max_length=300, blank=True)
    start_year = models.PositiveSmallIntegerField(
        _("start year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)],
    )
    end_year = models.PositiveSmallIntegerField(
        _("end year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)],
        help_text=_("Empty: still running."),
    )
    challenges = models.TextField(_("challenges"), blank=True)
    success_factors = models.TextField(_("what made it succeed"), blank=True)
    transferability = models.TextField(_("how transferable it is"), blank=True)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_role = models.CharField(_("contact role"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    sdgs = models.ManyToManyField(
        SustainableDevelopmentGoal, blank=True, related_name="practices", verbose_name=_("related SDGs")
    )
    language = models.CharField(
        _("language"), max_length=2, default="en", validators=[validate_language], help_text=_("ISO 639-1.")
    )
    is_sample = models.BooleanField(
        _("sample"), default=False, help_text=_("Sample content describing a publicly documented programme.")
    )
    source_url = models.URLField(_("source"), max_length=500, blank=True)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practices",
        verbose_name=_("author"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PracticeQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("practice")
        verbose_name_plural = _("practices")
        indexes = [
            # The API's cursor walks (updated_at, id), the public set first.
            models.Index(fields=["status", "updated_at", "id"], name="practice_status_updated"),
            models.Index(fields=["updated_at", "id"], name="practice_updated"),
            # The full-text GIN indexes are PostgreSQL-only, so they live in migration 0001
            # rather than here, where SQLite's table rebuilds would try to create them.
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__isnull=True)
                | Q(start_year__isnull=True)
                | Q(end_year__gte=models.F("start_year")),
                name="practice_ends_after_start",
                violation_error_message=_("The end year cannot be before the start year."),
            ),
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | (Q(cost__gte=0) & ~Q(currency="")),
                name="practice_cost_has_currency",
                violation_error_message=_("A cost needs its currency, and cannot be negative."),
            ),
            # Published once means a publication time, also after it is archived.
            models.CheckConstraint(
                condition=~Q(status__in=["published", "archived"]) | Q(published_at__isnull=False),
                name="published_practice_has_date",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="practice_has_title"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("practices:detail", args=[self.pk])

    @property
    def original_language(self) -> str:  # type: ignore[override]
        """`language` as one of the portal's languages ("zh" is "zh-hans"), else as written ("kk").

        The title and summary are written in it; `translations` holds them in the portal's others.
        """
        return portal_language(self.language) or self.language

    def clean(self) -> None:
        if self.start_year and self.end_year and self.end_year < self.start_year:
            raise ValidationError({"end_year": _("The end year cannot be before the start year.")})
        if self.cost is not None and not self.currency:
            raise ValidationError({"currency": _("Give the currency of the cost.")})

    # -- moves: each one row, locked and recorded by the workflow engine -------

    def submit(self, *, by: Any, comment: str = "") -> PracticeTransition | None:
        return self.make_transition(self.Move.SUBMIT, by=by, comment=comment)

    def publish(self, *, by: Any, comment: str = "") -> PracticeTransition | None:
        def apply(practice: Practice) -> list[str]:
            practice.published_at = timezone.now()
            return ["published_at"]

        return self.make_transition(self.Move.PUBLISH, by=by, comment=comment, apply=apply)

    def return_for_changes(self, *, by: Any, comment: str = "") -> PracticeTransition | None:
        return self.make_transition(self.Move.RETURN, by=by, comment=comment)

    def archive(self, *, by: Any, comment: str = "") -> PracticeTransition | None:
        return self.make_transition(self.Move.ARCHIVE, by=by, comment=comment)


class PracticeTranslation(ContentTranslation):
    """A practice's title and summary in one of the portal's languages other than its own."""

    original = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="translations")

    class Meta:
        verbose_name = _("translation")
        verbose_name_plural = _("translations")
        constraints = [
            models.UniqueConstraint(fields=["original", "language"], name="one_practice_translation_per_language"),
        ]


class PracticeIndicator(models.Model):
    """One comparable result of a practice: what was measured, in which unit, before and after, and when."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="indicators")
    indicator = models.CharField(_("indicator"), max_length=200)
    unit = models.CharField(_("unit"), max_length=50)
    baseline = models.DecimalField(
        _("baseline"), max_digits=20, decimal_places=4, null=True, blank=True, validators=[validate_significant_digits]
    )
    achieved = models.DecimalField(
        _("achieved"), max_digits=20, decimal_places=4, validators=[validate_significant_digits]
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)]
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        # Not by "practice": that orders by the practice's own ordering, joining it into every prefetch.
        ordering = ["position", "id"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.CheckConstraint(condition=~Q(indicator="") & ~Q(unit=""), name="indicator_is_named"),
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR, year__lte=LAST_YEAR), name="indicator_year_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator}: {self.achieved} {self.unit} ({self.year})"


def validate_attachment(upload: Any) -> None:
    """An attachment is a PDF that pypdf reads whole, or a PNG, JPEG or WebP image named as such, of at most 10 MB."""
    ATTACHMENT.check(upload)


class PracticeAttachment(models.Model):
    """A document or picture that shows a practice: a report, a photo, a plan.

    Added and removed by the city's officers while the practice is a draft or returned
    (services.add_attachment, remove_attachment); stored under a generated name and
    served only as a download, to those who see the practice.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(
        _("file"), upload_to=uploads.GeneratedName("practices"), max_length=200, validators=[validate_attachment]
    )
    # The client's file name, shown to people and used for the download; never a storage path.
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [models.CheckConstraint(condition=~Q(file="") & ~Q(name=""), name="attachment_has_file")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("practices:attachment", args=[self.practice_id, self.pk])

    @property
    def download_stem(self) -> str:
        """The download's name without extension (download() adds that of the checked type)."""
        stem = PurePosixPath(self.name).stem.strip()
        return stem or f"practice-{self.practice_id}-file-{self.pk}"

    @property
    def type_label(self) -> str:
        """PDF, PNG, JPEG or WebP."""
        for file_type in uploads.FileType:
            if file_type.content_type == self.content_type:
                return file_type.label
        return self.content_type


class PracticeTransition(TransitionRecord):
    """One move in a practice's life: who made it, when, from which status to which, and the reviewer's comment."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="transitions")
    move = models.CharField(_("move"), max_length=20, choices=Practice.Move.choices)
    from_status = models.CharField(_("from"), max_length=20, choices=Practice.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Practice.Status.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("practice transition")
        verbose_name_plural = _("practice transitions")

    def __str__(self) -> str:
        return f"{self.practice_id}: {self.from_status or '-'} → {self.to_status} ({self.move})"


class PracticeTombstone(models.Model):
    """A published practice that left the public set (archived or deleted): what API mirrors must drop.

    Written by the services in the transaction that removes the practice from view;
    the id is a plain number because a deleted practice has no row to point to.
    """

    class Reason(models.TextChoices):
        ARCHIVED = "archived", _("Archived")
        DELETED = "deleted", _("Deleted")

    practice_id = models.PositiveBigIntegerField(_("practice id"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("removed practice")
        verbose_name_plural = _("removed practices")
        indexes = [models.Index(fields=["at", "id"], name="tombstone_at")]

    def __str__(self) -> str:
        return f"{self.practice_id} {self.reason} {self.at:%Y-%m-%d %H:%M}"


class LibraryExport(models.Model):
    """A file of the whole published library, written by a Celery task while its page shows the progress.

    queued → running → done | failed. The task claims a queued export with a conditional
    update, so a task delivered twice writes the file once.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSON = "json", "JSON"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("requested by")
    )
    format = models.CharField(_("format"), max_length=4, choices=Format.choices, default=Format.CSV)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("practices to write"), default=0)
    written = models.PositiveIntegerField(_("practices written"), default=0)
    file = models.FileField(_("file"), upload_to="exports/", blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("library export")
        verbose_name_plural = _("library exports")
        constraints = [
            models.CheckConstraint(condition=Q(written__lte=models.F("total")), name="export_written_within_total"),
            models.CheckConstraint(condition=~Q(status="done") | ~Q(file=""), name="finished_export_has_file"),
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()} {self.created_at:%Y-%m-%d %H:%M} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("practices:export", args=[self.pk])

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.written / self.total) if self.total else 0
