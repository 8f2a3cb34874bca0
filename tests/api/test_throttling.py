"""The API answers each client at most so often, and says when to come back (429, Retry-After)."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from accounts.models import User
from cities.models import City

PRODUCTION_RATES = {
    "visitor": "120/minute",
    "person": "300/minute",
    "api_key": "300/minute",
    "search": "30/minute",
    "export": "10/minute",
}


def key_client(name: str = "ministry system") -> APIClient:
    _record, key = APIKey.objects.create_key(name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_a_burst_of_400_requests_from_one_key_is_answered_429_after_the_rate(settings: Any, almaty_city: City) -> None:
    settings.API_THROTTLE_RATES = PRODUCTION_RATES
    client = key_client()
    statuses = []
    for _ in range(400):
        response = client.get("/api/v1/topics/")
        statuses.append(response.status_code)
    assert statuses[:300] == [200] * 300
    assert statuses[300:] == [429] * 100
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    assert "throttled" in response.json()["detail"]
    # Another key is counted on its own.
    assert key_client("research group").get("/api/v1/topics/").status_code == 200


def test_visitors_are_counted_by_address(settings: Any, db: None) -> None:
    settings.API_THROTTLE_RATES = {**PRODUCTION_RATES, "visitor": "3/minute"}
    client = APIClient()
    assert [client.get("/api/v1/topics/", REMOTE_ADDR="203.0.113.9").status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]
    assert client.get("/api/v1/topics/", REMOTE_ADDR="198.51.100.4").status_code == 200


def test_a_person_is_counted_by_account_whatever_the_address(settings: Any, officer: User) -> None:
    settings.API_THROTTLE_RATES = {**PRODUCTION_RATES, "person": "2/minute"}
    client = APIClient()
    client.force_authenticate(officer)
    first = client.get("/api/v1/topics/", REMOTE_ADDR="203.0.113.9").status_code
    second = client.get("/api/v1/topics/", REMOTE_ADDR="198.51.100.4").status_code
    third = client.get("/api/v1/topics/", REMOTE_ADDR="192.0.2.1")
    assert (first, second, third.status_code) == (200, 200, 429)
    assert third["Retry-After"]


def test_search_has_its_own_tighter_rate(settings: Any, almaty_city: City) -> None:
    settings.API_THROTTLE_RATES = {**PRODUCTION_RATES, "search": "2/minute"}
    client = key_client()
    searches = [client.get("/api/v1/cities/", {"q": "Alm"}).status_code for _ in range(3)]
    assert searches == [200, 200, 429]
    # Browsing without a search goes on.
    assert client.get("/api/v1/cities/").status_code == 200
