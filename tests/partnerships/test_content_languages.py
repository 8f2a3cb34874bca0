"""An agreement is written in one language; its cities' officers translate its title and summary; readers get
their language where there is a translation, and are told when they read the original."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from partnerships.models import Agreement, AgreementTranslation
from partnerships.services import save_agreement_translation
from sco_portal.errors import DomainError, NotPermittedError
from tests.conftest import login


@pytest.fixture
def agreement(agreement_in: Callable[..., Agreement]) -> Agreement:
    return agreement_in("active", title="Clean air together", summary="Shared monitoring of the air.")


def reader(language: str) -> Client:
    client = Client()
    client.cookies["django_language"] = language
    return client


def test_partner_officer_translates_and_russian_readers_see_the_translation(
    agreement: Agreement, partner_officer: User
) -> None:
    page = login(partner_officer).get(agreement.get_absolute_url()).content.decode()
    assert f"/agreements/{agreement.pk}/translations/ru/" in page
    assert f"/agreements/{agreement.pk}/translations/en/" not in page  # the original's own language

    response = login(partner_officer).post(
        f"/agreements/{agreement.pk}/translations/ru/",
        {"title": "Чистый воздух вместе", "summary": "Общий мониторинг воздуха."},
    )
    assert response.status_code == 302

    russian = reader("ru").get(agreement.get_absolute_url()).content.decode()
    assert '<h1 lang="ru">Чистый воздух вместе</h1>' in russian
    assert "Общий мониторинг воздуха." in russian
    assert "Перевод;" in russian and "Clean air together" in russian  # says it is a translation, shows the original
    assert "Чистый воздух вместе" in reader("ru").get("/agreements/").content.decode()

    english = reader("en").get(agreement.get_absolute_url()).content.decode()
    assert '<h1 lang="en">Clean air together</h1>' in english
    assert 'id="content-language"' not in english


def test_a_reader_without_a_translation_is_told_they_read_the_original(agreement: Agreement) -> None:
    chinese = reader("zh-hans").get(agreement.get_absolute_url()).content.decode()

    assert '<h1 lang="en">Clean air together</h1>' in chinese
    assert 'id="content-language"' in chinese and "原文" in chinese


def test_api_shows_the_readers_language_by_query_or_header(agreement: Agreement, officer: User) -> None:
    save_agreement_translation(agreement=agreement, language="zh-hans", title="共同清洁空气", by=officer)
    url = f"/api/v1/agreements/{agreement.pk}/"

    by_query = APIClient().get(url, {"lang": "zh-hans"})
    by_header = APIClient().get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    untranslated = APIClient().get(url, {"lang": "ru"})

    for response in (by_query, by_header):
        body = response.json()
        assert (body["title"], body["language"], body["is_original"]) == ("共同清洁空气", "zh-hans", False)
        assert body["original_language"] == "en" and body["translations"] == ["zh-hans"]
        assert response["Content-Language"] == "zh-hans"
    body = untranslated.json()
    assert (body["title"], body["language"], body["is_original"]) == ("Clean air together", "en", True)
    listed = APIClient().get("/api/v1/agreements/", {"lang": "zh-hans"}).json()["results"]
    assert [row["title"] for row in listed] == ["共同清洁空气"]


def test_api_officer_adds_a_translation(agreement: Agreement, officer: User) -> None:
    client = APIClient()
    client.force_authenticate(officer)

    response = client.post(
        f"/api/v1/agreements/{agreement.pk}/translations/",
        {"language": "ru", "title": "Чистый воздух", "summary": ""},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["translations"] == ["ru"]


def test_only_the_two_cities_officers_translate_and_never_into_the_original_language(
    agreement: Agreement, outsider: User, coordinator: User, officer: User
) -> None:
    for person in (outsider, coordinator):
        with pytest.raises(NotPermittedError):
            save_agreement_translation(agreement=agreement, language="ru", title="x", by=person)
        assert login(person).get(f"/agreements/{agreement.pk}/translations/ru/").status_code == 403
    with pytest.raises(DomainError):
        save_agreement_translation(agreement=agreement, language="en", title="x", by=officer)
    assert not AgreementTranslation.objects.exists()


def test_an_empty_title_removes_the_translation(agreement: Agreement, officer: User) -> None:
    save_agreement_translation(agreement=agreement, language="ru", title="Чистый воздух", by=officer)
    save_agreement_translation(agreement=agreement, language="ru", title="", by=officer)

    assert not agreement.translations.exists()


def test_a_new_agreement_is_written_in_its_authors_language(officer: User, bishkek_city: object) -> None:
    officer.language = "ru"
    officer.save()

    login(officer).post(f"/agreements/new/{bishkek_city.pk}/", {"kind": "sister_city", "title": "Дружба"})  # type: ignore[attr-defined]

    assert Agreement.objects.get(title="Дружба").original_language == "ru"
