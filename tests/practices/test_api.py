"""The API clients pull the library through: filters, cursor pages, ETags, exports, the tombstone feed, writes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from practices.models import Practice
from tests.factories import PracticeFactory, TopicFactory, days_from_today
from tests.practices.conftest import streamed

THIS_YEAR = days_from_today(0).year


def titles(response: Any) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_visitors_and_keys_get_published_practices_a_person_also_their_drafts(
    practice_in: Callable[..., Practice], api_client: APIClient, officer: User
) -> None:
    practice_in("published", title="Published")
    practice_in("draft", title="Draft")
    person = APIClient()
    person.force_authenticate(officer)

    assert titles(APIClient().get("/api/v1/practices/")) == ["Published"]
    assert titles(api_client.get("/api/v1/practices/")) == ["Published"]
    assert sorted(titles(person.get("/api/v1/practices/"))) == ["Draft", "Published"]


def test_filters(practice_in: Callable[..., Practice], bishkek_city: City) -> None:
    transport = TopicFactory.create(slug="transport", name="Transport")
    waste = practice_in("published", title="Waste", start_year=THIS_YEAR - 6, end_year=THIS_YEAR - 4)
    waste.sdgs.set([11, 12])
    waste.indicators.create(indicator="Recycled", unit="%", achieved=40, year=THIS_YEAR - 4)
    buses = PracticeFactory.create(
        city=bishkek_city, status="published", title="Buses", topics=[transport], start_year=THIS_YEAR - 1
    )
    buses.sdgs.set([11])

    def get(**query: Any) -> list[str]:
        response = APIClient().get("/api/v1/practices/", query)
        assert response.status_code == 200, response.content
        return sorted(titles(response))

    assert get(topic="transport") == ["Buses"]
    assert get(country="KZ") == ["Waste"]
    assert get(city=bishkek_city.pk) == ["Buses"]
    assert get(sdg=12) == ["Waste"]
    assert get(sdg=11) == ["Buses", "Waste"]
    assert get(year_from=THIS_YEAR - 2) == ["Buses"]
    assert get(year_to=THIS_YEAR - 5) == ["Waste"]
    assert get(has_indicators="true") == ["Waste"]
    assert get(has_indicators="false") == ["Buses"]
    assert get(q="buses") == ["Buses"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"updated_after": "yesterday"}, "updated_after"),
        ({"sdg": "18"}, "sdg"),
        ({"year_from": "soon"}, "year_from"),
        ({"country": "ZZ"}, "country"),
    ],
)
def test_a_bad_filter_answers_400_naming_it(db: None, query: dict[str, str], field: str) -> None:
    response = APIClient().get("/api/v1/practices/", query)

    assert response.status_code == 400
    assert field in response.json()


def test_a_list_page_costs_the_same_queries_whatever_its_size(almaty_city: City, api_client: APIClient) -> None:
    topic = TopicFactory.create(slug="water", name="Water")
    for number in range(40):
        practice = PracticeFactory.create(city=almaty_city, status="published", title=f"P{number}", topics=[topic])
        practice.sdgs.set([6, 11])
        practice.indicators.create(indicator="Leaks", unit="%", achieved=3, year=THIS_YEAR)

    def queries(size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = api_client.get("/api/v1/practices/", {"page_size": size})
        assert len(response.json()["results"]) == size
        return len(captured)

    # The key, the page, then topics, SDGs and indicators of the whole page at once.
    assert queries(5) == queries(40) == 5


def test_etag_answers_304_until_the_data_changes(practice_in: Callable[..., Practice], coordinator: User) -> None:
    practice = practice_in("published")
    client = APIClient()
    for url in ("/api/v1/practices/", f"/api/v1/practices/{practice.pk}/"):
        first = client.get(url)
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    from practices import services

    services.update_practice(practice=practice, by=coordinator, title="Corrected title")

    for url in ("/api/v1/practices/", f"/api/v1/practices/{practice.pk}/"):
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_exports_stream_the_current_filter(practice_in: Callable[..., Practice], bishkek_city: City) -> None:
    waste = practice_in("published", title="Сортировка отходов", cost=Decimal(100), currency="KZT")
    waste.indicators.create(indicator="Recycled", unit="%", achieved=40, year=THIS_YEAR)
    PracticeFactory.create(city=bishkek_city, status="published", title="Buses")
    practice_in("draft", title="Draft")

    as_csv = APIClient().get("/api/v1/practices/export/csv/", {"country": "KZ"})
    as_json = APIClient().get("/api/v1/practices/export/json/")

    assert as_csv.streaming and as_json.streaming
    rows = list(csv.DictReader(io.StringIO(streamed(as_csv).decode())))
    assert [(row["title"], row["currency"]) for row in rows] == [("Сортировка отходов", "KZT")]
    assert json.loads(rows[0]["indicators"])[0]["indicator"] == "Recycled"
    records = json.loads(streamed(as_json))
    assert sorted(record["title"] for record in records) == ["Buses", "Сортировка отходов"]


def test_api_keys_only_read(api_client: APIClient, almaty_city: City) -> None:
    response = api_client.post("/api/v1/practices/", {"city": almaty_city.pk, "title": "X"}, format="json")
    assert response.status_code == 403


def write_payload(city: City, **fields: Any) -> dict[str, Any]:
    return {
        "city": city.pk,
        "title": "Bus rapid transit",
        "summary": "A dedicated lane.",
        "topics": [TopicFactory.create(slug="transport", name="Transport").pk],
        "indicators": [
            {"indicator": "Travel time", "unit": "min", "baseline": "55", "achieved": "32", "year": THIS_YEAR}
        ],
        "sdgs": [11],
        "cost": "1000000.00",
        "currency": "KZT",
        **fields,
    }


def test_an_officer_writes_through_the_api(officer: User, almaty_city: City) -> None:
    client = APIClient()
    client.force_authenticate(officer)

    created = client.post("/api/v1/practices/", write_payload(almaty_city), format="json")
    assert created.status_code == 201, created.content
    changed = client.patch(
        f"/api/v1/practices/{created.json()['id']}/",
        {"indicators": [{"indicator": "Riders", "unit": "people", "achieved": "9000", "year": THIS_YEAR}]},
        format="json",
    )

    assert changed.status_code == 200, changed.content
    assert [row["indicator"] for row in changed.json()["indicators"]] == ["Riders"]
    assert changed.json()["status"] == "draft"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"currency": "ABC"}, "currency"),
        ({"sdgs": [18]}, "sdgs"),
        ({"start_year": THIS_YEAR, "end_year": THIS_YEAR - 1}, "end_year"),
        ({"indicators": [{"indicator": "Riders", "unit": "people", "achieved": "x", "year": THIS_YEAR}]}, "indicators"),
        ({"indicators": [{"indicator": "Riders", "unit": "people", "achieved": "1", "year": 1200}]}, "indicators"),
        ({"language": "xx"}, "language"),
    ],
)
def test_bad_input_answers_400_naming_the_field(
    officer: User, almaty_city: City, fields: dict[str, Any], named: str
) -> None:
    client = APIClient()
    client.force_authenticate(officer)

    response = client.post("/api/v1/practices/", write_payload(almaty_city, **fields), format="json")

    assert response.status_code == 400
    assert named in response.json()
    assert not Practice.objects.exists()


def test_an_officer_cannot_write_for_another_city(officer: User, bishkek_city: City) -> None:
    client = APIClient()
    client.force_authenticate(officer)

    assert client.post("/api/v1/practices/", write_payload(bishkek_city), format="json").status_code == 403


def test_the_tombstone_feed_lists_what_left_since_a_time(
    practice_in: Callable[..., Practice], coordinator: User, staff: User
) -> None:
    from practices import services

    archived, deleted = practice_in("published"), practice_in("published")
    services.make_move(practice=archived, move="archive", by=coordinator)
    first = APIClient().get("/api/v1/practices/deleted/").json()["results"]
    deleted_id = deleted.pk
    services.delete_practice(practice=deleted, by=staff)

    later = APIClient().get("/api/v1/practices/deleted/", {"since": first[-1]["at"]}).json()["results"]

    assert [(row["id"], row["reason"]) for row in first] == [(archived.pk, "archived")]
    assert [(row["id"], row["reason"]) for row in later] == [(deleted_id, "deleted")]
    assert APIClient().get("/api/v1/practices/deleted/", {"since": "last week"}).status_code == 400
