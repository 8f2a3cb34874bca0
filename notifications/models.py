"""The outbox of e-mail messages and each person's choice of what to receive and how.

A `Message` row is written in the same database transaction as the event that
causes it, so an event that is committed always has its e-mail, and one that is
rolled back has none. A Celery task then sends it; every move of a message is a
conditional UPDATE on its current status, so two workers (or one task delivered
twice) can never both send it.
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications import events


def dedupe_key(*, event: str, occurrence: str, recipient_id: int) -> str:
    """The key that makes one occurrence of an event one message per person."""
    return hashlib.sha256(f"{event}\n{occurrence}\n{recipient_id}".encode()).hexdigest()


class MessageQuerySet(models.QuerySet["Message"]):
    def counts_by_status(self) -> dict[str, int]:
        counts = dict.fromkeys(Message.Status.values, 0)
        for row in self.order_by().values("status").annotate(count=models.Count("id")):
            counts[row["status"]] = row["count"]
        return counts


class Message(models.Model):
    """One e-mail to one person, rendered in their language when the event happened.

    Lifecycle: `held` (waiting for the person's daily digest) → `digested`;
    `queued` → `sending` (claimed by one worker) → `sent`, or back to `queued`
    with a later `next_attempt_at` after a transient failure, or `failed` after
    the last attempt or a permanent refusal; staff may put a failed message back
    in the queue. The sweeper takes back a `sending` message whose worker died.
    """

    class Status(models.TextChoices):
        HELD = "held", _("waiting for the daily digest")
        DIGESTED = "digested", _("sent in a digest")
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.HELD: frozenset({Status.DIGESTED}),
        Status.DIGESTED: frozenset(),
        Status.QUEUED: frozenset({Status.SENDING}),
        Status.SENDING: frozenset({Status.SENT, Status.QUEUED, Status.FAILED}),
        Status.SENT: frozenset(),
        Status.FAILED: frozenset({Status.QUEUED}),
    }

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_messages",
        verbose_name=_("recipient"),
    )
    email = models.EmailField(_("e-mail address"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    # The name of an event an app registered (notifications.events): no choice list, so a
    # new event needs no migration.
    event = models.CharField(_("event"), max_length=40)
    occurrence = models.CharField(_("occurrence"), max_length=200)
    dedupe_key = models.CharField(_("dedupe key"), max_length=64, unique=True)
    subject = models.CharField(_("subject"), max_length=300)
    text_body = models.TextField(_("plain-text body"))
    html_body = models.TextField(_("HTML body"))
    action_url = models.URLField(_("link"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    digest = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="digested_messages",
        verbose_name=_("digest"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("e-mail message")
        verbose_name_plural = _("e-mail messages")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="message_status_due"),
            models.Index(fields=["status", "claimed_at"], name="message_status_claimed"),
        ]
        constraints = [
            models.CheckConstraint(
                name="message_sent_has_sent_at",
                condition=Q(status="sent", sent_at__isnull=False) | (~Q(status="sent") & Q(sent_at__isnull=True)),
            ),
            models.CheckConstraint(
                name="message_sending_has_claimed_at", condition=~Q(status="sending") | Q(claimed_at__isnull=False)
            ),
            models.CheckConstraint(
                name="message_digested_has_digest", condition=~Q(status="digested") | Q(digest__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_label} → {self.email} ({self.get_status_display()})"

    @property
    def event_label(self) -> str:
        """What the event is called, as its app registered it (the bare name if no app does any more)."""
        try:
            return str(events.get(self.event).label)
        except ValueError:
            return self.event

    def _move(self, *, source: str, target: str, only_if: Q | None = None, **fields: object) -> bool:
        """Move from `source` to `target` only if the row is still in `source`; True if this call moved it.

        The status in the WHERE clause is the lock: of two workers racing for the
        same row, the database lets exactly one UPDATE match, and the loser sees 0 rows.
        """
        if target not in self.TRANSITIONS[source]:
            raise ValueError(f"a message cannot go from {source} to {target}")
        fields.setdefault("updated_at", timezone.now())
        return bool(Message.objects.filter(only_if or Q(), pk=self.pk, status=source).update(status=target, **fields))

    def claim(self, *, now: datetime.datetime) -> bool:
        """Take a queued, due message for sending; False if another worker has it, or it is not due or done."""
        claimed = self._move(
            source=self.Status.QUEUED,
            target=self.Status.SENDING,
            only_if=Q(next_attempt_at__lte=now),
            attempts=F("attempts") + 1,
            claimed_at=now,
            updated_at=now,
        )
        if claimed:
            self.refresh_from_db()
        return claimed

    def _claimed_by_me(self) -> Q:
        # A claim is known by its attempt number: if the sweeper took the message
        # back from a worker it thought dead and another worker claimed it, the
        # first worker's late result must not overwrite the second's.
        return Q(attempts=self.attempts)

    def mark_sent(self, *, now: datetime.datetime) -> bool:
        return self._move(
            source=self.Status.SENDING,
            target=self.Status.SENT,
            only_if=self._claimed_by_me(),
            sent_at=now,
            last_error="",
            updated_at=now,
        )

    def defer(self, *, error: str, until: datetime.datetime) -> bool:
        """Back to the queue after a transient failure, due again at `until`."""
        return self._move(
            source=self.Status.SENDING,
            target=self.Status.QUEUED,
            only_if=self._claimed_by_me(),
            last_error=error,
            next_attempt_at=until,
        )

    def fail(self, *, error: str) -> bool:
        """Give up: the last attempt failed, or the server refused the message for good."""
        return self._move(
            source=self.Status.SENDING, target=self.Status.FAILED, only_if=self._claimed_by_me(), last_error=error
        )

    def take_back(self, *, claimed_before: datetime.datetime, now: datetime.datetime) -> bool:
        """Requeue a message whose worker has not finished it since `claimed_before`: the worker died."""
        return self._move(
            source=self.Status.SENDING,
            target=self.Status.QUEUED,
            only_if=Q(claimed_at__lte=claimed_before),
            next_attempt_at=now,
            last_error=str(_("The worker stopped while sending; sending again.")),
            updated_at=now,
        )

    def give_up_stalled(self, *, claimed_before: datetime.datetime) -> bool:
        """Fail a message whose worker died on its last allowed attempt."""
        return self._move(
            source=self.Status.SENDING,
            target=self.Status.FAILED,
            only_if=Q(claimed_at__lte=claimed_before),
            last_error=str(_("The worker stopped while sending, on the last attempt.")),
        )

    def retry(self) -> bool:
        """Put a failed message back in the queue with a fresh set of attempts (staff action)."""
        return self._move(
            source=self.Status.FAILED, target=self.Status.QUEUED, attempts=0, next_attempt_at=timezone.now()
        )


class Preference(models.Model):
    """How one person wants their e-mail: each message at once or one daily digest, minus the kinds turned off.

    A person without a row gets the defaults: immediate e-mail of every kind.
    """

    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", _("Each e-mail as it happens")
        DAILY_DIGEST = "daily_digest", _("One daily digest")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("person"),
    )
    delivery = models.CharField(_("delivery"), max_length=20, choices=Delivery.choices, default=Delivery.IMMEDIATE)
    muted_events = models.JSONField(_("e-mails turned off"), default=list, blank=True)

    class Meta:
        verbose_name = _("e-mail preference")
        verbose_name_plural = _("e-mail preferences")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_delivery_display()})"

    def wants(self, event: str) -> bool:
        return not events.is_optional(event) or event not in self.muted_events
