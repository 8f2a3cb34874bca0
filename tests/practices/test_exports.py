"""The whole library as a file: a Celery task writes it, its page shows the progress, then a download."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest

from accounts.models import User
from practices import exports
from practices.models import LibraryExport, Practice
from tests.conftest import login
from tests.practices.conftest import streamed


@pytest.mark.parametrize("format", ["csv", "json"])
def test_a_person_gets_the_published_library_as_a_file(
    practice_in: Callable[..., Practice], officer: User, format: str, django_capture_on_commit_callbacks: Callable
) -> None:
    practice_in("published", title="Сортировка отходов")
    practice_in("published", title="Bus lanes")
    practice_in("draft", title="Not public")
    client = login(officer)

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/practices/exports/", {"format": format})

    export = LibraryExport.objects.get()
    assert started["Location"] == export.get_absolute_url()
    page = client.get(export.get_absolute_url()).content.decode()
    assert 'value="100"' in page and "2 of 2" in page
    download = client.get(f"/practices/exports/{export.pk}/download/")
    body = streamed(download).decode()
    if format == "csv":
        titles = [row["title"] for row in csv.DictReader(io.StringIO(body))]
    else:
        titles = [row["title"] for row in json.loads(body)]
    assert sorted(titles) == ["Bus lanes", "Сортировка отходов"]


def test_the_page_of_a_running_export_shows_its_progress_and_refreshes(officer: User) -> None:
    export = LibraryExport.objects.create(requested_by=officer, status="running", total=200, written=50)

    page = login(officer).get(export.get_absolute_url()).content.decode()

    assert 'value="25"' in page and 'http-equiv="refresh"' in page and "download" not in page


def test_a_task_delivered_twice_writes_the_file_once(practice_in: Callable[..., Practice], officer: User) -> None:
    practice_in("published")
    export = LibraryExport.objects.create(requested_by=officer, total=1)

    assert exports.write_library_export(export_id=export.pk) is True
    assert exports.write_library_export(export_id=export.pk) is False

    export.refresh_from_db()
    assert (export.status, export.written, export.total) == ("done", 1, 1)


def test_an_export_is_seen_by_the_person_who_asked_only(officer: User, outsider: User) -> None:
    export = LibraryExport.objects.create(requested_by=officer)

    assert login(outsider).get(export.get_absolute_url()).status_code == 404
