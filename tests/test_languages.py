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


def test_every_page_offers_the_three_languages(client: Client, almaty_city: City) -> None:
    for path in ("/", "/cities/", f"/cities/{almaty_city.pk}/", "/accounts/login/"):
        html = client.get(path).content.decode()
        assert all(f'value="{code}"' in html for code in ("en", "ru", "zh-hans")), path
