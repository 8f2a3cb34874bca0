"""An officer writes a practice, a coordinator publishes it, a visitor finds it: in Russian, in Chromium."""

from __future__ import annotations

import os

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from practices.models import Practice
from tests.conftest import PASSWORD
from tests.factories import TopicFactory, days_from_today

pytestmark = pytest.mark.browser


def test_a_practice_goes_from_draft_to_search_results_in_russian(
    page: object, live_server: LiveServer, officer: User, coordinator: User, transactional_db: None
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    TopicFactory.create(slug="waste-management", name="Waste management", name_ru="Обращение с отходами")
    # Russian readers: a logged-in person's pages follow the language stored on their account.
    User.objects.filter(pk__in=[officer.pk, coordinator.pk]).update(language="ru")
    page.set_extra_http_headers({"Accept-Language": "ru"})
    year = days_from_today(0).year

    def log_in_as(username: str) -> None:
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Имя пользователя").fill(username)
        page.get_by_label("Пароль").fill(PASSWORD)
        page.get_by_role("button", name="Войти").click()

    log_in_as("officer.almaty")
    page.goto(f"{live_server.url}/practices/")
    page.get_by_role("link", name="Поделиться практикой").click()
    expect(page.get_by_role("heading", name="Поделиться практикой")).to_be_visible()
    page.locator("#id_title").fill("Раздельный сбор отходов в Алматы")
    page.locator("#id_summary").fill("Жители сортируют бытовые отходы в четыре контейнера.")
    page.get_by_label("Обращение с отходами").check()
    page.locator("#id_language").select_option("ru")
    page.locator("#id_indicators-0-indicator").fill("Доля переработанных отходов")
    page.locator("#id_indicators-0-unit").fill("%")
    page.locator("#id_indicators-0-baseline").fill("9")
    page.locator("#id_indicators-0-achieved").fill("24")
    page.locator("#id_indicators-0-year").fill(str(year - 1))
    page.get_by_role("button", name="Сохранить и отправить на модерацию").click()
    expect(page.locator(".status")).to_have_text("На модерации")

    log_in_as("coordinator.kz")
    page.get_by_role("link", name="Практики ждут вас").click()
    page.get_by_role("link", name="Раздельный сбор отходов в Алматы").click()
    page.get_by_role("button", name="Опубликовать").click()
    expect(page.locator(".status")).to_have_text("Опубликована")

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/practices/")
    # Another form of the word than the record uses: PostgreSQL stems it; SQLite matches the stem.
    page.locator("#id_q").fill("отход")
    page.get_by_role("button", name="Искать").click()
    page.get_by_role("link", name="Раздельный сбор отходов в Алматы").click()
    expect(page.get_by_role("cell", name="Доля переработанных отходов")).to_be_visible()
    expect(page.locator(".timeline li")).to_have_count(3)  # created, submitted, published

    assert Practice.objects.get().status == "published"
    page.screenshot(path=os.environ.get("SCREENSHOT_PATH_PRACTICE", "/tmp/sco-practice.png"), full_page=True)
