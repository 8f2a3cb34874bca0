"""Bad input answers 400 (or 404 for an id that cannot exist), never 500; API errors are JSON.

Run on SQLite and on PostgreSQL: a number beyond 64 bits is an OverflowError in SQLite's
driver and out of range for PostgreSQL's bigint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import get_resolver
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from partnerships.models import Agreement
from sco_portal.api_urls import router
from sco_portal.parsers import MAX_JSON_DEPTH, JSONParser
from tests.conftest import PASSWORD, login
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


# Deeply nested JSON


def nested(depth: int, kind: str) -> str:
    return "[" * depth + "]" * depth if kind == "array" else '{"a":' * depth + "1" + "}" * depth


TOO_DEEP = f"The JSON body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels."


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/agreements/"),
        ("patch", "/api/v1/agreements/{id}/"),
        ("post", "/api/v1/agreements/{id}/propose/"),
        ("post", "/api/v1/agreements/{id}/activities/"),
    ],
)
def test_json_nested_40000_levels_deep_is_a_400_that_says_so(
    officer: User, almaty_city: City, bishkek_city: City, kind: str, method: str, path: str
) -> None:
    draft = AgreementFactory.create(initiator=almaty_city, partner=bishkek_city)
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(officer)

    # 40,000 levels of objects is 240 kB, within the JSON body limit (sco_portal/middleware.py).
    response = getattr(api, method)(path.format(id=draft.pk), nested(40_000, kind), content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": TOO_DEEP}


def test_json_nested_just_past_the_limit_is_refused_before_any_view_reads_it(officer: User) -> None:
    api = APIClient()
    api.force_authenticate(officer)
    body = {"title": json.loads(nested(MAX_JSON_DEPTH, "array"))}

    response = api.post("/api/v1/agreements/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": TOO_DEEP}


def test_json_at_a_sensible_depth_still_reaches_the_serializer(officer: User) -> None:
    api = APIClient()
    api.force_authenticate(officer)

    response = api.post("/api/v1/agreements/", {"title": [[["three levels"]]]}, format="json")

    assert response.status_code == 400
    assert response.json()["title"] == ["Not a valid string."]


@pytest.mark.parametrize(("prefix", "viewset", "_basename"), router.registry)
def test_every_api_endpoint_parses_json_with_the_depth_limit(prefix: str, viewset: Any, _basename: str) -> None:
    json_parsers = [parser for parser in viewset.parser_classes if parser.media_type == "application/json"]

    assert json_parsers, prefix
    assert all(issubclass(parser, JSONParser) for parser in json_parsers), prefix


# API errors are JSON; pages keep HTML


def test_unknown_api_url_is_a_json_404(db: None) -> None:
    response = Client().get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_unknown_page_is_still_an_html_404(db: None) -> None:
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "There is nothing here" in response.content.decode()


def crash(*args: object, **kwargs: object) -> None:
    raise RuntimeError("a bug")


def test_server_error_in_the_api_is_json(monkeypatch: pytest.MonkeyPatch, almaty_city: City) -> None:
    monkeypatch.setattr("cities.api.CityViewSet.get_queryset", crash)

    response = client_that_answers_500().get("/api/v1/cities/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "A server error occurred."}


def test_server_error_on_a_page_is_the_html_page_in_the_readers_language(
    monkeypatch: pytest.MonkeyPatch, almaty_city: City
) -> None:
    monkeypatch.setattr("cities.views.paged_list_context", crash)
    client = client_that_answers_500()
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})

    response = client.get("/cities/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>Ошибка сервера</h1>" in response.content.decode()


def test_request_django_refuses_before_the_api_sees_it_is_a_json_400(officer: User) -> None:
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(officer)
    too_many_fields = "&".join(f"field{number}=x" for number in range(1_001))

    response = api.post("/api/v1/agreements/", too_many_fields, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Malformed request."}


def test_csrf_failure_in_the_api_is_json(officer: User) -> None:
    api = APIClient(enforce_csrf_checks=True)
    # django-axes asks every password check for its request.
    api.login(request=HttpRequest(), username=officer.username, password=PASSWORD)

    response = api.post("/api/v1/agreements/", {"title": "No token"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")


def test_method_not_allowed_in_the_api_is_json(officer: User, active_agreement: Agreement) -> None:
    api = APIClient()
    api.force_authenticate(officer)

    response = api.delete(f"/api/v1/agreements/{active_agreement.pk}/")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}


def test_permission_refused_by_django_under_the_api_is_json(rf: RequestFactory) -> None:
    # DRF answers its own 403s; this covers one raised outside a DRF view under /api/.
    handler = cast(Callable[..., HttpResponse], get_resolver().resolve_error_handler(403))

    with translation.override("en"):  # no LocaleMiddleware here
        response = handler(rf.get("/api/v1/anything/"), PermissionDenied())

    assert response.status_code == 403
    assert json.loads(response.content) == {"detail": "You do not have permission to perform this action."}


@pytest.mark.parametrize(
    ("language", "no_such_id", "too_deep"),
    [
        ("ru", "Такого идентификатора нет", "В теле JSON массивы и объекты вложены слишком глубоко"),
        ("zh-hans", "不存在此 ID", "JSON 请求体中数组和对象的嵌套超过了 32 层"),
    ],
)
def test_bad_input_messages_are_in_the_readers_language(
    officer: User, active_agreement: Agreement, language: str, no_such_id: str, too_deep: str
) -> None:
    api = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    api.force_authenticate(officer)

    id_error = api.get("/api/v1/agreements/", {"city": BEYOND_64_BITS}).json()["city"][0]
    depth_error = api.post("/api/v1/agreements/", nested(100_000, "array"), content_type="application/json")

    assert id_error.startswith(no_such_id)
    assert depth_error.json()["detail"].startswith(too_deep)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/practices/1/attachments/1.5/",  # once read as attachment 1 in the format "5"
        "/api/v1/agreements/1/translations.json/",
        "/api/v1/cities/1.json",
    ],
)
def test_a_format_suffix_is_not_a_route(db: None, path: str) -> None:
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_practice_filters_with_bounds_say_them_in_the_schema(db: None) -> None:
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/practices/"]["get"]["parameters"]}
    assert parameters["sdg"] == {"type": "number", "minimum": 1, "maximum": 17}
    assert parameters["year_from"]["minimum"] == 1950


@pytest.mark.parametrize(
    ("updated_after", "status"),
    [
        ("0127-05-11T11:41:39-18:32", 200),  # an offset PostgreSQL would refuse: the same instant in UTC
        ("2026-01-01T00:00:00+14:00", 200),
        ("0001-01-01T00:00:00+05:00", 400),  # before the year 1 in UTC
    ],
)
def test_a_practice_filter_takes_any_utc_offset(db: None, updated_after: str, status: int) -> None:
    response = APIClient().get("/api/v1/practices/", {"updated_after": updated_after})
    assert response.status_code == status, response.json()
    if status == 400:
        assert list(response.json()) == ["updated_after"]


@pytest.mark.parametrize("ordering", [",", ",,", "-population,", ",name"])
def test_an_ordering_with_empty_names_is_not_a_server_error(almaty_city: City, ordering: str) -> None:
    response = APIClient().get("/api/v1/cities/", {"ordering": ordering})
    assert response.status_code == 200
    assert response.json()["results"][0]["name"] == "Almaty"


def test_a_model_choice_beyond_64_bits_is_a_400_not_a_server_error(officer: User, almaty_city: City) -> None:
    # Found by fuzzing the pages on SQLite: a form's model choice (a city's needs) and a page's filter pass the
    # number to the query, where SQLite's driver raises OverflowError. PostgreSQL finds no such row instead.
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    answers = [
        client.get("/practices/", {"city": BEYOND_64_BITS}),
        client.post(f"/cities/{almaty_city.pk}/edit/", {"description": "A city", "needs": [BEYOND_64_BITS]}),
    ]
    assert [answer.status_code for answer in answers if answer.status_code >= 500] == []


def test_sqlites_overflow_from_the_request_is_a_400_that_says_so(rf: RequestFactory) -> None:
    from sco_portal.middleware import NumberOutOfRangeMiddleware

    middleware = NumberOutOfRangeMiddleware(lambda request: HttpResponse())
    overflow = OverflowError("Python int too large to convert to SQLite INTEGER")
    page = middleware.process_exception(rf.get("/practices/"), overflow)
    assert page is not None and page.status_code == 400 and b"too large" in page.content
    api = middleware.process_exception(rf.get("/api/v1/practices/"), overflow)
    assert api is not None and api.status_code == 400 and "too large" in json.loads(api.content)["detail"]
    assert middleware.process_exception(rf.get("/"), OverflowError("math range error")) is None  # a bug stays a 500
