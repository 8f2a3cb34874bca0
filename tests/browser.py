"""Headless Chromium for the browser tests: a page that may not reach outside the portal, screenshots, axe-core.

Debian's chromium, driven by Playwright (`playwright install` is not used). Screenshots go to
`$SCREENSHOT_DIR` (CI prints where), else to pytest's temporary folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from tests.conftest import missing_service

CHROMIUM = "/usr/bin/chromium"
AXE_STATIC_PATH = "vendor/axe-core/axe.min.js"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


class OutsideRequests(list[str]):
    """The URLs a page tried to load from anywhere but the portal; each was refused."""


@contextmanager
def chromium(base_url: str) -> Iterator[Any]:
    """A browser whose pages may load from `base_url` only: any other request is aborted and recorded."""
    if not shutil.which(CHROMIUM):
        missing_service(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
            )
            try:
                yield _Browser(browser, base_url)
            finally:
                browser.close()
                # The ORM calls made while Playwright's loop ran opened their own connection (Django keys
                # connections by context): close it here, inside that context, or PostgreSQL cannot drop
                # the test database at the end.
                connections.close_all()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class _Browser:
    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url.rstrip("/")

    def page(self, *, language: str = "en", viewport: dict[str, int] | None = None) -> tuple[Any, OutsideRequests]:
        context = self.browser.new_context(viewport=viewport or DESKTOP)
        context.add_cookies([{"name": "django_language", "value": language, "url": self.base_url}])
        page = context.new_page()
        page.set_default_timeout(20_000)
        outside = OutsideRequests()

        def only_the_portal(route: Any) -> None:
            if route.request.url.startswith(self.base_url + "/"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_portal)
        return page, outside


def screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # From the portal's own static files: the Content-Security-Policy refuses an inline script.
        page.add_script_tag(url=page.evaluate("location.origin") + settings.STATIC_URL + AXE_STATIC_PATH)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} {violation['help']}"
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]
