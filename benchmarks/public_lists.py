"""Latency and query count of the hot public lists on the real data (all cities, the real twinnings).

Run: .venv/bin/python benchmarks/public_lists.py   (uses a throw-away SQLite file, or DATABASE_URL)
Prints, per URL, the median and 95th-percentile time of 50 requests and the queries one request makes.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

URLS = [
    "/api/v1/cities/?page_size=100",
    "/api/v1/cities/?country=CN&ordering=-population&page_size=100",
    "/api/v1/cities/?q=алма",
    "/api/v1/agreements/?page_size=100",
    "/api/v1/agreements/?dormant=true&page_size=100",
    "/cities/?country=RU",
    "/agreements/",
]
REQUESTS = 50


def main() -> None:
    folder = tempfile.mkdtemp()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder}/benchmark.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sco_portal.settings")
    os.environ["DEBUG"] = "true"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cities.services import import_cities, load_reference_data
    from partnerships.services import import_agreements

    # As under the test runner: keep one connection, so the query log covers the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    load_reference_data()
    import_cities()
    report = import_agreements(path=Path(settings.BASE_DIR) / "data" / "sco_twinnings.csv")
    print(f"data: {connection.vendor}, {report.imported} agreements")
    client = Client()
    for url in URLS:
        reset_queries()  # the log is a bounded deque, filled by the import
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        timings = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        median, p95 = statistics.median(timings), timings[int(0.95 * len(timings)) - 1]
        print(f"{url:<60} median {median:6.1f} ms  p95 {p95:6.1f} ms  {len(queries)} queries")


if __name__ == "__main__":
    main()
