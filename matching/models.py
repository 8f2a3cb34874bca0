"""Partner suggestions for each city, the candidates a city dismissed, and the runs that compute them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cities.models import City
from matching.scoring import TOP_K


class Suggestion(models.Model):
    """One suggested partner of a city, at its rank, with the score and the components behind it.

    A city's suggestions are replaced all together in one transaction, by its own
    recompute or by the full one; the same inputs give the same rows.
    """

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="suggestions", verbose_name=_("city"))
    candidate = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+", verbose_name=_("candidate"))
    score = models.FloatField(_("score"))
    rank = models.PositiveSmallIntegerField(_("rank"))
    components = models.JSONField(_("components"), default=dict)
    # When the inputs were read (a city's own recompute, or its block of a full one).
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        ordering = ["city", "rank"]
        verbose_name = _("partner suggestion")
        verbose_name_plural = _("partner suggestions")
        constraints = [
            models.UniqueConstraint(fields=["city", "rank"], name="one_suggestion_per_rank"),
            models.UniqueConstraint(fields=["city", "candidate"], name="one_suggestion_per_candidate"),
            models.CheckConstraint(condition=~Q(city=models.F("candidate")), name="suggestion_two_cities"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="suggestion_rank_from_one"),
        ]
        indexes = [
            # Each city's first and k-th score, read by every city's recompute (which other lists its change
            # reaches: matching/services/one_city.py) from the index alone, not from the rows and their reasons.
            models.Index(
                fields=["rank", "city", "score"], condition=Q(rank__in=(1, TOP_K)), name="suggestion_first_and_last"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.city} → {self.candidate} (#{self.rank})"


class Dismissal(models.Model):
    """A city's officers said "Not interested" to a candidate: it is not suggested to the city again until undone."""

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+", verbose_name=_("city"))
    candidate = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+", verbose_name=_("candidate"))
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("dismissed at"), default=timezone.now)

    class Meta:
        verbose_name = _("dismissed suggestion")
        verbose_name_plural = _("dismissed suggestions")
        constraints = [
            models.UniqueConstraint(fields=["city", "candidate"], name="one_dismissal_per_candidate"),
            models.CheckConstraint(condition=~Q(city=models.F("candidate")), name="dismissal_two_cities"),
        ]

    def __str__(self) -> str:
        return f"{self.city} ✗ {self.candidate}"


class PendingRecompute(models.Model):
    """A city whose suggestions wait to be recomputed; the row is the claim that coalesces a burst of changes.

    The first change creates the row and enqueues one task; later changes find the
    row (locked until they commit) and enqueue nothing. The task deletes the row before it
    reads anything, so a change committed after that creates a new row and a new task.
    """

    city = models.OneToOneField(City, on_delete=models.CASCADE, related_name="+", primary_key=True)
    requested_at = models.DateTimeField(default=timezone.now)
    # Whether the changes claimed can alter other cities' lists, which are then recomputed after the city's own:
    # not while every change claimed is "Not interested" or its undo, which alter the city's own list only.
    reaches_other_lists = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("pending recompute")
        verbose_name_plural = _("pending recomputes")

    def __str__(self) -> str:
        return f"{self.city_id} since {self.requested_at:%Y-%m-%d %H:%M:%S}"


class RecomputeRun(models.Model):
    """One full recompute: blocks of cities scored by a Celery group, then swapped in by the chord's callback.

    queued → running → done | failed (a block failed for good, the chord could not be queued, or the run was
    still open after matching.services.runs.STALE_RUN_AFTER). Progress is the share of its blocks finished.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    # A run still to finish, and one that has ended either way.
    OPEN = (Status.QUEUED, Status.RUNNING)
    CLOSED = (Status.DONE, Status.FAILED)

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    block_count = models.PositiveIntegerField(_("blocks"), default=0)
    city_count = models.PositiveIntegerField(_("cities"), default=0)
    suggestion_count = models.PositiveIntegerField(_("suggestions"), default=0)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("suggestion recompute")
        verbose_name_plural = _("suggestion recomputes")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def blocks_done(self) -> int:
        return self.blocks.filter(finished_at__isnull=False).count()

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.blocks_done / self.block_count) if self.block_count else 0


class RecomputeBlock(models.Model):
    """One block of a full recompute; `finished_at` is set once, so a block run twice counts once."""

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="blocks")
    number = models.PositiveIntegerField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="one_row_per_block")]

    def __str__(self) -> str:
        return f"run {self.run_id} block {self.number}"


class StagedSuggestion(models.Model):
    """A full recompute's result for one city and rank, written by its block and moved into Suggestion by
    the run's swap. The blocks' results wait here, not in Celery's result store, so that neither the store
    nor the swap holds every city's results at once: the swap moves them with one INSERT ... SELECT."""

    # No foreign key constraint in the database (Django still deletes the rows of a deleted run or city): a staged
    # row's three checks at its block's commit cost a tenth of the full recompute on PostgreSQL (measured with the
    # directory), the swap's rows are checked where they land, in Suggestion, and a table without triggers can be
    # emptied at once by TRUNCATE. One index, (run, block), for what reads these rows: a block replacing its own,
    # the swap reading a run's.
    run = models.ForeignKey(
        RecomputeRun, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    block = models.PositiveIntegerField()
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    candidate = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    score = models.FloatField()
    rank = models.PositiveSmallIntegerField()
    components = models.JSONField(default=dict)
    # When the block read its inputs: a city recomputed on its own after that keeps its newer rows at the swap.
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["run", "block"], name="staged_by_run_block")]

    def __str__(self) -> str:
        return f"run {self.run_id}: {self.city_id} → {self.candidate_id} (#{self.rank})"


class WeeklyDigest(models.Model):
    """The week a city's officers were sent their partner suggestions, so that a week sends once."""

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="The Monday of the ISO week.")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["city", "week"], name="one_digest_per_city_week")]

    def __str__(self) -> str:
        return f"{self.city_id} week of {self.week}"
