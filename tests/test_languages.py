import pytest
from django.test import Client

from cities.models import City


@pytest.mark.parametrize(
    ("language", "heading", "city_name", "country_name"),
    [
        ("en", "Cities", "Almaty", "Kazakhstan"),
        ("ru", "Города", "Алматы", "Казахстан"),
        ("zh-hans", "城市", "阿拉木图", "哈萨克斯坦"),
    ],
)
def test_language_switch_translates_pages_and_city_names(
    client: Client, almaty_city: City, language: str, heading: str, city_name: str, country_name: str
) -> None:
    response = client.post("/i18n/setlang/", {"language": language, "next": "/cities/"})
    assert response.status_code == 302

    html = client.get("/cities/").content.decode()

    assert f'<html lang="{language}">' in html
    assert f"<h1>{heading}</h1>" in html
    assert city_name in html
    assert country_name in html


def test_city_without_a_name_in_the_readers_script_falls_back_to_its_name(client: Client, almaty_city: City) -> None:
    almaty_city.name_zh = ""
    almaty_city.save()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})

    html = client.get(f"/cities/{almaty_city.pk}/").content.decode()

    assert "<h1>Almaty</h1>" in html


def test_a_city_with_no_russian_name_shows_its_geonames_name_and_says_so(client: Client, almaty_city: City) -> None:
    from notifications.services import render_email
    from tests.factories import CityFactory, UserFactory
    from tests.notifications.stand_ins import agreement_context

    # GeoNames lists Сехор, romanised from Hindi rather than from Russian, so no source gives Sehore a Russian name.
    sehore = CityFactory.create(geonameid=1256913, name="Sehore", country=almaty_city.country)
    client.cookies["django_language"] = "ru"

    html = client.get(sehore.get_absolute_url()).content.decode()
    assert "<h1>Sehore</h1>" in html
    assert "Название приведено так, как его пишет GeoNames" in html
    assert 'id="geonames-name"' not in client.get(almaty_city.get_absolute_url()).content.decode()
    client.cookies["django_language"] = "en"
    assert 'id="geonames-name"' not in client.get(sehore.get_absolute_url()).content.decode()

    city = client.get(f"/api/v1/cities/{sehore.pk}/").json()
    assert (city["name"], city["name_ru"], city["name_ru_source"]) == ("Sehore", "", "")

    reader = UserFactory.create(username="reader", language="ru")
    email = render_email(event="agreement_proposed", recipient=reader, context=agreement_context(sehore, almaty_city))
    assert "Sehore" in email.subject + email.text and "Алматы" in email.text


def test_every_page_offers_the_three_languages(client: Client, almaty_city: City) -> None:
    for path in ("/", "/cities/", f"/cities/{almaty_city.pk}/", "/accounts/login/"):
        html = client.get(path).content.decode()
        assert all(f'value="{code}"' in html for code in ("en", "ru", "zh-hans")), path
