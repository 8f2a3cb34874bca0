"""The full recompute on real Celery workers: two workers write the same rows as one.

Needs PostgreSQL (the workers share the test database) and Redis; with
SCO_REQUIRE_SERVICES=1 (CI) a missing one fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings

from matching import services
from matching.models import RecomputeRun, Suggestion
from sco_portal.celery import app as celery_app
from tests.factories import AgreementFactory, CityFactory, CountryFactory
from tests.notifications.conftest import WAIT, Worker, database_url, purge_queue, redis_url, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

CODES = ["BY", "CN", "KZ", "KG", "RU", "UZ"]


@pytest.fixture
def queue() -> str:
    """A queue of this test's own, in the matching- namespace."""
    return f"matching-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def start_matching_worker(queue: str, settings: Any) -> Iterator[Callable[[], Worker]]:
    url = redis_url()
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("PYTEST", "DJANGO"))},
        "DJANGO_SETTINGS_MODULE": "sco_portal.settings",
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": url,
        "CELERY_RESULT_BACKEND": url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "MATCHING_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
    }
    settings.MATCHING_QUEUE = queue
    settings.MATCHING_BLOCK_SIZE = 7
    celery_app.conf.task_always_eager = False
    workers: list[Worker] = []

    def start() -> Worker:
        worker = Worker(environment, queue)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    celery_app.conf.task_always_eager = True
    for worker in workers:
        worker.stop()
    purge_queue(queue)


def make_cities() -> None:
    countries = [CountryFactory.create(code=code) for code in CODES]
    cities = [
        CityFactory.create(
            country=countries[number % len(countries)],
            population=20_000 + 7_919 * number**2,
            latitude=35 + (number * 37) % 25,
            longitude=30 + (number * 53) % 90,
        )
        for number in range(60)
    ]
    for number in range(0, 58, 3):
        AgreementFactory.create(initiator=cities[number], partner=cities[number + 2], status="active", source="test")


def full_recompute_rows() -> list[tuple[Any, ...]]:
    run = services.start_full_recompute()
    wait_until(
        lambda: RecomputeRun.objects.get(pk=run.pk).status == RecomputeRun.Status.DONE,
        timeout=WAIT,
        what="the full recompute",
    )
    assert RecomputeRun.objects.get(pk=run.pk).block_count > 1
    return list(
        Suggestion.objects.order_by("city_id", "rank").values_list(
            "city_id", "rank", "candidate_id", "score", "components"
        )
    )


def test_a_full_recompute_on_two_workers_writes_the_same_rows_as_on_one(
    start_matching_worker: Callable[[], Worker],
) -> None:
    assert str(settings.CELERY_BROKER_URL).startswith("redis://") or redis_url()
    make_cities()
    first = start_matching_worker()
    with_one = full_recompute_rows()
    assert with_one
    start_matching_worker()
    Suggestion.objects.all().delete()
    with_two = full_recompute_rows()
    assert with_two == with_one
    assert first.process.poll() is None
