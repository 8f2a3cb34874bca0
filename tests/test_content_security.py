"""Every page carries a Content-Security-Policy that runs no inline script, and the pages still
work under it in Chromium: no violation in the console."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from cities.models import City
from practices.models import Practice
from tests.conftest import PASSWORD, login, missing_service
from tests.factories import PracticeFactory

CHROMIUM = "/usr/bin/chromium"


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.fixture
def production(settings: Any) -> None:
    settings.DEBUG = False


@pytest.fixture
def published_practice(almaty_city: City, officer: User) -> Practice:
    return PracticeFactory.create(
        city=almaty_city, author=officer, status=Practice.Status.PUBLISHED, title="Separate collection of waste"
    )


@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/api/v1/docs/", "/cities/", "/practices/", "PRACTICE", "/map/", "/dashboard/"]
)
def test_production_pages_carry_a_policy_without_inline_scripts(
    production: None, published_practice: Practice, path: str
) -> None:
    if path == "PRACTICE":
        path = f"/practices/{published_practice.pk}/"
    response = Client().get(path)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "camera=()" in response["Permissions-Policy"]
    # The headers that were there before stay.
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.content.decode()


def test_only_the_docs_pages_allow_inline_styles(production: None, officer: User) -> None:
    docs = directives(Client().get("/api/v1/docs/")["Content-Security-Policy"])
    page = directives(login(officer).get("/cities/").headers["Content-Security-Policy"])
    assert "'unsafe-inline'" in docs["style-src"]
    assert "'unsafe-inline'" not in page["style-src"]


def test_the_docs_script_is_a_file_of_its_own(production: None, db: None) -> None:
    response = Client().get("/api/v1/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


@pytest.fixture
def chromium(live_server: LiveServer) -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        missing_service(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()
        connections.close_all()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.mark.browser
def test_home_a_form_page_a_practice_the_map_and_the_api_docs_work_in_chromium_without_a_violation(
    chromium: Any, live_server: LiveServer, production: None, officer: User, transactional_db: None
) -> None:
    practice = PracticeFactory.create(
        city=officer.city, author=officer, status=Practice.Status.PUBLISHED, title="Separate collection of waste"
    )
    from playwright.sync_api import expect

    page = chromium.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))

    page.goto(live_server.url)
    expect(page.get_by_role("heading", name="SCO City Partnerships Portal")).to_be_visible()
    # The language switch now works from the portal's script file, not an inline handler.
    page.get_by_label("Language").select_option("ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.get_by_label("Язык").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(officer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out"))).to_be_visible()

    page.goto(f"{live_server.url}/practices/{practice.pk}/")
    expect(page.get_by_role("heading", name="Separate collection of waste")).to_be_visible()

    # The map draws from its own script and a vendored Leaflet, with the data as a JSON block.
    page.goto(f"{live_server.url}/map/")
    expect(page.locator(".leaflet-container")).to_be_visible()

    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("SCO City Partnerships Portal API")
    expect(page.get_by_text("/api/v1/agreements/", exact=True).first).to_be_visible()

    violations = [line for line in console if "Content Security Policy" in line or "pageerror" in line]
    assert violations == []
