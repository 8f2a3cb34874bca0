from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from cities.models import City, Country
from practices.models import Practice
from tests.factories import CityFactory, PracticeFactory, UserFactory
from tests.test_browser import page  # noqa: F401  (Chromium, for test_browser here)


@pytest.fixture
def neighbour_officer(almaty_city: City) -> User:
    """An officer of another city of the same country (Astana, Kazakhstan)."""
    astana = CityFactory.create(name="Astana", country=Country.objects.get(code="KZ"))
    return UserFactory.create(username="officer.astana", role=User.Role.OFFICER, city=astana)


@pytest.fixture
def practice_in(almaty_city: City, officer: User) -> Callable[..., Practice]:
    """A practice of Almaty, written by its officer, in the given status."""

    def make(status: str = Practice.Status.DRAFT, **fields: Any) -> Practice:
        return PracticeFactory.create(city=almaty_city, author=officer, status=status, **fields)

    return make


@pytest.fixture
def sent_notifications(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The notify() calls the practices services make, in order."""
    calls: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> list[Any]:
        calls.append({**kwargs, "recipients": sorted(user.username for user in kwargs["recipients"])})
        return []

    monkeypatch.setattr("practices.services.notify", record)
    return calls


def streamed(response: Any) -> bytes:
    """The whole body of a streamed response (an export)."""
    assert response.streaming
    return b"".join(response.streaming_content)
