"""Must show: a client mirrors the library through the API, the server changes, some of it while the
client walks, and the client's incremental pass (updated_after plus the tombstone feed) leaves its copy
identical to the server's published set."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from practices import services
from practices.models import Practice
from tests.factories import PracticeFactory
from tests.practices.conftest import streamed

PAGE_SIZE = 4


class Mirror:
    """What a ministry's system keeps: every published practice by id, and two watermarks."""

    def __init__(self, client: APIClient) -> None:
        self.client = client
        self.records: dict[int, dict[str, Any]] = {}
        self.updated_after: str | None = None
        self.tombstones_since: str | None = None

    def _walk(self, url: str, params: dict[str, Any], on_page: Callable[[int], None]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        response = self.client.get(url, params)
        pages = 0
        while True:
            assert response.status_code == 200, response.content
            body = response.json()
            rows += body["results"]
            pages += 1
            on_page(pages)
            if not body["next"]:
                return rows
            parts = urlsplit(body["next"])
            response = self.client.get(f"{parts.path}?{parts.query}")

    def _latest_tombstone(self) -> None:
        params = {"since": self.tombstones_since} if self.tombstones_since else {}
        for tombstone in self._walk("/api/v1/practices/deleted/", params, lambda page: None):
            self.records.pop(tombstone["id"], None)
            self.tombstones_since = tombstone["at"]

    def sync(self, on_page: Callable[[int], None] = lambda page: None) -> None:
        """A full walk the first time, then only what changed; then drop what left the public set."""
        if self.updated_after is None:
            # Tombstones older than the first walk concern nothing the walk can return.
            self._latest_tombstone()
        params: dict[str, Any] = {"page_size": PAGE_SIZE}
        if self.updated_after:
            params["updated_after"] = self.updated_after
        for row in self._walk("/api/v1/practices/", params, on_page):
            self.records[row["id"]] = row
            self.updated_after = max(self.updated_after or "", row["updated_at"])
        self._latest_tombstone()


def server_copy() -> dict[int, dict[str, Any]]:
    """The published set as a fresh client would read it in one go."""
    rows = APIClient().get("/api/v1/practices/export/json/")
    return {row["id"]: row for row in json.loads(streamed(rows))}


def test_an_incremental_pass_leaves_the_mirror_identical_to_the_server(
    almaty_city: City, bishkek_city: City, officer: User, sco_coordinator: User, staff: User, api_client: APIClient
) -> None:
    coordinator = sco_coordinator  # moderates every country
    practices = [
        PracticeFactory.create(city=almaty_city if n % 2 else bishkek_city, status="published", title=f"Practice {n}")
        for n in range(14)
    ]
    PracticeFactory.create(city=almaty_city, status="draft", title="Never public")
    archived_before = PracticeFactory.create(city=almaty_city, status="published", title="Archived long ago")
    services.make_move(practice=archived_before, move="archive", by=coordinator)
    mirror = Mirror(api_client)

    def while_walking(page: int) -> None:
        # After the first page: a record already copied is edited and another unpublished;
        # one not reached yet is deleted; a new one is published.
        if page == 1:
            services.update_practice(practice=practices[0], by=coordinator, title="Practice 0, corrected")
            services.make_move(practice=practices[1], move="archive", by=officer)
            services.delete_practice(practice=practices[12], by=staff)
            draft = PracticeFactory.create(city=almaty_city, status="submitted", title="New during the walk")
            services.make_move(practice=draft, move="publish", by=coordinator)

    mirror.sync(on_page=while_walking)
    assert mirror.records == server_copy()

    # Between passes: more edits, a new practice, an unpublished and a deleted one ...
    services.update_practice(practice=practices[5], by=coordinator, summary="Figures for this year added.")
    services.make_move(practice=practices[6], move="archive", by=coordinator)
    services.delete_practice(practice=practices[7], by=staff)
    new = PracticeFactory.create(city=bishkek_city, status="submitted", title="New between passes")
    services.make_move(practice=new, move="publish", by=coordinator)

    # ... and more while the incremental pass walks.
    def while_updating(page: int) -> None:
        if page == 1:
            services.update_practice(practice=practices[9], by=coordinator, title="Practice 9, corrected")
            services.make_move(practice=practices[10], move="archive", by=coordinator)

    mirror.sync(on_page=while_updating)
    mirror.sync()

    assert mirror.records == server_copy()
    assert set(mirror.records) == set(Practice.objects.published().values_list("pk", flat=True))
    assert mirror.records[practices[0].pk]["title"] == "Practice 0, corrected"
    assert {practices[1].pk, practices[6].pk, practices[7].pk, practices[12].pk}.isdisjoint(mirror.records)
