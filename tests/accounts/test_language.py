"""A logged-in person's language choice is stored: their e-mails and their next visits follow it."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import set_language
from cities.models import City
from notifications.models import Message
from sco_portal.errors import DomainError
from tests.conftest import PASSWORD, login
from tests.factories import AgreementFactory


def switch_language(client: Client, language: str) -> None:
    """What the header's language menu does."""
    response = client.post("/i18n/setlang/", {"language": language, "next": "/cities/"})
    assert response.status_code == 302
    assert response["Location"] == "/cities/"


def test_person_who_switched_to_chinese_in_the_header_gets_the_next_email_in_chinese(
    officer: User, partner_officer: User, almaty_city: City, bishkek_city: City
) -> None:
    switch_language(login(partner_officer), "zh-hans")
    agreement = AgreementFactory.create(initiator=almaty_city, partner=bishkek_city, title="Almaty – Bishkek")
    api = APIClient()
    api.force_authenticate(officer)

    response = api.post(f"/api/v1/agreements/{agreement.pk}/propose/", {}, format="json")

    assert response.status_code == 200
    message = Message.objects.get(recipient=partner_officer)
    assert (message.event, message.language) == ("agreement_proposed", "zh-hans")
    assert message.subject == "来自阿拉木图的合作伙伴关系提议：Almaty – Bishkek"


def test_switching_language_while_logged_in_stores_it_on_the_person(partner_officer: User) -> None:
    client = login(partner_officer)

    switch_language(client, "ru")

    partner_officer.refresh_from_db()
    assert partner_officer.language == "ru"
    assert '<html lang="ru">' in client.get("/cities/").content.decode()


def test_switching_language_as_a_visitor_sets_only_the_cookie(client: Client, almaty_city: City) -> None:
    switch_language(client, "zh-hans")

    assert client.cookies["django_language"].value == "zh-hans"
    assert '<html lang="zh-hans">' in client.get("/cities/").content.decode()


def test_a_language_the_portal_does_not_speak_is_not_stored(partner_officer: User) -> None:
    partner_officer.language = "ru"
    partner_officer.save()

    switch_language(login(partner_officer), "de")

    partner_officer.refresh_from_db()
    assert partner_officer.language == "ru"


def test_the_language_switch_needs_the_csrf_token(partner_officer: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner_officer)

    response = client.post("/i18n/setlang/", {"language": "ru", "next": "/"})

    assert response.status_code == 403
    partner_officer.refresh_from_db()
    assert partner_officer.language == "en"


def test_following_a_link_to_the_switch_changes_nothing(partner_officer: User) -> None:
    response = login(partner_officer).get("/i18n/setlang/", {"language": "ru", "next": "/"})

    assert response.status_code == 302
    partner_officer.refresh_from_db()
    assert partner_officer.language == "en"


def test_logging_in_shows_the_pages_in_the_persons_stored_language(partner_officer: User) -> None:
    partner_officer.language = "zh-hans"
    partner_officer.save()
    client = Client()
    # Before logging in, this browser was set to Russian (a shared computer, say).
    switch_language(client, "ru")
    assert '<html lang="ru">' in client.get("/accounts/login/").content.decode()

    response = client.post(
        "/accounts/login/",
        {"username": partner_officer.username, "password": PASSWORD, "next": "/cities/"},
        follow=True,
    )

    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "<h1>城市</h1>" in html
    assert response["Content-Language"] == "zh-hans"


def test_a_returning_person_without_a_language_cookie_gets_their_stored_language(partner_officer: User) -> None:
    partner_officer.language = "ru"
    partner_officer.save()
    client = login(partner_officer)  # logged in earlier; the browser has no language cookie

    html = client.get("/cities/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()

    assert '<html lang="ru">' in html


def test_after_logging_out_the_pages_follow_the_browser_again(partner_officer: User) -> None:
    partner_officer.language = "ru"
    partner_officer.save()
    client = login(partner_officer)

    client.post("/accounts/logout/")

    assert '<html lang="en">' in client.get("/cities/").content.decode()


def test_header_links_a_logged_in_person_to_their_email_preferences(
    client: Client, partner_officer: User, almaty_city: City
) -> None:
    link = 'href="/notifications/preferences/"'

    assert link not in client.get("/cities/").content.decode()
    assert link in login(partner_officer).get("/cities/").content.decode()


@pytest.mark.parametrize(("language", "stored"), [("zh-hans", "zh-hans"), ("ru-RU", "ru"), ("en", "en")])
def test_set_language_stores_the_portals_language_for_a_regional_variant(
    partner_officer: User, language: str, stored: str
) -> None:
    set_language(person=partner_officer, language=language)

    partner_officer.refresh_from_db()
    assert partner_officer.language == stored


@pytest.mark.parametrize("language", ["de", "", "klingon"])
def test_set_language_refuses_a_language_the_portal_does_not_speak(partner_officer: User, language: str) -> None:
    with pytest.raises(DomainError, match="does not speak"):
        set_language(person=partner_officer, language=language)

    partner_officer.refresh_from_db()
    assert partner_officer.language == "en"
