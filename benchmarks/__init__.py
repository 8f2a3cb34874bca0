"""Scripts that print the portal's speed and memory figures (run each as `python benchmarks/<name>.py`), and
what more than one of them needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def postgresql_server(database: Mapping[str, Any]) -> Any:
    """An autocommit connection to the `postgres` database of the server `database` is on (Django's or
    django-environ's settings: HOST, PORT, USER, PASSWORD), for CREATE and DROP DATABASE, which cannot run
    inside a transaction."""
    import psycopg2

    server = psycopg2.connect(
        dbname="postgres",
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
    )
    server.autocommit = True
    return server
