"""Practice work that spans models or sends mail: writing with indicator rows, moves with their e-mails,
deletion, and the tombstones that tell API mirrors what left the public set."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import partial
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cities.models import City, Topic
from notifications.services import notify
from practices import events, permissions
from practices.models import (
    ATTACHMENT,
    ATTACHMENTS_PER_PRACTICE,
    Practice,
    PracticeAttachment,
    PracticeIndicator,
    PracticeTombstone,
    PracticeTransition,
    PracticeTranslation,
    SustainableDevelopmentGoal,
)
from sco_portal import changes, uploads
from sco_portal.content_languages import language_name, portal_language
from sco_portal.errors import ConflictError, DomainError, NotPermittedError

# The fields a person writes; status, city, author and dates belong to the workflow.
WRITABLE = frozenset(
    {
        "title",
        "summary",
        "problem",
        "solution",
        "cost",
        "currency",
        "funding",
        "start_year",
        "end_year",
        "challenges",
        "success_factors",
        "transferability",
        "contact_name",
        "contact_role",
        "contact_email",
        "language",
        "source_url",
    }
)
INDICATOR_FIELDS = ("indicator", "unit", "baseline", "achieved", "year")


def _check_fields(practice: Practice) -> None:
    """Model validation (currency, language, years, cost) as a DomainError naming the field, before the database."""
    try:
        practice.full_clean(exclude=["city", "author"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise DomainError(_messages(error)) from error


def _messages(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)


def _indicator_rows(rows: Sequence[Mapping[str, Any]]) -> list[PracticeIndicator]:
    """Indicator rows, each checked, so a bad row is refused with its number before anything is written."""
    built = []
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - set(INDICATOR_FIELDS)
        if unknown:
            raise DomainError(
                _("Indicator row %(row)d: unknown fields %(fields)s.")
                % {"row": number, "fields": ", ".join(sorted(unknown))}
            )
        indicator = PracticeIndicator(position=number, **row)
        try:
            indicator.full_clean(exclude=["practice"])
        except ValidationError as error:
            message = _("Indicator row %(row)d: %(errors)s") % {"row": number, "errors": _messages(error)}
            raise DomainError(message) from error
        built.append(indicator)
    return built


def _set_related(
    practice: Practice,
    *,
    topics: Iterable[Topic] | None,
    sdgs: Iterable[SustainableDevelopmentGoal | int] | None,
    indicators: list[PracticeIndicator] | None,
) -> None:
    if topics is not None:
        practice.topics.set(topics)
    if sdgs is not None:
        practice.sdgs.set(sdgs)
    if indicators is not None:
        practice.indicators.all().delete()
        for indicator in indicators:
            indicator.practice = practice
        PracticeIndicator.objects.bulk_create(indicators)


@transaction.atomic
def create_practice(
    *,
    by: User,
    city: City,
    title: str,
    summary: str,
    topics: Iterable[Topic],
    indicators: Sequence[Mapping[str, Any]] = (),
    sdgs: Iterable[SustainableDevelopmentGoal | int] = (),
    **fields: Any,
) -> Practice:
    """An officer writes a practice for their own city; it starts as a draft that only the city sees."""
    if not permissions.can_create_for(by, city):
        raise NotPermittedError(_("Only the officers of %(city)s can write its practices.") % {"city": city})
    unknown = set(fields) - WRITABLE
    if unknown:
        raise DomainError(_("These fields cannot be set: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    topics = list(topics)
    if not topics:
        raise DomainError(_("topics: Choose at least one topic."))
    practice = Practice(city=city, author=by, title=title, summary=summary, **fields)
    _check_fields(practice)
    rows = _indicator_rows(indicators)
    practice.save()
    _set_related(practice, topics=topics, sdgs=sdgs, indicators=rows)
    PracticeTransition.objects.create(practice=practice, move=Practice.Move.CREATE, to_status=practice.status, actor=by)
    return practice


@transaction.atomic
def update_practice(
    *,
    practice: Practice,
    by: User,
    topics: Iterable[Topic] | None = None,
    indicators: Sequence[Mapping[str, Any]] | None = None,
    sdgs: Iterable[SustainableDevelopmentGoal | int] | None = None,
    **fields: Any,
) -> Practice:
    """The city's officers change a draft or returned practice; its moderators correct a published one.

    A submitted practice waits unchanged for its moderator; an archived one is history. Every
    change moves `updated_at`, so API mirrors fetch it again.
    """
    if not permissions.can_edit(by, practice):
        raise NotPermittedError(_("You may not change this practice."))
    locked = Practice.objects.select_for_update().select_related("city").get(pk=practice.pk)
    if not permissions.editable_now(by, locked):
        raise ConflictError(
            _("This practice is %(status)s; you cannot change it now.")
            % {"status": locked.get_status_display().lower()}
        )
    unknown = set(fields) - WRITABLE
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    if topics is not None:
        topics = list(topics)
        if not topics:
            raise DomainError(_("topics: Choose at least one topic."))
    for name, value in fields.items():
        setattr(locked, name, value)
    _check_fields(locked)
    rows = _indicator_rows(indicators) if indicators is not None else None
    # Saved even when only related rows changed: updated_at is what mirrors page by.
    locked.save(update_fields=[*fields, "updated_at"])
    _set_related(locked, topics=topics, sdgs=sdgs, indicators=rows)
    return locked


@dataclass(frozen=True)
class MoveResult:
    """What a move did: the practice as it is now, and whether this request changed it or found it done."""

    practice: Practice
    transition: PracticeTransition | None

    @property
    def repeated(self) -> bool:
        return self.transition is None


_MOVE_METHODS = {
    Practice.Move.SUBMIT: Practice.submit,
    Practice.Move.PUBLISH: Practice.publish,
    Practice.Move.RETURN: Practice.return_for_changes,
    Practice.Move.ARCHIVE: Practice.archive,
}


@transaction.atomic
def make_move(*, practice: Practice, move: str, by: User, comment: str = "") -> MoveResult:
    """A person moves a practice on: permission (403), then the model method (409 from a wrong status), then e-mail.

    Returning needs a comment: the author must learn what to change. Archiving a published
    practice leaves a tombstone. A repeated move changes nothing and sends nothing.
    """
    if move not in permissions.MOVE_PERMISSIONS:
        raise DomainError(_("Unknown move %(move)s.") % {"move": move})
    if not permissions.can_move(by, practice, move):
        raise NotPermittedError(
            _("You may not %(move)s this practice.") % {"move": str(Practice.Move(move).label).lower()}
        )
    if move == Practice.Move.RETURN and not comment.strip() and practice.allows(move):
        raise DomainError(_("comment: Say what the author should change."))
    transition = _MOVE_METHODS[Practice.Move(move)](practice, by=by, comment=comment)
    if transition is not None:
        if move == Practice.Move.ARCHIVE:
            PracticeTombstone.objects.create(
                practice_id=practice.pk, reason=PracticeTombstone.Reason.ARCHIVED, at=transition.created_at
            )
        if move in (Practice.Move.PUBLISH, Practice.Move.ARCHIVE):
            # The city's published practices changed: its partner suggestions do too.
            changes.cities_changed(practice.city_id)
        _notify_move(practice, transition)
    return MoveResult(practice=practice, transition=transition)


def _notify_move(practice: Practice, transition: PracticeTransition) -> None:
    """Submitted: the moderators. Published, returned: the author."""
    event = {
        Practice.Move.SUBMIT: events.SUBMITTED,
        Practice.Move.PUBLISH: events.PUBLISHED,
        Practice.Move.RETURN: events.RETURNED,
    }.get(Practice.Move(transition.move))
    if event is None:
        return
    if transition.move == Practice.Move.SUBMIT:
        people = permissions.moderators_of(practice)
    else:
        author = practice.author
        people = [author] if author is not None and author.is_active else []
    people = [person for person in people if person.pk != transition.actor_id]
    if not people:
        return
    notify(
        event=event,
        recipients=people,
        context={"practice": practice, "actor": transition.actor, "comment": transition.comment},
        occurrence=f"practice:{practice.pk}:transition:{transition.pk}",
    )


@transaction.atomic
def save_practice_translation(
    *, practice: Practice, language: str, title: str, summary: str = "", by: User
) -> PracticeTranslation | None:
    """An officer of the practice's city writes its title and summary in another of the portal's
    languages; an empty title removes that translation. A translation into the practice's own
    language is refused: the original is changed through the form.

    The practice's `updated_at` moves too, so API mirrors (`updated_after`) fetch the new text.
    """
    if not permissions.can_translate(by, practice):
        raise NotPermittedError(_("Only the officers of the practice's city can translate it."))
    code = portal_language(language)
    if code is None or code != language:
        raise DomainError(_("The portal has no language %(language)r.") % {"language": language})
    if code == practice.original_language:
        raise DomainError(
            _("The practice is written in %(language)s: change the original instead.")
            % {"language": language_name(code)}
        )
    translation: PracticeTranslation | None = None
    if not title.strip():
        PracticeTranslation.objects.filter(original=practice, language=code).delete()
    else:
        translation, _created = PracticeTranslation.objects.update_or_create(
            original=practice,
            language=code,
            defaults={"title": title.strip(), "summary": summary.strip(), "translated_by": by},
        )
    Practice.objects.filter(pk=practice.pk).update(updated_at=timezone.now())
    return translation


@transaction.atomic
def delete_practice(*, practice: Practice, by: User) -> None:
    """Remove a practice for good. Staff may delete any; the city's officers only one that was never published
    (a published one is archived instead, so its history stays). A published one leaves a tombstone."""
    if not permissions.can_delete(by, practice):
        raise NotPermittedError(_("You may not delete this practice."))
    locked = Practice.objects.select_for_update().get(pk=practice.pk)
    if not by.is_staff and locked.published_at is not None:
        raise ConflictError(_("A practice that has been published is archived, not deleted."))
    if locked.status == Practice.Status.PUBLISHED:
        PracticeTombstone.objects.create(practice_id=locked.pk, reason=PracticeTombstone.Reason.DELETED)
        changes.cities_changed(locked.city_id)
    files = [attachment.file for attachment in locked.attachments.all()]
    locked.delete()
    _delete_files_on_commit(files)


def _delete_files_on_commit(files: Iterable[Any]) -> None:
    """Remove stored files once the rows naming them are gone for good: a rolled-back delete keeps its files."""
    for field_file in files:
        if field_file.name:
            transaction.on_commit(partial(field_file.storage.delete, field_file.name))


def _locked_for_attachments(practice: Practice, by: User) -> Practice:
    """The practice, locked, if `by` may change its attachments now: the city's officers, on a draft or returned one."""
    if not permissions.is_city_officer(by, practice):
        raise NotPermittedError(_("Only the city's officers add or remove files of a practice."))
    # Locked so that a submission and an upload cannot cross, nor two uploads pass the limit together.
    locked = Practice.objects.select_for_update().get(pk=practice.pk)
    if locked.status not in Practice.EDITABLE:
        raise ConflictError(
            _("This practice is %(status)s; its files cannot change now.")
            % {"status": locked.get_status_display().lower()}
        )
    return locked


def attachment_name(name: str | None) -> str:
    """The client's file name as people will see it: the last path part, at most 200 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    return base[-200:]


@transaction.atomic
def add_attachment(*, practice: Practice, by: User, upload: File[Any]) -> PracticeAttachment:
    """Attach a PDF or an image (checked by its content, at most 10 MB) to a draft or returned practice,
    up to ATTACHMENTS_PER_PRACTICE; stored under a generated name. Moves `updated_at`, so mirrors refetch."""
    locked = _locked_for_attachments(practice, by)
    if locked.attachments.count() >= ATTACHMENTS_PER_PRACTICE:
        raise DomainError(
            _("file: A practice carries at most %(count)d files; remove one first.")
            % {"count": ATTACHMENTS_PER_PRACTICE}
        )
    attachment = PracticeAttachment(practice=locked, name=attachment_name(upload.name), uploaded_by=by)
    try:
        file_type = uploads.store(attachment.file, upload, check=ATTACHMENT)
    except ValidationError as error:
        raise DomainError(_("file: %(reason)s") % {"reason": _messages(error)}) from error
    attachment.content_type = file_type.content_type
    attachment.size = attachment.file.size
    # The file is already in the storage: if the row does not make it, neither should the file.
    try:
        attachment.save()
        locked.save(update_fields=["updated_at"])
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


@transaction.atomic
def remove_attachment(*, attachment: PracticeAttachment, by: User) -> None:
    """Remove a file from a draft or returned practice; the stored file goes once the removal commits."""
    locked = _locked_for_attachments(attachment.practice, by)
    deleted, _count = PracticeAttachment.objects.filter(pk=attachment.pk, practice=locked).delete()
    if deleted:
        locked.save(update_fields=["updated_at"])
        _delete_files_on_commit([attachment.file])


SIMILAR_TITLE_RATIO = 0.6
SIMILAR_LIMIT = 5


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


# How much of a title and a text similar_practices() compares (the duplicate hint's request sends as much).
SIMILAR_TITLE_CHARS = 200
SIMILAR_TEXT_CHARS = 2000


def similar_practices(
    *, user: Any, city: City | None, title: str, text: str = "", exclude: int | None = None
) -> list[Practice]:
    """Practices the person can see that look like the one being written: same city and a close title,
    or, anywhere, a ranked full-text match on the title's words and the first lines of text. Only the start of
    a long title or text is compared (a form may send 100,000 characters before its own validation refuses
    them: SQLite refuses a LIKE pattern past 50,000 bytes). NUL characters are dropped: the form refuses
    them, but this runs before its validation, and PostgreSQL refuses a string that holds one."""
    title = title.replace("\x00", "").strip()[:SIMILAR_TITLE_CHARS]
    text = text.replace("\x00", "")[:SIMILAR_TEXT_CHARS]
    if len(title) < 4:
        return []
    visible = Practice.objects.visible_to(user).select_related("city__country")
    if exclude is not None:
        visible = visible.exclude(pk=exclude)
    found: dict[int, Practice] = {}
    if city is not None:
        for practice in visible.filter(city=city).only("id", "title", "city", "status")[:500]:
            if SequenceMatcher(None, _folded(title), _folded(practice.title)).ratio() >= SIMILAR_TITLE_RATIO:
                found[practice.pk] = practice
    words = [word for word in title.split() if len(word) > 3] or title.split()
    # Any of the title's words: the ranking puts the closest first.
    query = " or ".join(words) if connection.vendor == "postgresql" else max(words, key=len)
    for practice in visible.search(query)[:20]:
        close = SequenceMatcher(None, _folded(title), _folded(practice.title)).ratio() >= SIMILAR_TITLE_RATIO
        if close or (
            text and SequenceMatcher(None, _folded(text)[:500], _folded(practice.summary)[:500]).ratio() > 0.5
        ):
            found.setdefault(practice.pk, practice)
    return list(found.values())[:SIMILAR_LIMIT]


@dataclass
class SampleReport:
    created: int = 0
    already_there: int = 0
    skipped: list[str] = field(default_factory=list)


def load_sample_practices(*, path: Path) -> SampleReport:
    """Publish the sample practices of `path`: real, publicly documented programmes with their source.

    Each is matched on its source link, so a second run creates nothing; a sample whose city is
    not in the directory is skipped and reported. Samples are marked as such on their pages.
    """
    report = SampleReport()
    records = json.loads(path.read_text(encoding="utf-8"))
    existing = set(Practice.objects.filter(is_sample=True).values_list("source_url", flat=True))
    cities = {city.geonameid: city for city in City.objects.filter(geonameid__in=[r["geonameid"] for r in records])}
    topics = {topic.slug: topic for topic in Topic.objects.all()}
    for record in records:
        if record["source_url"] in existing:
            report.already_there += 1
            continue
        city = cities.get(record["geonameid"])
        if city is None:
            report.skipped.append(
                _("%(title)s: GeoNames %(id)s is not in the city directory")
                % {"title": record["title"], "id": record["geonameid"]}
            )
            continue
        _create_sample(record, city, [topics[slug] for slug in record["topics"] if slug in topics])
        existing.add(record["source_url"])
        report.created += 1
    return report


@transaction.atomic
def _create_sample(record: Mapping[str, Any], city: City, topics: list[Topic]) -> Practice:
    fields = {name: record[name] for name in WRITABLE if name in record}
    practice = Practice(city=city, is_sample=True, **fields)
    _check_fields(practice)
    rows = _indicator_rows(record["indicators"])
    practice.status = Practice.Status.PUBLISHED
    practice.published_at = timezone.now()
    practice.save()
    _set_related(practice, topics=topics, sdgs=record["sdgs"], indicators=rows)
    PracticeTransition.objects.create(
        practice=practice,
        move=Practice.Move.CREATE,
        to_status=Practice.Status.PUBLISHED,
        comment=_("Sample content, from %(source)s") % {"source": record["source_url"]},
    )
    return practice
