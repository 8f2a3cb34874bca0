"""A person follows the link at the foot of an e-mail and changes their choices, on a phone, in Russian."""

from __future__ import annotations

import os
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from cities import events as city_events
from notifications.models import Preference
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_person_switches_to_the_daily_digest_on_a_phone_in_russian(
    phone: Any, live_server: LiveServer, officer: User, transactional_db: None
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(phone, Page)
    officer.language = "ru"
    officer.save()

    phone.goto(f"{live_server.url}/notifications/preferences/")  # the link in every e-mail
    phone.get_by_label("Username").fill("officer.almaty")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.locator("#language-select").select_option("ru")

    expect(phone.get_by_role("heading", name="Настройки писем")).to_be_visible()
    phone.get_by_label("Одна ежедневная сводка").check()
    suggestions = phone.get_by_label("Новые предложения партнёров для вашего города")
    suggestions.scroll_into_view_if_needed()
    suggestions.uncheck()
    phone.get_by_role("button", name="Сохранить настройки").click()

    expect(phone.get_by_text("Настройки писем сохранены.")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    preference = Preference.objects.get(user=officer)
    assert preference.delivery == Preference.Delivery.DAILY_DIGEST
    assert preference.muted_events == [city_events.PARTNER_SUGGESTIONS]
    phone.screenshot(path=os.environ.get("SCREENSHOT_PATH", "/tmp/sco-email-preferences.png"), full_page=True)
