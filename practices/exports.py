"""Practices as CSV and JSON: one writer for the API's streamed exports and the Celery task's library file."""

from __future__ import annotations

import csv
import io
import json
import logging
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from accounts.models import User
from practices.models import LibraryExport, Practice
from practices.serializers import PracticeSerializer

logger = logging.getLogger(__name__)

CHUNK = 500
# Progress is saved every this many rows: often enough for the bar, rarely enough to cost nothing.
PROGRESS_EVERY = 1000
CSV_COLUMNS = [
    "id",
    "status",
    "title",
    "city",
    "city_name",
    "country",
    "topics",
    "summary",
    "problem",
    "solution",
    "indicators",
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
    "sdgs",
    "language",
    # The title and summary may be a translation into the reader's language: which, and whether (as in the JSON; a
    # walk-through found a translated title beside language=ru, with nothing to say it was one).
    "shown_language",
    "is_original",
    "is_sample",
    "source_url",
    "url",
    "published_at",
    "updated_at",
]


def for_export(queryset: QuerySet[Practice]) -> QuerySet[Practice]:
    """The rows of an export, with what they carry fetched per chunk rather than per row."""
    return (
        queryset.select_related("city__country")
        .prefetch_related("topics", "sdgs", "indicators", "translations")
        .order_by("updated_at", "id")
    )


def records(queryset: QuerySet[Practice], context: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for practice in for_export(queryset).iterator(chunk_size=CHUNK):
        yield PracticeSerializer(practice, context=dict(context)).data


def csv_row(row: dict[str, Any]) -> list[Any]:
    """One record flattened: the city as id, name and country; indicators as a JSON list in one column."""
    flat = {
        **row,
        "city": row["city"]["id"],
        "city_name": row["city"]["name"],
        "country": row["city"]["country"],
        "topics": " ".join(row["topics"]),
        "sdgs": " ".join(str(goal) for goal in row["sdgs"]),
        "indicators": json.dumps(row["indicators"], cls=JSONEncoder, ensure_ascii=False),
    }
    return [flat[column] for column in CSV_COLUMNS]


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(csv_row(row))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for number, row in enumerate(rows):
        yield ("," if number else "") + json.dumps(row, cls=JSONEncoder, ensure_ascii=False)
    yield "]"


@transaction.atomic
def start_library_export(*, by: User, format: str) -> LibraryExport:
    """A person asks for the whole published library as a file; a Celery task writes it after this commits."""
    from practices.tasks import export_library

    export = LibraryExport.objects.create(requested_by=by, format=format, total=Practice.objects.published().count())
    export_library.delay_on_commit(export.pk)
    return export


def write_library_export(*, export_id: int) -> bool:
    """Write the file of a queued export, saving progress as it goes. False when another run claimed it.

    The claim is a conditional update, so a task delivered twice, or two workers, write it once.
    """
    claimed = LibraryExport.objects.filter(pk=export_id, status=LibraryExport.Status.QUEUED).update(
        status=LibraryExport.Status.RUNNING
    )
    if not claimed:
        return False
    export = LibraryExport.objects.get(pk=export_id)
    published = Practice.objects.published()
    total = published.count()
    LibraryExport.objects.filter(pk=export_id).update(total=total, written=0)
    try:
        written = 0

        def counted(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            nonlocal written
            for row in rows:
                yield row
                written += 1
                if written % PROGRESS_EVERY == 0:
                    # The count may pass the one taken above if practices are published meanwhile.
                    LibraryExport.objects.filter(pk=export_id).update(written=min(written, total))

        rows = counted(records(published, {}))
        chunks = csv_lines(rows) if export.format == LibraryExport.Format.CSV else json_chunks(rows)
        with tempfile.TemporaryFile("w+b") as handle:
            for chunk in chunks:
                handle.write(chunk.encode())
            handle.seek(0)
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            export.file.save(f"practices-{stamp}.{export.format}", File(handle), save=False)
        LibraryExport.objects.filter(pk=export_id).update(
            status=LibraryExport.Status.DONE,
            file=export.file.name,
            total=max(total, written),
            written=max(total, written),
            finished_at=timezone.now(),
        )
    except Exception as error:
        logger.exception("Library export %s failed", export_id)
        LibraryExport.objects.filter(pk=export_id).update(
            status=LibraryExport.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    return True
