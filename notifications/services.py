"""E-mail notifications: the one way the portal tells a person that something needs them.

`notify()` is what every other app calls. It writes one outbox row per person in
the caller's transaction and enqueues the send task when that transaction
commits; it never talks to the SMTP server itself. What makes a message neither
lost nor doubled:

- the row is committed with the event, or not at all;
- a unique dedupe key per (event, occurrence, person) makes a repeated event a no-op;
- the send task claims the row with a conditional UPDATE, so only one worker sends it;
- the sweeper (Celery beat) enqueues again whatever the broker lost, and takes
  back what a dead worker held.
"""

from __future__ import annotations

import datetime
import logging
import re
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from notifications import events
from notifications.events import EventType
from notifications.models import Message, Preference, dedupe_key

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# How many rows one sweep looks at; the next sweep, a minute later, takes the rest.
SWEEP_BATCH = 1000


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    action_url: str


def absolute_url(path: str) -> str:
    """A link that works from an e-mail client: the portal's SITE_URL plus `path`."""
    if path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL.rstrip("/") + "/" + path.lstrip("/")


def _action_url(event: EventType, context: Mapping[str, Any]) -> str:
    """The page where the person acts: the caller's `action_url`, else the event's subject's own page."""
    if context.get("action_url"):
        return absolute_url(str(context["action_url"]))
    subject = context.get(event.subject) if event.subject else None
    if subject is not None and hasattr(subject, "get_absolute_url"):
        return absolute_url(subject.get_absolute_url())
    return absolute_url("/")


def render_email(*, event: str, recipient: User, context: Mapping[str, Any]) -> RenderedEmail:
    """Subject, plain text and HTML of `event` for `recipient`, in the recipient's language.

    Rendering happens under `translation.override`, so choice labels and city
    names (which follow the active language) come out in that language too.
    """
    event_type = events.get(event)
    folder = event_type.templates
    with translation.override(recipient.language):
        full_context = {
            **context,
            "event": event_type.name,
            "recipient": recipient,
            "recipient_name": recipient.get_full_name() or recipient.get_username(),
            "action_url": _action_url(event_type, context),
            "preferences_url": absolute_url(reverse("notifications:preferences")),
            "site_url": settings.SITE_URL,
            "language": recipient.language,
        }
        subject = " ".join(render_to_string(f"{folder}/subject.txt", full_context).split())
        full_context["subject"] = subject
        text = str(render_to_string(f"{folder}/body.txt", full_context))
        html = str(render_to_string(f"{folder}/body.html", full_context))
    # Template tags leave blank lines behind; a plain-text mail reads better without runs of them.
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return RenderedEmail(subject=subject[:300], text=text, html=html, action_url=full_context["action_url"])


def _enqueue(message: Message) -> None:
    # Imported here: the task module imports this one.
    from notifications.tasks import send_message

    send_message.delay_on_commit(message.pk)


def preferences_of(users: Iterable[User]) -> dict[int, Preference]:
    return {preference.user_id: preference for preference in Preference.objects.filter(user__in=list(users))}


def notify(*, event: str, recipients: Iterable[User], context: Mapping[str, Any], occurrence: str) -> list[Message]:
    """Write one e-mail per recipient into the outbox, in the caller's transaction; return the new messages.

    The rules:
    - the same (event, occurrence, recipient) makes at most one message, ever: a
      unique key in the database, so a repeated call, or two racing ones, add nothing;
    - inactive people, people without an e-mail address and people who turned off
      this (optional) kind of e-mail get no message;
    - each message is rendered now, in the recipient's language, so the e-mail
      says what was true when the event happened;
    - a daily-digest subscriber's message is held for the digest; the others are
      sent by a Celery task enqueued when the caller's transaction commits. If the
      broker is down then, the request still succeeds and the sweeper sends later.
    """
    event_type = events.get(event)  # ValueError for an event no app registered
    event = event_type.name
    if not occurrence:
        raise ValueError("notify() needs an occurrence that names this happening of the event")
    people: dict[int, User] = {}
    for person in recipients:
        if person.is_active and person.email and person.pk not in people:
            people[person.pk] = person
    preferences = preferences_of(people.values())
    created: list[Message] = []
    with transaction.atomic():
        for person in people.values():
            preference = preferences.get(person.pk)
            if preference is not None and not preference.wants(event):
                continue
            digest = (
                preference is not None
                and preference.delivery == Preference.Delivery.DAILY_DIGEST
                and not event_type.immediate
            )
            rendered = render_email(event=event, recipient=person, context=context)
            now = timezone.now()
            message = Message(
                recipient=person,
                email=person.email,
                language=person.language,
                event=event,
                occurrence=occurrence[:200],
                dedupe_key=dedupe_key(event=event, occurrence=occurrence, recipient_id=person.pk),
                subject=rendered.subject,
                text_body=rendered.text,
                html_body=rendered.html,
                action_url=rendered.action_url,
                status=Message.Status.HELD if digest else Message.Status.QUEUED,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            try:
                # A savepoint: the duplicate's failed INSERT must not spoil the caller's transaction.
                with transaction.atomic():
                    message.save(force_insert=True)
            except IntegrityError:
                if Message.objects.filter(dedupe_key=message.dedupe_key).exists():
                    continue
                raise
            created.append(message)
            if message.status == Message.Status.QUEUED:
                _enqueue(message)
    return created


@dataclass(frozen=True)
class Delivery:
    """What one run of the send task did: `sent`, `skipped`, `deferred` (retry in `retry_in` s) or `failed`."""

    outcome: str
    retry_in: float | None = None


def _is_permanent(error: BaseException) -> bool:
    """A 5xx answer means the server will never take this message; anything else may pass next time."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return False


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: doubling, capped."""
    delay = settings.NOTIFICATIONS_RETRY_DELAY * 2 ** max(attempts - 1, 0)
    return float(min(delay, settings.NOTIFICATIONS_RETRY_MAX_DELAY))


def _mail_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def build_email(message: Message) -> EmailMultiAlternatives:
    """The e-mail of an outbox row; its Message-ID is the dedupe key, the same on every attempt."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.email],
        headers={
            "Message-ID": f"<{message.dedupe_key}@{_mail_domain()}>",
            "Auto-Submitted": "auto-generated",
            "Content-Language": message.language,
            "X-SCO-Event": message.event,
        },
    )
    email.attach_alternative(message.html_body, "text/html")
    return email


def deliver_message(*, message_id: int) -> Delivery:
    """Send one queued message over SMTP, unless another run has it or has sent it.

    The claim (a conditional UPDATE queued → sending) happens before the SMTP
    conversation, so a second run of the task for the same message does nothing.
    A transient failure puts the message back in the queue with a doubling delay;
    after NOTIFICATIONS_MAX_ATTEMPTS, or on a permanent refusal, it fails with its error.
    """
    now = timezone.now()
    message = Message.objects.filter(pk=message_id).first()
    if message is None or not message.claim(now=now):
        return Delivery("skipped")
    try:
        build_email(message).send(fail_silently=False)
    except Exception as error:  # every failure of the conversation, a soft time limit included
        description = _describe(error)
        if _is_permanent(error) or message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            message.fail(error=description)
            logger.error("E-mail %s to %s failed for good: %s", message.pk, message.email, description)
            return Delivery("failed")
        delay = retry_delay(message.attempts)
        message.defer(error=description, until=now + datetime.timedelta(seconds=delay))
        logger.warning("E-mail %s to %s failed, retry in %.0f s: %s", message.pk, message.email, delay, description)
        return Delivery("deferred", retry_in=delay)
    # The server has the message now. Should this process die before the UPDATE,
    # the sweeper will send it again: SMTP offers no way to close that window, so
    # it is kept to one UPDATE, and the stable Message-ID lets mail systems drop the copy.
    message.mark_sent(now=timezone.now())
    return Delivery("sent")


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    taken_back: int
    failed: int


def sweep_outbox(*, now: datetime.datetime | None = None) -> SweepReport:
    """Enqueue again the messages the broker lost, and take back those a dead worker held.

    - queued and due for longer than NOTIFICATIONS_REQUEUE_AFTER: their task never
      ran (the broker was down at commit time, or lost the task). Their due time is
      moved to now, so the next sweep leaves them alone for another grace period.
    - sending for longer than NOTIFICATIONS_STALLED_AFTER, which is longer than the
      send task's hard time limit: no live worker can still be on them.
    A task enqueued twice is harmless: only one run can claim the message.
    """
    now = now or timezone.now()
    stalled_before = now - datetime.timedelta(seconds=settings.NOTIFICATIONS_STALLED_AFTER)
    taken_back = failed = 0
    to_enqueue: list[int] = []
    for message in Message.objects.filter(status=Message.Status.SENDING, claimed_at__lte=stalled_before).order_by(
        "claimed_at"
    )[:SWEEP_BATCH]:
        if message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            failed += message.give_up_stalled(claimed_before=stalled_before)
        elif message.take_back(claimed_before=stalled_before, now=now):
            taken_back += 1
            to_enqueue.append(message.pk)

    waiting_before = now - datetime.timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER)
    overdue = list(
        Message.objects.filter(status=Message.Status.QUEUED, next_attempt_at__lte=waiting_before)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    Message.objects.filter(pk__in=overdue, status=Message.Status.QUEUED, next_attempt_at__lte=waiting_before).update(
        next_attempt_at=now, updated_at=now
    )
    requeued = list(
        Message.objects.filter(pk__in=overdue, status=Message.Status.QUEUED, next_attempt_at=now).values_list(
            "pk", flat=True
        )
    )
    to_enqueue.extend(requeued)
    for pk in to_enqueue:
        _enqueue(Message(pk=pk))
    if to_enqueue or failed:
        logger.info("Outbox sweep: %d requeued, %d taken back, %d failed", len(requeued), taken_back, failed)
    return SweepReport(requeued=len(requeued), taken_back=taken_back, failed=failed)


def send_digest(*, user_id: int, now: datetime.datetime | None = None) -> Message | None:
    """Gather everything held for one person into one digest e-mail, in their language.

    The held rows are locked, marked digested and the digest written in one
    transaction, so each held message is in exactly one digest even if two digest
    runs overlap: the second waits for the lock and then finds nothing held.
    """
    now = now or timezone.now()
    with transaction.atomic():
        held = list(
            Message.objects.select_for_update()
            .filter(recipient_id=user_id, status=Message.Status.HELD)
            .order_by("created_at", "id")
        )
        if not held:
            return None
        person = get_user_model().objects.get(pk=user_id)
        if not person.is_active or not person.email:
            # Kept held: should the person come back or add an address, the next digest has them.
            return None
        occurrence = f"digest:{held[0].pk}"
        rendered = render_email(
            event=events.DAILY_DIGEST,
            recipient=person,
            context={"items": held, "count": len(held), "action_url": absolute_url("/")},
        )
        digest = Message.objects.create(
            recipient=person,
            email=person.email,
            language=person.language,
            event=events.DAILY_DIGEST,
            occurrence=occurrence,
            dedupe_key=dedupe_key(event=events.DAILY_DIGEST, occurrence=occurrence, recipient_id=person.pk),
            subject=rendered.subject,
            text_body=rendered.text,
            html_body=rendered.html,
            action_url=rendered.action_url,
            status=Message.Status.QUEUED,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        assert Message.Status.DIGESTED in Message.TRANSITIONS[Message.Status.HELD]
        Message.objects.filter(pk__in=[message.pk for message in held], status=Message.Status.HELD).update(
            status=Message.Status.DIGESTED, digest=digest, updated_at=now
        )
        _enqueue(digest)
    return digest


def send_daily_digests(*, now: datetime.datetime | None = None) -> int:
    """One digest for each person with held messages; returns how many digests were written."""
    user_ids = (
        Message.objects.filter(status=Message.Status.HELD)
        .order_by("recipient_id")
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    return sum(send_digest(user_id=user_id, now=now) is not None for user_id in list(user_ids))


def retry_failed_messages(*, message_ids: Iterable[int]) -> int:
    """Put failed messages back in the queue with fresh attempts (the staff's retry); returns how many."""
    retried = 0
    with transaction.atomic():
        for message in Message.objects.filter(pk__in=list(message_ids), status=Message.Status.FAILED):
            if message.retry():
                retried += 1
                _enqueue(message)
    return retried


def save_preferences(*, user: User, delivery: str, muted_events: Iterable[str]) -> Preference:
    """Store how `user` wants their e-mail; e-mails that ask them to act cannot be turned off.

    Messages already held for a digest still go out with the next daily digest.
    """
    muted = sorted({str(event) for event in muted_events if events.is_optional(str(event))})
    preference, _created = Preference.objects.update_or_create(
        user=user, defaults={"delivery": Preference.Delivery(delivery).value, "muted_events": muted}
    )
    return preference
