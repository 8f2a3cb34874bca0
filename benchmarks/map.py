"""Time to first draw of the full map (every city of the directory, every agreement) in headless Chromium.

Imports the real data into a throw-away SQLite file, serves it on 127.0.0.1:8222 (`PORT` to change),
opens /map/ with every request outside the portal refused, and prints the time from the start of
navigation to the moment the outlines, the partnership lines and the clustered cities are on the map
(`window.scoMapDrawnAt`, set by static/js/map.js). The first load has empty caches; the others reuse the
server's cached city list but not the browser's cache (a new context each time).

Run: .venv/bin/python benchmarks/map.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("PORT", "8222"))
RUNS = 5


def only_the_portal(route: Any, base: str, outside: list[str]) -> None:
    if route.request.url.startswith(base + "/"):
        route.continue_()
    else:
        outside.append(route.request.url)
        route.abort()


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/map.sqlite3", "DEBUG": "true"}
        manage = [sys.executable, str(ROOT / "manage.py")]
        for command in (
            ["migrate", "--noinput"],
            ["import_cities"],
            ["import_agreements", str(ROOT / "data" / "sco_twinnings.csv"), "--quiet"],
        ):
            subprocess.run([*manage, *command], env=env, check=True, capture_output=True)
        server = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{PORT}", "--noreload"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{PORT}"
        try:
            for _ in range(100):
                try:
                    # B310 asks whether the URL could be file: or another scheme: base is http://127.0.0.1.
                    urllib.request.urlopen(f"{base}/", timeout=1)  # nosec B310
                    break
                except OSError:
                    time.sleep(0.2)
            timings = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                outside: list[str] = []
                for _run in range(RUNS):
                    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                    page.route("**/*", lambda route: only_the_portal(route, base, outside))
                    page.goto(f"{base}/map/")
                    page.wait_for_selector("#map[data-drawn]", timeout=60_000)
                    timings.append(page.evaluate("window.scoMapDrawnAt"))
                    counts = page.evaluate(
                        "[document.querySelectorAll('path.line').length,"
                        " document.querySelectorAll('.marker-cluster').length]"
                    )
                    page.context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait()
    print(f"map: {counts[0]} partnership lines, {counts[1]} clusters at first view; outside requests: {len(outside)}")
    print(f"time to first draw, first load: {timings[0]:.0f} ms")
    print(f"time to first draw, next {RUNS - 1} loads: median {statistics.median(timings[1:]):.0f} ms")


if __name__ == "__main__":
    main()
