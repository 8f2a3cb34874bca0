"""The real services of the deployment shape: in CI these must be there, and tests fail without them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import missing_service, services_required


def test_database_is_postgresql_when_services_are_required(db: None) -> None:
    if not services_required():
        pytest.skip("runs in CI against PostgreSQL (SCO_REQUIRE_SERVICES=1)")
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        assert int(cursor.fetchone()[0].split(".")[0]) >= 15


def test_celery_broker_is_reachable_redis() -> None:
    from kombu import Connection
    from kombu.exceptions import OperationalError

    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        missing_service(f"the Celery broker is {url!r}, not Redis; set REDIS_URL")
    try:
        with Connection(url, connect_timeout=3) as broker:
            broker.ensure_connection(max_retries=1)
            client = broker.default_channel.client
            assert client.ping()
    except (OSError, OperationalError) as error:
        missing_service(f"Redis at {url} does not answer: {error}")
