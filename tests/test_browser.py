"""A person's walk through the portal in headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import datetime
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from cities.models import City
from tests.conftest import PASSWORD, missing_service
from tests.factories import TopicFactory, days_from_today, pdf_document

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server: LiveServer) -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        missing_service(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the Django ORM calls
    # made by the test itself are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        # The ORM calls made while Playwright's loop ran opened their own connection
        # (Django keys connections by context); close it, or PostgreSQL cannot drop the test database.
        connections.close_all()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def test_officer_walks_from_home_to_editing_their_city_profile(
    page: object, live_server: LiveServer, officer: User, almaty_city: City, bishkek_city: City, transactional_db: None
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    TopicFactory.create(name="Waste management", slug="waste-management")

    page.goto(live_server.url)
    expect(page.get_by_role("heading", name="SCO City Partnerships Portal")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cities").click()
    expect(page.get_by_role("heading", name="Cities")).to_be_visible()
    page.get_by_label("Name (any script)").fill("Алматы")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Bishkek")).to_have_count(0)

    page.get_by_role("link", name="Almaty").click()
    expect(page.get_by_role("heading", name="Almaty")).to_be_visible()
    expect(page.get_by_role("link", name="Edit profile")).to_have_count(0)

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("officer.almaty")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Almaty")).to_be_visible()
    page.get_by_role("link", name="Edit profile").click()
    page.get_by_label("Description").fill("Almaty recycles 30% of its household waste.")
    page.get_by_label("Waste management").first.check()
    page.get_by_role("button", name="Save profile").click()

    expect(page.get_by_text("The profile of Almaty is saved.")).to_be_visible()
    expect(page.get_by_text("Almaty recycles 30% of its household waste.")).to_be_visible()
    almaty_city.refresh_from_db()
    assert almaty_city.description == "Almaty recycles 30% of its household waste."
    assert list(almaty_city.needs.values_list("slug", flat=True)) == ["waste-management"]
    page.screenshot(path=os.environ.get("SCREENSHOT_PATH", "/tmp/sco-city-profile.png"), full_page=True)


def test_partnership_walks_from_proposal_through_two_approvals_to_signing(
    page: object,
    live_server: LiveServer,
    officer: User,
    partner_officer: User,
    coordinator: User,
    partner_coordinator: User,
    bishkek_city: City,
    transactional_db: None,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import Page, expect

    from partnerships.models import Agreement

    assert isinstance(page, Page)
    memorandum = tmp_path / "memorandum.pdf"
    memorandum.write_bytes(pdf_document())

    def log_in_as(username: str) -> None:
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

    def open_inbox_item() -> None:
        page.get_by_role("link", name="Inbox").click()
        page.get_by_role("link", name="Almaty – Bishkek: public transport").click()

    log_in_as("officer.almaty")
    page.goto(f"{live_server.url}/cities/{bishkek_city.pk}/")
    page.get_by_role("link", name="Propose a partnership").click()
    page.get_by_label("Title").fill("Almaty – Bishkek: public transport")
    page.get_by_role("button", name="Propose now").click()
    expect(page.locator(".status")).to_have_text("Proposed")

    log_in_as("officer.bishkek")
    expect(page.locator(".count")).to_have_text("1")
    open_inbox_item()
    page.get_by_role("button", name="Accept the proposal").click()
    expect(page.locator(".status")).to_have_text("Under review")

    for coordinator_name in ("coordinator.kz", "coordinator.kg"):
        log_in_as(coordinator_name)
        open_inbox_item()
        page.get_by_role("button", name="Approve").click()
    expect(page.locator(".status")).to_have_text("Approved")

    log_in_as("officer.almaty")
    open_inbox_item()
    signed_on = days_from_today(-7)
    page.get_by_label("Signed on").fill(signed_on.isoformat())
    page.get_by_label("Signed memorandum (PDF)").set_input_files(str(memorandum))
    page.get_by_role("button", name="Record the signing").click()
    expect(page.locator(".status")).to_have_text("Active")
    expect(page.get_by_role("link", name="memorandum (PDF)")).to_be_visible()
    expect(page.locator(".timeline li")).to_have_count(6)  # created, proposed, accepted, two approvals, signed

    agreement = Agreement.objects.get()
    assert (agreement.status, agreement.signed_on) == ("active", signed_on)
    page.screenshot(path=os.environ.get("SCREENSHOT_PATH_AGREEMENT", "/tmp/sco-agreement.png"), full_page=True)


def test_signed_memorandum_is_downloaded_by_the_other_city_and_then_by_a_visitor(
    page: object,
    live_server: LiveServer,
    officer: User,
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
    transactional_db: None,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import Page, expect

    from tests.factories import AgreementFactory

    assert isinstance(page, Page)
    agreement = AgreementFactory.create(
        initiator=almaty_city, partner=bishkek_city, status="approved", title="Almaty – Bishkek: water"
    )
    agreement_url = f"{live_server.url}/agreements/{agreement.pk}/"
    memorandum_url = f"{agreement_url}memorandum/"
    memorandum = tmp_path / "Signed memorandum.pdf"
    memorandum.write_bytes(pdf_document(pages=3))
    web_page = tmp_path / "memorandum.pdf"
    web_page.write_text("<!DOCTYPE html><html><body><script>alert('signed')</script></body></html>")
    signed_on = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()

    def log_in_as(username: str) -> None:
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()

    def sign_with(file: Path) -> None:
        page.get_by_label("Signed on").fill(signed_on)
        page.get_by_label("Signed memorandum (PDF)").set_input_files(str(file))
        page.get_by_role("button", name="Record the signing").click()

    def download_memorandum() -> bytes:
        with page.expect_download() as download_info:
            page.get_by_role("link", name="memorandum (PDF)").click()
        download = download_info.value
        assert download.suggested_filename == f"agreement-{agreement.pk}-memorandum.pdf"
        return Path(download.path()).read_bytes()

    # Under approval, the memorandum address is no one's business but the parties'.
    assert page.request.get(memorandum_url).status == 404

    log_in_as("officer.almaty")
    page.goto(agreement_url)
    sign_with(web_page)
    # Refused in place, under the field (the form comes back with what was typed, a 400).
    expect(page.locator(".field.has-error .error")).to_have_text("The file must be a PDF file.")
    expect(page.locator(".status")).to_have_text("Approved")

    sign_with(memorandum)
    expect(page.locator(".status")).to_have_text("Active")

    log_in_as("officer.bishkek")
    page.goto(agreement_url)
    assert download_memorandum() == memorandum.read_bytes()

    page.context.clear_cookies()
    page.goto(agreement_url)
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert download_memorandum() == memorandum.read_bytes()
    response = page.request.get(memorandum_url)
    assert (response.status, response.headers["content-type"]) == (200, "application/pdf")
    assert response.headers["content-disposition"] == f'attachment; filename="agreement-{agreement.pk}-memorandum.pdf"'
    assert response.headers["x-content-type-options"] == "nosniff"
