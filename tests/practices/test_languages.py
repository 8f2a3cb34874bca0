"""A practice is written in one language (its `language`); its city's officers translate its title and
summary; readers get their language where there is a translation, on every page, e-mail and the API,
and are told when they read the original."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from notifications.models import Message
from practices import services
from practices.models import Practice, PracticeTranslation
from sco_portal.errors import DomainError, NotPermittedError
from tests.conftest import login

RUSSIAN_TITLE = "Раздельный сбор отходов"


@pytest.fixture
def practice(practice_in: Callable[..., Practice]) -> Practice:
    return practice_in("published", title="Waste sorting at home", summary="Every household sorts.", language="en")


@pytest.fixture
def translated(practice: Practice, officer: User) -> Practice:
    services.save_practice_translation(
        practice=practice, language="ru", title=RUSSIAN_TITLE, summary="Каждая семья сортирует.", by=officer
    )
    return practice


def reader(language: str) -> Client:
    client = Client()
    client.cookies["django_language"] = language
    return client


def test_officer_translates_on_the_page_and_russian_readers_see_it(practice: Practice, officer: User) -> None:
    page = login(officer).get(practice.get_absolute_url()).content.decode()
    assert f"/practices/{practice.pk}/translations/ru/" in page
    assert f"/practices/{practice.pk}/translations/zh-hans/" in page
    assert f"/practices/{practice.pk}/translations/en/" not in page  # its own language

    response = login(officer).post(
        f"/practices/{practice.pk}/translations/ru/", {"title": RUSSIAN_TITLE, "summary": "Каждая семья сортирует."}
    )
    assert response.status_code == 302

    russian = reader("ru").get(practice.get_absolute_url()).content.decode()
    assert f'<h1 lang="ru">{RUSSIAN_TITLE}</h1>' in russian
    assert "Каждая семья сортирует." in russian
    assert 'id="content-language"' in russian and "Waste sorting at home" in russian  # the original, named

    english = reader("en").get(practice.get_absolute_url()).content.decode()
    assert '<h1 lang="en">Waste sorting at home</h1>' in english
    assert 'id="content-language"' not in english


def test_a_reader_without_a_translation_is_told_they_read_the_original(translated: Practice) -> None:
    chinese = reader("zh-hans").get(translated.get_absolute_url()).content.decode()
    assert '<h1 lang="en">Waste sorting at home</h1>' in chinese
    assert 'id="content-language"' in chinese and "原文" in chinese
    listing = reader("zh-hans").get("/practices/").content.decode()
    assert "Waste sorting at home" in listing and 'class="original-language"' in listing


def test_lists_city_page_and_moderation_show_the_readers_language(
    translated: Practice, practice_in: Callable[..., Practice], officer: User, coordinator: User, almaty_city: City
) -> None:
    assert RUSSIAN_TITLE in reader("ru").get("/practices/").content.decode()
    assert "Waste sorting at home" in reader("en").get("/practices/").content.decode()
    assert RUSSIAN_TITLE in reader("ru").get(almaty_city.get_absolute_url()).content.decode()

    waiting = practice_in("submitted", title="Bus lanes", language="en")
    services.save_practice_translation(practice=waiting, language="ru", title="Автобусные полосы", by=officer)
    coordinator.language = "ru"
    coordinator.save()
    assert "Автобусные полосы" in login(coordinator).get("/practices/moderation/").content.decode()


def test_the_library_search_finds_a_practice_by_its_translated_title(translated: Practice) -> None:
    found = reader("ru").get("/practices/", {"q": "сбор отходов"}).content.decode()
    assert RUSSIAN_TITLE in found
    assert "Раздельный" not in reader("ru").get("/practices/", {"q": "велодорожки"}).content.decode()
    assert [p.pk for p in Practice.objects.search("Раздельный")] == [translated.pk]
    assert [p.pk for p in Practice.objects.search("Waste")] == [translated.pk]


def test_the_published_email_is_in_the_authors_language(
    practice_in: Callable[..., Practice], officer: User, coordinator: User
) -> None:
    officer.language = "ru"
    officer.save()
    practice = practice_in("submitted", title="Waste sorting at home", language="en")
    services.save_practice_translation(practice=practice, language="ru", title=RUSSIAN_TITLE, by=officer)

    services.make_move(practice=practice, move=Practice.Move.PUBLISH, by=coordinator)

    message = Message.objects.get(event="practice_published")
    assert message.recipient == officer and message.language == "ru"
    assert RUSSIAN_TITLE in message.subject and RUSSIAN_TITLE in message.text_body


def test_api_shows_the_readers_language_by_query_or_header(translated: Practice, api_client: APIClient) -> None:
    for query, header in (({"lang": "ru"}, "en"), ({}, "ru-RU,ru;q=0.9")):
        listed = api_client.get("/api/v1/practices/", query, HTTP_ACCEPT_LANGUAGE=header).json()["results"][0]
        detail = api_client.get(f"/api/v1/practices/{translated.pk}/", query, HTTP_ACCEPT_LANGUAGE=header).json()
        for record in (listed, detail):
            assert (record["title"], record["summary"]) == (RUSSIAN_TITLE, "Каждая семья сортирует.")
            assert (record["language"], record["shown_language"], record["is_original"]) == ("en", "ru", False)
        assert detail["translations"] == ["ru"]

    english = api_client.get("/api/v1/practices/", {"lang": "en"}, HTTP_ACCEPT_LANGUAGE="ru").json()["results"][0]
    assert (english["title"], english["shown_language"], english["is_original"]) == (
        "Waste sorting at home",
        "en",
        True,
    )
    chinese = api_client.get(f"/api/v1/practices/{translated.pk}/", {"lang": "zh-hans"}).json()
    assert (chinese["title"], chinese["is_original"]) == ("Waste sorting at home", True)


def test_the_api_list_keeps_its_queries_with_translations(
    practice_in: Callable[..., Practice], officer: User, api_client: APIClient
) -> None:
    def queries(count: int) -> int:
        for n in range(count):
            record = practice_in("published", title=f"Practice {n}", language="en")
            services.save_practice_translation(practice=record, language="ru", title=f"Практика {n}", by=officer)
        with CaptureQueriesContext(connection) as captured:
            results = api_client.get("/api/v1/practices/", {"lang": "ru", "page_size": "100"}).json()["results"]
        assert all(result["title"].startswith("Практика") for result in results)
        return len(captured)

    assert queries(2) == queries(20)


def test_api_officer_adds_and_removes_a_translation(practice: Practice, officer: User) -> None:
    api = APIClient()
    api.force_authenticate(officer)
    url = f"/api/v1/practices/{practice.pk}/translations/"
    before = Practice.objects.get(pk=practice.pk).updated_at

    answer = api.post(url, {"language": "zh-hans", "title": "垃圾分类", "summary": "每户分类。"}, format="json")
    assert answer.status_code == 200 and answer.json()["translations"] == ["zh-hans"]
    assert Practice.objects.get(pk=practice.pk).updated_at > before  # mirrors fetch the new text
    assert api.post(url, {"language": "en", "title": "Again"}, format="json").status_code == 400
    assert api.post(url, {"language": "kk", "title": "Тағы"}, format="json").status_code == 400

    assert api.post(url, {"language": "zh-hans", "title": ""}, format="json").json()["translations"] == []
    assert not PracticeTranslation.objects.exists()


def test_only_the_citys_officers_translate(
    practice: Practice, partner_officer: User, neighbour_officer: User, coordinator: User, officer: User
) -> None:
    for person in (partner_officer, neighbour_officer, coordinator):
        with pytest.raises(NotPermittedError):
            services.save_practice_translation(practice=practice, language="ru", title="Нет", by=person)
        api = APIClient()
        api.force_authenticate(person)
        answer = api.post(f"/api/v1/practices/{practice.pk}/translations/", {"language": "ru", "title": "Нет"})
        assert answer.status_code in (403, 404)
        assert login(person).get(f"/practices/{practice.pk}/translations/ru/").status_code == 403
    assert login(officer).get(f"/practices/{practice.pk}/translations/xx/").status_code == 404
    assert not PracticeTranslation.objects.exists()


def test_a_chinese_practice_is_not_translated_into_chinese_and_other_languages_keep_their_name(
    practice_in: Callable[..., Practice], officer: User
) -> None:
    chinese = practice_in("published", title="垃圾分类", language="zh")
    assert chinese.original_language == "zh-hans"
    with pytest.raises(DomainError):
        services.save_practice_translation(practice=chinese, language="zh-hans", title="又一个", by=officer)
    page = login(officer).get(chinese.get_absolute_url()).content.decode()
    assert f"/practices/{chinese.pk}/translations/zh-hans/" not in page

    kazakh = practice_in("published", title="Қоқысты сұрыптау", language="kk")
    assert kazakh.original_language == "kk"
    with translation.override("en"):
        assert kazakh.in_language().is_original
    english = reader("en").get(kazakh.get_absolute_url()).content.decode()
    assert "Kazakh" in english and 'id="content-language"' in english


def test_related_practices_show_the_readers_language(
    translated: Practice, practice_in: Callable[..., Practice]
) -> None:
    neighbour = practice_in("published", title="Compost in schools", language="en")
    neighbour.topics.set(translated.topics.all())
    assert RUSSIAN_TITLE in reader("ru").get(neighbour.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("language", "code"), [("ru", "ru"), ("zh-hans", "zh"), ("en", "en")])
def test_a_new_practice_is_offered_in_its_authors_language(officer: User, language: str, code: str) -> None:
    # A walk-through in Russian found English preset, and saved a Russian text as English.
    officer.language = language
    officer.save(update_fields=["language"])
    page = login(officer).get("/practices/new/").content.decode()
    field = re.search(r'<select name="language".*?</select>', page, re.S)  # not the header's language switcher
    assert field is not None and f'<option value="{code}" selected>' in field.group()


def test_the_csv_export_says_which_language_a_title_is_shown_in_and_whether_it_is_the_original(
    translated: Practice,
) -> None:
    # A walk-through found a translated title beside language=en with nothing to say it was a translation.
    from practices import exports

    with translation.override("ru"):
        [record] = exports.records(Practice.objects.filter(pk=translated.pk), {})
        row = dict(zip(exports.CSV_COLUMNS, exports.csv_row(record), strict=True))
    assert (row["title"], row["language"], row["shown_language"], row["is_original"]) == (
        RUSSIAN_TITLE,
        "en",
        "ru",
        False,
    )
