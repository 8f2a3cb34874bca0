"""A button pressed after the session ended: the login leads back to the page the button was on, not to the
address of its action, which answers POST only (Chromium showed "HTTP ERROR 405" there, found in a browser
walk-through)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from cities.models import City
from tests.conftest import PASSWORD

# Every form action behind a login; a visitor is sent to log in before any object is looked up, so any ids do.
ACTIONS = [
    reverse("matching:dismiss", args=[1, 2]),
    reverse("matching:undo", args=[1, 2]),
    reverse("matching:stop", args=[1]),
    reverse("partnerships:activity", args=[1]),
    reverse("practices:move", args=[1, "approve"]),
    reverse("practices:export_start"),
    reverse("notifications:retry"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("action", ACTIONS)
def test_a_visitor_pressing_a_button_logs_in_and_comes_back_to_the_page_the_button_was_on(action: str) -> None:
    response = Client().post(action, HTTP_REFERER="http://testserver/cities/7/?same_country=1")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/cities/7/%3Fsame_country%3D1"


@pytest.mark.django_db
def test_after_the_login_the_officer_is_on_the_city_page_again(almaty_city: City, officer: User) -> None:
    client = Client()
    page = almaty_city.get_absolute_url() + "?same_country=1"
    action = reverse("matching:dismiss", args=[almaty_city.pk, almaty_city.pk])
    login = client.post(action, HTTP_REFERER=f"http://testserver{page}")["Location"]
    response = client.post(login, {"username": officer.username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1] == (page, 302)
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("referer", ["", "https://elsewhere.example/cities/7/", "//elsewhere.example/cities/7/"])
def test_without_a_referer_of_this_site_the_login_leads_home(referer: str) -> None:
    response = Client().post(reverse("matching:dismiss", args=[1, 2]), HTTP_REFERER=referer)
    assert response["Location"] == reverse("login") + "?next=" + reverse("home")


@pytest.mark.django_db
def test_a_signed_in_person_still_cannot_act_by_get(officer: User) -> None:
    client = Client()
    client.force_login(officer)
    assert client.get(reverse("matching:dismiss", args=[1, 2])).status_code == 405
