import pytest
from django.test import Client

from accounts.models import User
from cities.models import City
from tests.conftest import login
from tests.factories import CityFactory, CountryFactory, TopicFactory


def test_directory_searches_names_in_any_script(client: Client, almaty_city: City, bishkek_city: City) -> None:
    for query, expected, absent in (("Алматы", "Almaty", "Bishkek"), ("比什", "Bishkek", "Almaty")):
        html = client.get("/cities/", {"q": query}).content.decode()
        assert expected in html
        assert absent not in html


def test_directory_filters_by_country_and_population_and_sorts(
    client: Client, almaty_city: City, bishkek_city: City
) -> None:
    html = client.get("/cities/", {"country": "KG"}).content.decode()
    assert "Bishkek" in html and "Almaty" not in html

    html = client.get("/cities/", {"min_population": 1_000_000}).content.decode()
    assert "Almaty" in html and "Bishkek" not in html

    html = client.get("/cities/", {"ordering": "-population"}).content.decode()
    assert html.index("Almaty") < html.index("Bishkek")
    html = client.get("/cities/", {"ordering": "population"}).content.decode()
    assert html.index("Bishkek") < html.index("Almaty")


def test_directory_paginates(client: Client, almaty_city: City) -> None:
    CityFactory.create_batch(60, country=almaty_city.country)

    first = client.get("/cities/").content.decode()
    second = client.get("/cities/", {"page": 2}).content.decode()

    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert "Page 2 of 2" in second


def test_bad_population_filter_is_a_form_error(client: Client, almaty_city: City) -> None:
    response = client.get("/cities/", {"min_population": "lots"})

    assert response.status_code == 200
    assert "Enter a number." in response.content.decode()


def test_city_page_shows_profile_to_visitors_without_edit_link(client: Client, almaty_city: City) -> None:
    almaty_city.description = "The southern capital, at the foot of the Tian Shan."
    almaty_city.save()
    almaty_city.needs.add(TopicFactory.create(name="Waste management"))

    html = client.get(f"/cities/{almaty_city.pk}/").content.decode()

    assert "The southern capital" in html
    assert "Waste management" in html
    assert "Edit profile" not in html


def test_officer_edits_own_city_profile(officer: User, almaty_city: City) -> None:
    transport = TopicFactory.create(name="Public transport")
    client = login(officer)
    assert "Edit profile" in client.get(f"/cities/{almaty_city.pk}/").content.decode()

    response = client.post(
        f"/cities/{almaty_city.pk}/edit/",
        {"description": "Metro line 2 opens in 2027.", "website": "https://almaty.gov.kz", "expertise": [transport.pk]},
    )

    assert response.status_code == 302
    almaty_city.refresh_from_db()
    assert almaty_city.description == "Metro line 2 opens in 2027."
    assert list(almaty_city.expertise.all()) == [transport]
    assert almaty_city.profile_updated_at is not None


def test_profile_form_names_the_bad_field(officer: User, almaty_city: City) -> None:
    response = login(officer).post(f"/cities/{almaty_city.pk}/edit/", {"website": "not a url"})

    assert response.status_code == 200
    assert "Enter a valid URL." in response.content.decode()


@pytest.mark.parametrize("persona", ["partner_officer", "outsider", "coordinator", "sco_coordinator", "staff"])
def test_nobody_but_the_citys_officers_edits_its_profile(
    request: pytest.FixtureRequest, persona: str, almaty_city: City
) -> None:
    client = login(request.getfixturevalue(persona))

    assert client.get(f"/cities/{almaty_city.pk}/edit/").status_code == 403
    assert client.post(f"/cities/{almaty_city.pk}/edit/", {"description": "Hijacked"}).status_code == 403
    almaty_city.refresh_from_db()
    assert almaty_city.description == ""


def test_officer_is_refused_on_another_citys_profile(officer: User, bishkek_city: City) -> None:
    response = login(officer).get(f"/cities/{bishkek_city.pk}/edit/")

    assert response.status_code == 403
    assert "Only the officers of Bishkek" in response.content.decode()


def test_visitor_is_sent_to_login(client: Client, almaty_city: City) -> None:
    response = client.get(f"/cities/{almaty_city.pk}/edit/")

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/cities/{almaty_city.pk}/edit/"


def test_unknown_city_is_404(client: Client, db: None) -> None:
    assert client.get("/cities/999999/").status_code == 404


@pytest.mark.parametrize(
    ("language", "order"), [("ru", ["Египет", "Камбоджа", "Китай"]), ("en", ["Cambodia", "China", "Egypt"])]
)
def test_home_lists_the_countries_in_the_readers_alphabet(db: None, language: str, order: list[str]) -> None:
    # A Russian page listed Камбоджа, Китай, Египет: the English order.
    for code, name, name_ru in (("KH", "Cambodia", "Камбоджа"), ("CN", "China", "Китай"), ("EG", "Egypt", "Египет")):
        CountryFactory.create(code=code, name=name, name_ru=name_ru)
    html = Client().get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert sorted(order, key=html.index) == order


def test_home_lists_countries_with_status(client: Client, almaty_city: City) -> None:
    html = client.get("/").content.decode()

    assert "Kazakhstan" in html
    assert "Member state" in html
    assert "Almaty" in html
