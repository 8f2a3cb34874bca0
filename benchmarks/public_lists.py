"""Latency and query count of the hot public lists on the real data (all cities, the real twinnings).

Run: .venv/bin/python benchmarks/public_lists.py   (uses a throw-away SQLite file, or DATABASE_URL)
Prints, per URL, the median and 95th-percentile time of 50 requests and the queries one request makes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sco_bench \
        .venv/bin/python benchmarks/public_lists.py --pad-cities 100000

pads the directory with synthetic cities up to 100,000 and prints how much slower than `/api/v1/topics/` (measured
in the same run) the first page of `/api/v1/cities/` and a name search are. It needs PostgreSQL, the database the
directory is sized for: it creates a throw-away database next to the one DATABASE_URL names (`<name>_padded_<hex>`)
and drops it at the end. Synthetic rows are marked: GeoNames ids from 1,000,000,000 (real ones are below 13 million),
made-up names, the description "Synthetic benchmark row".
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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

# The padded run: each measured URL and its baseline, a list whose cost does not grow with the directory.
BASELINE_URL = "/api/v1/topics/"
PADDED_URLS = {
    "first page": "/api/v1/cities/",
    "name search": "/api/v1/cities/?q=xian",
    "name search, Cyrillic": "/api/v1/cities/?q=алма",
    "directory page": "/cities/",
    "directory search page": "/cities/?q=xian",
}
RATIO_TARGET = 5
SYNTHETIC_GEONAMEID_FROM = 1_000_000_000
SYNTHETIC_DESCRIPTION = "Synthetic benchmark row"
# Syllables of Central Asian, Russian and Chinese place names, so that made-up names spread over many trigrams
# and a real name search finds a realistic handful of them, not none and not all.
SYLLABLES = (
    "ab ad al an ar bai bek bo chi da dong gan gor ha hai jin kan kar kent ko kul lan li ma mir na ning ob or "
    "pur qing ra san shan shi sk su ta tash tau tu ur xi yang yu zhou zhang"
).split()


def _made_up_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def pad_cities(total: int) -> int:
    """Add synthetic cities until the directory has `total`; returns how many were added."""
    from django.db import connection

    from cities.models import City, Country
    from cities.services import MEMBER_STATES

    countries = list(Country.objects.filter(code__in=MEMBER_STATES))
    missing = total - City.objects.count()
    rng = random.Random(2001)  # the year of the SCO's founding: the same rows on every run

    def rows() -> Iterator[City]:
        for number in range(missing):
            name = _made_up_name(rng)
            yield City(
                geonameid=SYNTHETIC_GEONAMEID_FROM + number,
                name=name,
                ascii_name=name,
                search_names=City.fold_names(name),
                search_keys=City.fold_keys(name),
                country=rng.choice(countries),
                # Below the directory's 15,000 floor, as a real padding with small towns would be.
                population=int(10 ** rng.uniform(3, 4.17)),
                latitude=rng.uniform(25, 55),
                longitude=rng.uniform(50, 120),
                timezone="UTC",
                description=SYNTHETIC_DESCRIPTION,
            )

    batch: list[City] = []
    for city in rows():
        batch.append(city)
        if len(batch) == 5000:
            City.objects.bulk_create(batch)
            batch.clear()
    City.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load: statistics for the planner, and the rows that GIN
        # indexes (the trigram index) keep in their pending list moved into the index proper.
        cursor.execute(f"VACUUM ANALYZE {City._meta.db_table}")
    return max(missing, 0)


@contextmanager
def throwaway_postgresql_database(url: str) -> Iterator[str]:
    """A new, empty database on the server of `url`, dropped on the way out; yields its URL."""
    import environ

    from benchmarks import postgresql_server

    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit("--pad-cities needs DATABASE_URL to name a PostgreSQL server (postgres://...).")
    name = f"{config['NAME']}_padded_{secrets.token_hex(4)}"
    server = postgresql_server(config)
    with server.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        from django.db import connections

        connections.close_all()
        with server.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.close()


def query_count(client: Any, url: str) -> int:
    """The queries one request makes (it must answer 200)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # the log is a bounded deque, filled by the import
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    return len(queries)


def timings(client: Any, urls: list[str]) -> dict[str, list[float]]:
    """REQUESTS timings in ms of each URL, taken in turns so that a busy machine slows them all alike."""
    taken: dict[str, list[float]] = {url: [] for url in urls}
    for _ in range(REQUESTS):
        for url in urls:
            started = time.perf_counter()
            client.get(url)
            taken[url].append((time.perf_counter() - started) * 1000)
    return taken


def summary(taken: list[float]) -> tuple[float, float]:
    """Median and 95th percentile."""
    ordered = sorted(taken)
    return statistics.median(ordered), ordered[int(0.95 * len(ordered)) - 1]


def run(pad_to: int | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sco_portal.settings")
    os.environ["DEBUG"] = "true"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client

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
    if pad_to is None:
        for url in URLS:
            count = query_count(client, url)
            median, p95 = summary(timings(client, [url])[url])
            print(f"{url:<60} median {median:6.1f} ms  p95 {p95:6.1f} ms  {count} queries")
        return

    started = time.perf_counter()
    added = pad_cities(pad_to)
    print(f"padded with {added} synthetic cities in {time.perf_counter() - started:.1f} s")
    urls = [BASELINE_URL, *PADDED_URLS.values()]
    queries = {url: query_count(client, url) for url in urls}
    taken = timings(client, urls)
    baseline = statistics.median(taken[BASELINE_URL])
    labels = {BASELINE_URL: "baseline", **{url: label for label, url in PADDED_URLS.items()}}
    for url in urls:
        median, p95 = summary(taken[url])
        print(
            f"{url:<40} median {median:6.1f} ms  p95 {p95:6.1f} ms  {queries[url]} queries  "
            f"{median / baseline:5.1f} × topics  ({labels[url]})"
        )
    for label in ("first page", "name search"):
        ratio = statistics.median(taken[PADDED_URLS[label]]) / baseline
        verdict = "within" if ratio <= RATIO_TARGET else "OVER"
        print(f"{label}: {ratio:.1f} × {BASELINE_URL}, {verdict} the target of {RATIO_TARGET}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--pad-cities",
        type=int,
        metavar="N",
        help="pad the directory with synthetic cities up to N, in a throw-away PostgreSQL database",
    )
    arguments = parser.parse_args()
    if arguments.pad_cities is None:
        folder = tempfile.mkdtemp()
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder}/benchmark.sqlite3")
        run(None)
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        sys.exit("--pad-cities needs DATABASE_URL=postgres://... : the padded directory is measured on PostgreSQL.")
    with throwaway_postgresql_database(url) as padded_url:
        os.environ["DATABASE_URL"] = padded_url
        run(arguments.pad_cities)


if __name__ == "__main__":
    main()
