"""The city directory as people search it: ranking, default order, the country choices, paging, the admin."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from cities import pagination
from cities.filters import CityFilter
from cities.models import City, Country
from tests.conftest import login, missing_service
from tests.factories import CityFactory, CountryFactory, TopicFactory


def api_names(**params: Any) -> list[str]:
    response = APIClient().get("/api/v1/cities/", params)
    assert response.status_code == 200, response.content
    return [city["name"] for city in response.json()["results"]]


def page_names(client: Client, **params: Any) -> list[str]:
    html = client.get("/cities/", params).content.decode()
    return re.findall(r'<a href="/cities/\d+/">([^<]+)</a>', html)


@pytest.fixture
def china(db: None) -> Country:
    return CountryFactory.create(code="CN", name="China")


@pytest.fixture
def xian(china: Country) -> City:
    """Xi'an as GeoNames spells it (a typographic apostrophe), without the alternate "Xian"."""
    return CityFactory.create(
        geonameid=1790630, name="Xi’an", ascii_name="Xi'an", name_zh="西安", country=china, population=9_600_000
    )


def test_xian_puts_xian_first_ahead_of_bigger_cities_that_contain_it(xian: City, china: Country) -> None:
    # 60 bigger cities whose names contain "xian": by name or size alone, Xi'an would be on page 2.
    for number in range(60):
        CityFactory.create(name=f"Aaxian {number}", country=china, population=10_000_000 + number)
    CityFactory.create(name="Xianyang", country=china, population=20_000_000)

    assert api_names(q="Xian")[0] == "Xi’an"
    assert page_names(Client(), q="Xian")[0] == "Xi’an"


@pytest.mark.parametrize("query", ["xian", "XI'AN", "Xi’an", "xi an", "Xi-an", "西安"])
def test_search_ignores_case_spaces_and_punctuation(xian: City, query: str) -> None:
    assert api_names(q=query) == ["Xi’an"]


def test_exact_names_come_before_prefixes_before_other_matches_then_the_largest(db: None) -> None:
    uzbekistan = CountryFactory.create(code="UZ")
    # Created smallest first within each rank, so that the ids' order is not the expected one.
    for name, population in (
        ("Kyzyltash", 100_000),  # contains "tash": after every better match, however big
        ("Aktash", 3_000_000),
        ("Tash-Kumyr", 30_000),  # starts with it
        ("Tashkent", 2_500_000),
        ("Tash", 20_000),  # is it
        ("Kitab", 90_000),  # no match
    ):
        CityFactory.create(name=name, country=uzbekistan, population=population)

    expected = ["Tash", "Tashkent", "Tash-Kumyr", "Aktash", "Kyzyltash"]
    assert api_names(q="tash") == expected
    assert page_names(Client(), q="tash") == expected


def test_an_exact_match_on_another_name_counts_as_exact(db: None) -> None:
    russia = CountryFactory.create(code="RU")
    CityFactory.create(name="Kazanskaya", country=russia, population=5_000_000)
    CityFactory.create(name="Kazan", name_ru="Казань", country=russia, population=1_300_000)

    assert api_names(q="казань") == ["Kazan"]
    assert api_names(q="kazan") == ["Kazan", "Kazanskaya"]


def test_an_explicit_ordering_overrides_the_ranking(db: None) -> None:
    uzbekistan = CountryFactory.create(code="UZ")
    for name, population in (("Tash", 20_000), ("Tashkent", 2_500_000), ("Aktash", 3_000_000)):
        CityFactory.create(name=name, country=uzbekistan, population=population)

    assert api_names(q="tash", ordering="name") == ["Aktash", "Tash", "Tashkent"]
    assert api_names(q="tash", ordering="-population") == ["Aktash", "Tashkent", "Tash"]


def test_an_explicit_ordering_breaks_ties_by_id_so_pages_neither_repeat_nor_skip(db: None) -> None:
    ordered = CityFilter(QueryDict("ordering=-population"), queryset=City.objects.all()).qs

    assert ordered.query.order_by == ("-population", "id")


def test_unfiltered_directory_opens_with_the_largest_cities(almaty_city: City, bishkek_city: City) -> None:
    kazakhstan = almaty_city.country
    CityFactory.create(name="Astana", country=kazakhstan, population=1_544_142)
    CityFactory.create(name="Aktobe", country=kazakhstan, population=500_000)
    CityFactory.create(name="Zhezkazgan", country=kazakhstan, population=2_000_000)

    expected = ["Zhezkazgan", "Almaty", "Astana", "Bishkek", "Aktobe"]
    assert api_names() == expected
    assert page_names(Client()) == expected


def test_cities_of_the_same_size_keep_one_order_across_pages(almaty_city: City) -> None:
    cities = CityFactory.create_batch(7, country=almaty_city.country, population=50_000)

    seen = [city for page in (1, 2, 3) for city in api_names(page=page, page_size=3)][1:]

    assert seen == [city.name for city in sorted(cities, key=lambda city: city.pk)]


def test_name_search_has_a_trigram_index_on_postgresql(db: None) -> None:
    if connection.vendor != "postgresql":
        missing_service("the trigram index exists on PostgreSQL only (set DATABASE_URL)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'city_search_keys_trigram'")
        row = cursor.fetchone()

    assert row is not None and "gin_trgm_ops" in row[0] and "search_keys" in row[0]


def test_country_filter_offers_only_countries_with_cities(almaty_city: City) -> None:
    CountryFactory.create(code="IN", name="India")  # no city imported

    html = Client().get("/cities/").content.decode()
    select = re.search(r'<select name="country".*?</select>', html, re.DOTALL)

    assert select is not None
    offered = re.findall(r'<option value="(\w*)"', select.group())
    assert offered == ["", "KZ"]


def test_api_answers_an_empty_list_for_a_country_without_cities(almaty_city: City) -> None:
    CountryFactory.create(code="IN", name="India")

    assert api_names(country="IN") == []
    assert APIClient().get("/api/v1/cities/", {"country": "XX"}).status_code == 400


def test_admin_profile_save_records_when_it_changed(staff: User, almaty_city: City) -> None:
    transport = TopicFactory.create(name="Public transport")
    before = timezone.now()

    response = login(staff).post(
        f"/admin/cities/city/{almaty_city.pk}/change/",
        {"description": "Southern capital.", "website": "almaty.gov.kz", "expertise": [transport.pk], "_save": "1"},
    )

    assert response.status_code == 302, response.content.decode()
    almaty_city.refresh_from_db()
    assert almaty_city.description == "Southern capital."
    assert almaty_city.website == "https://almaty.gov.kz"
    assert list(almaty_city.expertise.all()) == [transport]
    assert almaty_city.profile_updated_at is not None
    assert before <= almaty_city.profile_updated_at <= timezone.now()
    assert almaty_city.name == "Almaty" and almaty_city.population == 1977011


def test_admin_offers_no_way_to_add_a_city(staff: User) -> None:
    assert login(staff).get("/admin/cities/city/add/").status_code == 403


def test_officers_edit_records_when_the_profile_changed(officer: User, almaty_city: City) -> None:
    almaty_city.profile_updated_at = timezone.now() - datetime.timedelta(days=400)
    almaty_city.save()

    login(officer).post(f"/cities/{almaty_city.pk}/edit/", {"description": "Metro line 2 is open."})

    almaty_city.refresh_from_db()
    assert almaty_city.profile_updated_at is not None
    assert timezone.now() - almaty_city.profile_updated_at < datetime.timedelta(minutes=1)


@pytest.mark.parametrize("estimate", [4, 13, 40])
def test_paging_reaches_every_city_when_the_size_is_an_estimate(
    almaty_city: City, monkeypatch: pytest.MonkeyPatch, estimate: int
) -> None:
    """A short or long estimate (statistics not yet refreshed) neither hides cities nor pages past them."""
    CityFactory.create_batch(12, country=almaty_city.country)
    monkeypatch.setattr(pagination, "ESTIMATE_FROM", 1)
    monkeypatch.setattr(pagination, "estimated_size", lambda queryset: estimate)
    client = APIClient()

    seen, url = [], "/api/v1/cities/?page_size=5"
    while url:
        body = client.get(url).json()
        assert body["count"] == estimate
        seen += [city["id"] for city in body["results"]]
        url = body["next"]

    assert sorted(seen) == sorted(City.objects.values_list("id", flat=True))
    assert f"about {estimate} cities" in Client().get("/cities/").content.decode()


def test_filtered_lists_are_counted_exactly(almaty_city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    CityFactory.create_batch(3, country=almaty_city.country, population=100_000)
    monkeypatch.setattr(pagination, "ESTIMATE_FROM", 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cities_city")  # the statistics would now say 4
    client = APIClient()

    assert client.get("/api/v1/cities/", {"min_population": 1_000_000}).json()["count"] == 1
    assert client.get("/api/v1/cities/", {"q": "almaty"}).json()["count"] == 1


def test_the_estimate_comes_from_postgresql_statistics(almaty_city: City) -> None:
    CityFactory.create_batch(29, country=almaty_city.country)

    if connection.vendor != "postgresql":
        assert pagination.estimated_size(City.objects.all()) is None
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cities_city")
    assert pagination.estimated_size(City.objects.select_related("country")) == 30
