"""In headless Chromium, in English, Russian and Chinese: axe-core finds no serious or critical violation on the
main pages (the practice library and a practice among them),
the pages fit a 375 px phone, the language switcher and the map's filters work from the keyboard,
and the main journeys work, with screenshots of each step (in $SCREENSHOT_DIR when set)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from cities.models import City, Topic
from cities.services import load_reference_data
from partnerships.models import Agreement
from practices.models import Practice
from practices.services import save_practice_translation
from tests.browser import DESKTOP, PHONE, OutsideRequests, chromium, screenshot, serious_violations
from tests.conftest import PASSWORD
from tests.factories import AgreementFactory, PracticeFactory, UserFactory, almaty, bishkek, days_from_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "ru", "zh-hans"]


@pytest.fixture
def portal() -> dict[str, object]:
    load_reference_data()
    city, partner = almaty(), bishkek()
    agreement = AgreementFactory.create(
        initiator=city,
        partner=partner,
        title="Almaty – Bishkek",
        summary="Exchanges on public transport.",
        status=Agreement.Status.ACTIVE,
        signed_on=days_from_today(-400),
        source="https://en.wikipedia.org/wiki/List_of_twin_towns_and_sister_cities_in_Kazakhstan_and_Kyrgyzstan",
    )
    agreement.topics.set(Topic.objects.all()[:2])
    officer = UserFactory.create(username="officer.almaty", role=User.Role.OFFICER, city=city)
    practice = PracticeFactory.create(
        city=city,
        author=officer,
        status=Practice.Status.PUBLISHED,
        title="Bus rapid transit",
        summary="A dedicated lane for buses across the city.",
        language="en",
        start_year=2019,
        source_url="https://example.org/brt",
    )
    practice.topics.set(Topic.objects.all()[:2])
    practice.indicators.create(indicator="Riders a day", unit="people", baseline=1000, achieved=2500, year=2023)
    save_practice_translation(practice=practice, language="ru", title="Скоростной автобус", by=officer)
    PracticeFactory.create(city=partner, status=Practice.Status.PUBLISHED, title="Water meters", language="ru")
    return {"city": city, "partner": partner, "agreement": agreement, "officer": officer, "practice": practice}


def signed_in(
    browser: Any, person: User, base_url: str, language: str, viewport: dict[str, int]
) -> tuple[Any, OutsideRequests]:
    """A page with `person`'s session, as if they had logged in."""
    client = Client()
    client.force_login(person)
    page, outside = browser.page(language=language, viewport=viewport)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base_url,
            }
        ]
    )
    return page, outside


@pytest.mark.parametrize("language", LANGUAGES)
def test_main_pages_pass_axe_and_fit_a_phone(
    live_server: LiveServer, portal: dict[str, object], language: str, tmp_path: Path
) -> None:
    city, agreement, officer, practice = portal["city"], portal["agreement"], portal["officer"], portal["practice"]
    assert isinstance(city, City) and isinstance(agreement, Agreement) and isinstance(officer, User)
    assert isinstance(practice, Practice)
    officer.language = language
    officer.save()
    visitor_pages = [
        "/",
        "/cities/",
        city.get_absolute_url(),
        agreement.get_absolute_url(),
        "/practices/",
        practice.get_absolute_url(),
        "/map/",
        "/dashboard/",
    ]
    officer_pages = [
        "/agreements/inbox/",
        f"/agreements/{agreement.pk}/translations/{'ru' if language != 'ru' else 'en'}/",
        practice.get_absolute_url(),
        f"/practices/{practice.pk}/translations/{'zh-hans' if language != 'zh-hans' else 'ru'}/",
    ]
    problems: dict[str, list[str]] = {}

    with chromium(live_server.url) as browser:
        visitor, outside = browser.page(language=language, viewport=PHONE)
        person, person_outside = signed_in(browser, officer, live_server.url, language, PHONE)
        for page, paths in ((visitor, visitor_pages), (person, officer_pages)):
            for path in paths:
                response = page.goto(f"{live_server.url}{path}")
                assert response.status == 200, path
                if path == "/map/":
                    page.wait_for_selector("#map[data-drawn]")
                if path == city.get_absolute_url():
                    page.wait_for_selector(".partner-map[data-drawn]")
                found = serious_violations(page)
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    found.append(f"{width} px wide on a {PHONE['width']} px phone")
                if found:
                    problems[path] = found
                name = path.strip("/").replace("/", "-") or "home"
                screenshot(page, f"a11y-{language}-{PHONE['width']}-{name}", tmp_path)
        assert outside == [] and person_outside == []

    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())


def test_language_switcher_and_map_filters_work_from_the_keyboard(
    live_server: LiveServer, portal: dict[str, object], tmp_path: Path
) -> None:
    agreement = portal["agreement"]
    assert isinstance(agreement, Agreement)

    with chromium(live_server.url) as browser:
        page, _outside = browser.page(language="en", viewport=PHONE)
        page.goto(f"{live_server.url}/map/")
        page.wait_for_selector("#map[data-drawn]")
        # Tab from the page's start to the language switcher, then pick the next language with the arrow key.
        for _press in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "language-select":
                break
        assert page.evaluate("document.activeElement.id") == "language-select"
        with page.expect_navigation():
            page.keyboard.press("ArrowDown")
        assert page.evaluate("document.documentElement.lang") == "ru"
        page.wait_for_selector("#map[data-drawn]")

        assert page.locator(f"path.agreement-{agreement.pk}").count() == 1
        page.focus("#map-topic")
        page.keyboard.press("End")  # the last topic, which the agreement does not have
        assert page.evaluate("document.getElementById('map-topic').value") not in agreement.topics.values_list(
            "slug", flat=True
        )
        assert page.locator(f"path.agreement-{agreement.pk}").count() == 0
        page.keyboard.press("Home")
        assert page.locator(f"path.agreement-{agreement.pk}").count() == 1
        page.focus("input[name=status][value=active]")
        page.keyboard.press("Space")
        assert not page.is_checked("input[name=status][value=active]")
        screenshot(page, "keyboard-map-ru-375", tmp_path)


@pytest.mark.parametrize(
    ("language", "search", "propose", "propose_now", "title"),
    [
        ("en", "Bishkek", "Propose a partnership", "Propose now", "Clean air"),
        ("ru", "Бишкек", "Предложить партнёрство", None, "Чистый воздух"),
        ("zh-hans", "比什凯克", "提议建立伙伴关系", None, "清洁空气"),
    ],
)
def test_officer_finds_a_city_proposes_a_partnership_and_translates_it(
    live_server: LiveServer,
    portal: dict[str, object],
    language: str,
    search: str,
    propose: str,
    propose_now: str | None,
    title: str,
    tmp_path: Path,
) -> None:
    """The main journey in each language: log in, find a city by its name in that language, propose, translate."""
    from playwright.sync_api import expect

    partner, officer = portal["partner"], portal["officer"]
    assert isinstance(partner, City) and isinstance(officer, User)
    officer.language = language  # the language they chose before: it follows them when they log in
    officer.save()
    Agreement.objects.all().delete()  # the pair is free to propose
    shots = f"journey-{language}"

    with chromium(live_server.url) as browser:
        for viewport in (PHONE, DESKTOP):
            page, outside = browser.page(language=language, viewport=viewport)
            page.goto(f"{live_server.url}/accounts/login/")
            page.locator("#id_username").fill("officer.almaty")
            page.locator("#id_password").fill(PASSWORD)
            with page.expect_navigation():
                page.locator("#id_password").press("Enter")
            assert page.evaluate("document.documentElement.lang") == language
            screenshot(page, f"{shots}-{viewport['width']}-1-home", tmp_path)

            page.locator("#home-q").fill(search)
            page.locator("#home-q").press("Enter")
            page.get_by_role("link", name=search).first.click()  # the name in the reader's language
            expect(page.locator("h1")).to_have_text(search)  # the city's name in the reader's language
            if page.locator(".partner-map").count():
                page.wait_for_selector(".partner-map[data-drawn]")
            screenshot(page, f"{shots}-{viewport['width']}-2-city", tmp_path)
            if viewport is DESKTOP:
                break  # the phone walk proposed already; the desktop one shows the pages only
            page.get_by_role("link", name=propose).click()
            page.locator("#id_title").fill(title)
            screenshot(page, f"{shots}-{viewport['width']}-3-proposal", tmp_path)
            page.locator("button[name=propose]").click()
            expect(page.locator("h1")).to_have_text(title)
            agreement = Agreement.objects.get(title=title)
            assert agreement.status == Agreement.Status.PROPOSED
            assert agreement.original_language == language
            screenshot(page, f"{shots}-{viewport['width']}-4-agreement", tmp_path)

            other = "en" if language != "en" else "ru"
            page.locator(f"a[href$='/translations/{other}/']").click()
            page.locator("#id_title").fill("Translated title")
            page.locator("form.stacked button[type=submit]").click()
            expect(page.locator("p.message")).to_be_visible()  # back on the agreement, saved
            assert agreement.translations.get().title == "Translated title"
            screenshot(page, f"{shots}-{viewport['width']}-5-translated", tmp_path)
            assert outside == []
        page, _outside = browser.page(language=language, viewport=DESKTOP)
        page.goto(f"{live_server.url}/dashboard/")
        screenshot(page, f"{shots}-{DESKTOP['width']}-6-dashboard", tmp_path)
