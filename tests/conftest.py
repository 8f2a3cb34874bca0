"""Personas (healthchecks' alice/bob idea) and the switch that makes missing services fail in CI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from accounts.models import User
from cities.models import City, Country
from tests.factories import CityFactory, CountryFactory, UserFactory, almaty, bishkek

PASSWORD = "a-long-test-password"


def services_required() -> bool:
    """In CI (`SCO_REQUIRE_SERVICES=1`) a test that needs a missing service fails instead of skipping."""
    return os.environ.get("SCO_REQUIRE_SERVICES") == "1"


def missing_service(reason: str) -> None:
    if services_required():
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def media_in_a_temporary_folder(settings: Any, tmp_path: Path) -> None:
    """Uploaded files (memoranda) go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def english_outside_requests() -> None:
    """Each test starts in English: a request leaves its language active in the thread (Django
    activates per request and never deactivates), which would leak into the next test's
    messages depending on which tests xdist gave this process before."""
    from django.utils import translation

    translation.activate("en")


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Throttle counts start from zero in every test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def almaty_city(db: None) -> City:
    return almaty()


@pytest.fixture
def bishkek_city(db: None) -> City:
    return bishkek()


@pytest.fixture
def officer(almaty_city: City) -> User:
    """A municipal officer of Almaty."""
    return UserFactory.create(username="officer.almaty", role=User.Role.OFFICER, city=almaty_city)


@pytest.fixture
def partner_officer(bishkek_city: City) -> User:
    """A municipal officer of Bishkek."""
    return UserFactory.create(username="officer.bishkek", role=User.Role.OFFICER, city=bishkek_city)


@pytest.fixture
def outsider(db: None) -> User:
    """An officer of a city that has nothing to do with the case at hand."""
    city = CityFactory.create(name="Ozersk", country=CountryFactory.create(code="RU", name="Russia"))
    return UserFactory.create(username="officer.outsider", role=User.Role.OFFICER, city=city)


@pytest.fixture
def coordinator(almaty_city: City) -> User:
    """The national coordinator of Kazakhstan."""
    country = Country.objects.get(code="KZ")
    return UserFactory.create(username="coordinator.kz", role=User.Role.NATIONAL_COORDINATOR, country=country)


@pytest.fixture
def sco_coordinator(db: None) -> User:
    return UserFactory.create(username="coordinator.sco", role=User.Role.SCO_COORDINATOR)


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory.create(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def api_key(db: None) -> str:
    """The secret key of a machine client (a ministry system, say)."""
    _record, key = APIKey.objects.create_key(name="ministry system")
    return key


@pytest.fixture
def api_client(api_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def partner_coordinator(bishkek_city: City) -> User:
    """The national coordinator of Kyrgyzstan."""
    return UserFactory.create(
        username="coordinator.kg", role=User.Role.NATIONAL_COORDINATOR, country=Country.objects.get(code="KG")
    )


@pytest.fixture
def other_coordinator(db: None) -> User:
    """The national coordinator of a country that is not party to the case (Uzbekistan)."""
    return UserFactory.create(
        username="coordinator.uz", role=User.Role.NATIONAL_COORDINATOR, country=CountryFactory.create(code="UZ")
    )


def field_error(html: str, label: str, error: str) -> bool:
    """Whether the page shows `error` under the field labelled `label` (templates/_field.html), not elsewhere."""
    import re

    return re.search(rf">{re.escape(label)}</label>(?:(?!</div>).)*{re.escape(error)}", html, re.S) is not None
