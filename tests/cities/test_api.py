from typing import Any

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from accounts.models import User
from cities.models import City
from tests.factories import CityFactory, CountryFactory


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def kazakh_cities(almaty_city: City) -> None:
    kazakhstan = almaty_city.country
    CityFactory.create(geonameid=1526273, name="Astana", name_ru="Астана", country=kazakhstan, population=1544142)
    CityFactory.create(geonameid=1518980, name="Shymkent", country=kazakhstan, population=1200000)


def test_country_filter_lists_almaty_and_astana(client: APIClient, kazakh_cities: None, bishkek_city: City) -> None:
    response = client.get("/api/v1/cities/", {"country": "KZ"})

    assert response.status_code == 200
    names = {city["name"] for city in response.json()["results"]}
    assert names == {"Almaty", "Astana", "Shymkent"}
    almaty = next(city for city in response.json()["results"] if city["name"] == "Almaty")
    assert {"id", "geonameid", "name", "country", "population", "latitude", "longitude"} <= almaty.keys()
    assert (almaty["geonameid"], almaty["country"]) == (1526384, "KZ")


def test_population_and_name_filters(client: APIClient, kazakh_cities: None) -> None:
    def names(**params: Any) -> set[str]:
        return {city["name"] for city in client.get("/api/v1/cities/", params).json()["results"]}

    assert names(min_population=1_300_000) == {"Almaty", "Astana"}
    assert names(max_population=1_300_000) == {"Shymkent"}
    assert names(q="астана") == {"Astana"}
    assert names(q="阿拉木") == {"Almaty"}


def test_unknown_country_filter_answers_400_naming_the_field(client: APIClient, kazakh_cities: None) -> None:
    response = client.get("/api/v1/cities/", {"country": "XX"})

    assert response.status_code == 400
    assert "country" in response.json()


def test_page_size_is_capped_at_100(client: APIClient, almaty_city: City) -> None:
    CityFactory.create_batch(120, country=almaty_city.country)

    response = client.get("/api/v1/cities/", {"page_size": 500})

    body = response.json()
    assert (body["count"], len(body["results"])) == (121, 100)
    assert body["next"]


@pytest.mark.parametrize("path", ["/api/v1/cities/", "/api/v1/countries/", "/api/v1/topics/"])
def test_list_endpoints_keep_a_fixed_query_count(client: APIClient, almaty_city: City, path: str) -> None:
    def queries(rows: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path, {"page_size": rows}).status_code == 200
        return len(captured)

    CityFactory.create_batch(30, country=almaty_city.country)
    for code in ("KG", "UZ", "TJ", "RU", "CN"):
        CountryFactory.create(code=code)
    assert queries(2) == queries(30)


def test_city_detail_shows_the_profile(client: APIClient, almaty_city: City) -> None:
    almaty_city.description = "Southern capital."
    almaty_city.save()

    body = client.get(f"/api/v1/cities/{almaty_city.pk}/").json()

    assert body["description"] == "Southern capital."
    assert body["needs"] == []


def test_countries_show_status_in_force(client: APIClient, almaty_city: City) -> None:
    body = client.get("/api/v1/countries/KZ/").json()

    assert body["status"] == "member"
    assert body["status_history"][0]["since"] == "2001-06-15"


def test_schema_is_valid_openapi_3(client: APIClient, db: None) -> None:
    response = client.get("/api/v1/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)
    assert "/api/v1/cities/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKey"]["type"] == "apiKey"


def test_docs_load_nothing_from_outside_the_portal(client: APIClient, db: None) -> None:
    response = client.get("/api/v1/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in html
    assert "http://" not in html and "https://" not in html and 'src="//' not in html
    for asset in ("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-dist/swagger-ui.css"):
        assert f"/static/drf_spectacular_sidecar/{asset}" in html


def test_api_key_client_reads_public_data(api_client: APIClient, almaty_city: City) -> None:
    assert api_client.get("/api/v1/cities/").status_code == 200


def test_api_key_client_cannot_write(api_client: APIClient, almaty_city: City) -> None:
    response = api_client.post("/api/v1/cities/", {"name": "Nowhere"})

    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_revoked_api_key_is_refused(api_client: APIClient, api_key: str, almaty_city: City) -> None:
    APIKey.objects.update(revoked=True)

    response = api_client.get("/api/v1/cities/")

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer 0123456789", "Basic b2ZmaWNlcjpwYXNz", "garbage", "", " "])
def test_a_credential_the_api_does_not_take_is_refused_even_with_a_session(
    header: str, officer: User, almaty_city: City
) -> None:
    """A client that believes it sends a credential learns that it does not count, rather than
    being served as whoever else it is (here, a person with a session)."""
    client = APIClient()
    client.force_login(officer)
    response = client.post(
        "/api/v1/agreements/", {"initiator": almaty_city.pk}, format="json", HTTP_AUTHORIZATION=header
    )
    assert response.status_code == 401
    assert "Api-Key" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Api-Key"
    assert client.post("/api/v1/agreements/", {}, format="json").status_code == 400  # the session alone works


def test_api_keys_are_stored_hashed(api_key: str) -> None:
    record = APIKey.objects.get()
    assert api_key not in record.hashed_key
    assert record.is_valid(api_key)
