"""Bad input answers 400 (or 404 for an id that cannot exist), never 500; API errors are JSON.

Run on SQLite and on PostgreSQL: a number beyond 64 bits is an OverflowError in SQLite's
driver and out of range for PostgreSQL's bigint.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from partnerships.models import Agreement
from tests.conftest import login
from tests.factories import AgreementFactory

BEYOND_64_BITS = "99999999999999999999999"
NO_SUCH_ID = "There is no such id: ids are whole numbers from 1 to 9223372036854775807."


def client_that_answers_500() -> Client:
    """A client that returns the server's error response instead of raising the view's exception."""
    return Client(raise_request_exception=False)


@pytest.fixture
def active_agreement(almaty_city: City, bishkek_city: City) -> Agreement:
    return AgreementFactory.create(initiator=almaty_city, partner=bishkek_city, status=Agreement.Status.ACTIVE)


# Ids beyond 64 bits


@pytest.mark.parametrize("value", [BEYOND_64_BITS, "-" + BEYOND_64_BITS, "0"])
def test_city_filter_beyond_64_bits_in_the_api_is_a_400_naming_the_field(
    active_agreement: Agreement, value: str
) -> None:
    response = APIClient().get("/api/v1/agreements/", {"city": value})

    assert response.status_code == 400
    assert response.json() == {"city": [NO_SUCH_ID]}


def test_city_filter_that_is_not_a_number_is_a_400_naming_the_field(active_agreement: Agreement) -> None:
    response = APIClient().get("/api/v1/agreements/", {"city": "Almaty"})

    assert response.status_code == 400
    assert response.json() == {"city": ["Enter an id: a whole number."]}


def test_city_filter_beyond_64_bits_on_the_agreements_page_is_a_form_error(active_agreement: Agreement) -> None:
    response = client_that_answers_500().get("/agreements/", {"city": BEYOND_64_BITS})

    assert response.status_code == 200
    assert f"City: {NO_SUCH_ID}" in response.content.decode()


def test_a_valid_city_filter_still_filters(active_agreement: Agreement, almaty_city: City) -> None:
    AgreementFactory.create(status=Agreement.Status.ACTIVE)  # between two other cities

    response = APIClient().get("/api/v1/agreements/", {"city": almaty_city.pk})

    assert [row["id"] for row in response.json()["results"]] == [active_agreement.pk]


@pytest.mark.parametrize("path", ["/api/v1/cities/", "/cities/"])
@pytest.mark.parametrize("name", ["min_population", "max_population"])
def test_population_filters_beyond_64_bits_answer_without_a_server_error(
    almaty_city: City, path: str, name: str
) -> None:
    # A population this large is no error, just a bound that every city is under.
    response = client_that_answers_500().get(path, {name: BEYOND_64_BITS})

    assert response.status_code == 200
    assert ("Almaty" in response.content.decode()) == (name == "max_population")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/agreements/{id}/",
        "/api/v1/agreements/{id}/activities/",
        "/api/v1/cities/{id}/",
        "/agreements/{id}/",
        "/cities/{id}/",
        "/agreements/new/{id}/",
    ],
)
def test_path_id_beyond_64_bits_is_not_found(officer: User, path: str) -> None:
    client = login(officer)
    client.raise_request_exception = False

    response = client.get(path.format(id=BEYOND_64_BITS))

    assert response.status_code == 404


def test_api_move_on_an_agreement_id_beyond_64_bits_is_not_found(officer: User) -> None:
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(officer)

    response = api.post(f"/api/v1/agreements/{BEYOND_64_BITS}/propose/", {}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "No Agreement matches the given query."}


def test_city_id_beyond_64_bits_in_a_draft_is_a_400_naming_the_field(officer: User, bishkek_city: City) -> None:
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(officer)

    response = api.post(
        "/api/v1/agreements/",
        {"initiator": BEYOND_64_BITS, "partner": bishkek_city.pk, "title": "Almaty – Bishkek"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["initiator"]
