"""The practices API at library scale: 100,000 published practices on PostgreSQL.

Run:  createdb sco_practices_bench
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/sco_practices_bench .venv/bin/python benchmarks/practices_api.py

Seeds the practices once (a second run reuses them) and prints:
- queries per list page at page sizes 10 and 100 (equal, at most 4 for a visitor);
- the median server time of the first page and of a page 1,000 pages deep (ratio at most 1.3);
- the median of the DRF list against a hand-written values() + JSON view on the same query (at most 1.6),
  both requested through the same middleware and URL routing;
- the median of a ranked full-text search.
"""

from __future__ import annotations

import base64
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PRACTICES = int(os.environ.get("BENCHMARK_PRACTICES", "100000"))
REQUESTS = 60
PAGE_SIZE = 10
DEEP_PAGE = 1000
BATCH = 5000
WORDS_EN = (
    "waste sorting recycling bus rapid transit metro extension traffic signals city brain e-voting water leaks "
    "district heating solar rooftops street lighting open data portal smart meters cycling lanes parks flood "
    "sensors air quality monitoring composting landfill digital services one-stop shop tram depot"
).split()
WORDS_RU = "отходы сортировка автобусы метро светофоры водопровод отопление освещение парки велодорожки".split()
WORDS_ZH = "垃圾分类 公共交通 智慧城市 城市大脑 地铁 公交 自行车 供水 节能 数字政府".split()
# Most of a text is words that few practices share, as in real texts; the topic words above are rarer.
INDICATOR_KEYS = ("indicator", "unit", "baseline", "achieved", "year")
FILLER = [f"term{number}" for number in range(5000)]


def medians_ms(*actions: Callable[[], Any]) -> list[float]:
    """The median time of each action, measured in turns, so that load from other processes on the
    machine falls on all of them alike rather than on whichever happened to run during it."""
    for action in actions:
        action()  # warm the caches as a running server would have them
    timings: list[list[float]] = [[] for _ in actions]
    for _ in range(REQUESTS):
        for action, times in zip(actions, timings, strict=True):
            started = time.perf_counter()
            action()
            times.append((time.perf_counter() - started) * 1000)
    return [statistics.median(times) for times in timings]


def seed() -> None:
    from django.db import transaction

    from cities.models import City, Country, Topic
    from practices.models import Practice, PracticeIndicator

    existing = Practice.objects.filter(status=Practice.Status.PUBLISHED).count()
    if existing >= PRACTICES:
        print(f"reusing {existing} published practices")
        return
    country, _ = Country.objects.get_or_create(code="KZ", defaults={"name": "Kazakhstan"})
    cities = [
        City.objects.get_or_create(
            geonameid=80_000_000 + number,
            defaults={
                "name": f"Bench City {number}",
                "ascii_name": f"Bench City {number}",
                "country": country,
                "population": 100_000 + number,
                "latitude": 43.0,
                "longitude": 76.0,
                "timezone": "Asia/Almaty",
            },
        )[0]
        for number in range(50)
    ]
    topics = [
        Topic.objects.get_or_create(slug=f"bench-topic-{number}", defaults={"name": f"Bench topic {number}"})[0]
        for number in range(8)
    ]
    generator = random.Random(8)
    started = time.perf_counter()
    for first in range(existing, PRACTICES, BATCH):
        with transaction.atomic():
            batch = []
            for number in range(first, min(first + BATCH, PRACTICES)):
                words = WORDS_ZH if number % 50 == 1 else WORDS_RU if number % 5 == 0 else WORDS_EN
                title = " ".join(generator.sample(words, 4)).capitalize()
                batch.append(
                    Practice(
                        city=cities[number % len(cities)],
                        title=f"{title} {number}",
                        summary=" ".join(generator.choices(words, k=2) + generator.choices(FILLER, k=25)),
                        problem=" ".join(generator.choices(words, k=2) + generator.choices(FILLER, k=35)),
                        solution=" ".join(generator.choices(words, k=3) + generator.choices(FILLER, k=50)),
                        start_year=2010 + number % 12,
                        end_year=2022 + number % 4,
                        cost=1_000_000 + number,
                        currency="KZT",
                        status=Practice.Status.PUBLISHED,
                        published_at=Practice._meta.get_field("created_at").default(),
                    )
                )
            created = Practice.objects.bulk_create(batch)
            Practice.topics.through.objects.bulk_create(
                [
                    Practice.topics.through(practice_id=practice.pk, topic_id=topics[practice.pk % len(topics)].pk)
                    for practice in created
                ]
            )
            Practice.sdgs.through.objects.bulk_create(
                [
                    Practice.sdgs.through(practice_id=practice.pk, sustainabledevelopmentgoal_id=goal)
                    for practice in created
                    for goal in (11, 1 + practice.pk % 17)
                    if goal != 11 or practice.pk % 17 != 10
                ]
            )
            PracticeIndicator.objects.bulk_create(
                [
                    PracticeIndicator(
                        practice=practice,
                        indicator=name,
                        unit="%",
                        baseline=10,
                        achieved=20 + practice.pk % 50,
                        year=2023,
                        position=position,
                    )
                    for practice in created
                    for position, name in enumerate(("Coverage", "Satisfaction"))
                ]
            )
        print(f"  seeded {min(first + BATCH, PRACTICES)} / {PRACTICES}", end="\r")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {PRACTICES - existing} practices in {time.perf_counter() - started:.0f} s")


def deep_cursor(page: int) -> str:
    """The cursor DRF would hand out after `page` pages of PAGE_SIZE: the position of the page's last row."""
    from practices.models import Practice

    last = (
        Practice.objects.filter(status=Practice.Status.PUBLISHED)
        .order_by("updated_at", "id")
        .values_list("updated_at", flat=True)[page * PAGE_SIZE - 1]
    )
    return base64.b64encode(urlencode({"p": str(last)}).encode()).decode()


def baseline_page(cursor_position: str | None = None) -> bytes:
    """The same page by hand: values() for the rows and the three relations, then json.dumps."""
    from practices.models import Practice, PracticeIndicator

    page = Practice.objects.filter(status=Practice.Status.PUBLISHED)
    if cursor_position:
        page = page.filter(updated_at__gt=cursor_position)
    rows = list(
        page.order_by("updated_at", "id").values(
            "id",
            "status",
            "title",
            "summary",
            "problem",
            "solution",
            "city_id",
            "city__name",
            "city__country__code",
            "cost",
            "currency",
            "funding",
            "start_year",
            "end_year",
            "challenges",
            "success_factors",
            "transferability",
            "contact_name",
            "contact_role",
            "contact_email",
            "language",
            "is_sample",
            "source_url",
            "published_at",
            "created_at",
            "updated_at",
        )[: PAGE_SIZE + 1]
    )
    ids = [row["id"] for row in rows[:PAGE_SIZE]]
    topics: dict[int, list[str]] = {}
    for practice_id, slug in Practice.topics.through.objects.filter(practice_id__in=ids).values_list(
        "practice_id", "topic__slug"
    ):
        topics.setdefault(practice_id, []).append(slug)
    goals: dict[int, list[int]] = {}
    for practice_id, goal in Practice.sdgs.through.objects.filter(practice_id__in=ids).values_list(
        "practice_id", "sustainabledevelopmentgoal_id"
    ):
        goals.setdefault(practice_id, []).append(goal)
    indicators: dict[int, list[dict[str, Any]]] = {}
    for practice_id, *values in PracticeIndicator.objects.filter(practice_id__in=ids).values_list(
        "practice_id", "indicator", "unit", "baseline", "achieved", "year"
    ):
        indicators.setdefault(practice_id, []).append(dict(zip(INDICATOR_KEYS, values, strict=True)))
    results = []
    for row in rows[:PAGE_SIZE]:
        record: dict[str, Any] = {key: value for key, value in row.items() if not key.startswith("city")}
        record["city"] = {"id": row["city_id"], "name": row["city__name"], "country": row["city__country__code"]}
        record["topics"] = topics.get(row["id"], [])
        record["sdgs"] = goals.get(row["id"], [])
        record["indicators"] = indicators.get(row["id"], [])
        record["url"] = f"http://testserver/practices/{row['id']}/"
        record["allowed_moves"] = []
        results.append(record)
    return json.dumps({"next": None, "previous": None, "results": results}, default=str).encode()


def baseline_view(request: Any) -> Any:
    """The baseline as a plain Django view, so both sides pay for the same middleware and routing."""
    from django.http import HttpResponse

    return HttpResponse(baseline_page(), content_type="application/json")


# This module is the URL conf during the run: the portal's URLs plus the baseline view.
urlpatterns: list[Any] = []


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (this benchmark is about PostgreSQL).")
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

    from practices.models import Practice

    # As under the test runner: keep one connection, so the query log covers the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.ALLOWED_HOSTS = ["testserver"]
    from django.urls import clear_url_caches, include, path

    urlpatterns.extend([path("bench/baseline/", baseline_view), path("", include("sco_portal.urls"))])
    settings.ROOT_URLCONF = __name__
    clear_url_caches()
    call_command("migrate", verbosity=0)
    seed()
    client = Client()
    published = Practice.objects.filter(status=Practice.Status.PUBLISHED).count()
    print(f"data: {connection.vendor}, {published} published practices")

    for size in (10, 100):
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/practices/", {"page_size": size})
        assert response.status_code == 200 and len(response.json()["results"]) == size
        print(f"queries per list page at page_size={size}: {len(queries)}")

    cursor = deep_cursor(DEEP_PAGE)
    first_query = {"page_size": str(PAGE_SIZE)}
    deep_query = {"page_size": str(PAGE_SIZE), "cursor": cursor}
    deep_page = client.get("/api/v1/practices/", deep_query)
    assert deep_page.status_code == 200 and len(deep_page.json()["results"]) == PAGE_SIZE
    first, deep = medians_ms(
        lambda: client.get("/api/v1/practices/", first_query), lambda: client.get("/api/v1/practices/", deep_query)
    )
    print(f"first page median {first:.1f} ms; page {DEEP_PAGE} median {deep:.1f} ms; ratio {deep / first:.2f}")

    assert client.get("/bench/baseline/").status_code == 200
    drf, baseline = medians_ms(
        lambda: client.get("/api/v1/practices/", first_query), lambda: client.get("/bench/baseline/")
    )
    print(f"DRF list median {drf:.1f} ms; values() + json baseline {baseline:.1f} ms; ratio {drf / baseline:.2f}")

    def ranked(text: str) -> Callable[[], Any]:
        return lambda: list(Practice.objects.published().search(text).values_list("id", flat=True)[:20])

    def library_page() -> None:
        assert client.get("/practices/", {"q": "recycling metro"}).status_code == 200

    searches = ("recycling metro", "отход", "公共交通")
    matches = {text: Practice.objects.published().search(text).count() for text in searches}
    *timings, page = medians_ms(*(ranked(text) for text in searches), library_page)
    found = ", ".join(
        f"{timing:.1f} ms for '{text}' ({matches[text]} matches)"
        for text, timing in zip(searches, timings, strict=True)
    )
    print(f"ranked search median (best 20): {found}; the library page {page:.1f} ms")


if __name__ == "__main__":
    main()
