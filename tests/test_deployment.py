"""The settings read the environment as README.md says, and docker-compose.yml has the production shape."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import yaml
from django.db import connections, transaction
from django.db.utils import ConnectionHandler

ROOT = Path(__file__).resolve().parent.parent

PRINT_SETTINGS = """
import json
from sco_portal import settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "engine": s.DATABASES["default"]["ENGINE"],
    "db_name": str(s.DATABASES["default"]["NAME"]),
    "db_options": s.DATABASES["default"].get("OPTIONS", {}),
    "broker": s.CELERY_BROKER_URL,
    "eager": s.CELERY_TASK_ALWAYS_EAGER,
    "email": s.EMAIL_BACKEND,
    "email_host": getattr(s, "EMAIL_HOST", ""),
    "secure_cookies": s.SESSION_COOKIE_SECURE,
}))
"""


def settings_under(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def read(environment: dict[str, str]) -> dict[str, Any]:
    result = settings_under(environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_environment_is_the_embedded_mode() -> None:
    embedded = read({})

    assert embedded["debug"] is True
    assert embedded["engine"] == "django.db.backends.sqlite3"
    assert embedded["db_name"].endswith("db.sqlite3")
    assert embedded["eager"] is True
    assert embedded["email"] == "django.core.mail.backends.console.EmailBackend"


def test_in_the_embedded_mode_writes_at_once_wait_for_each_other_rather_than_fail(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    """Two requests that write at once on SQLite (three "Not interested" pressed together in a walk-through: one in
    three was a 500, "database is locked"): one that began by reading, then writes after the other has written,
    waits its turn instead of failing."""
    options = read({})["db_options"]
    handler = ConnectionHandler(
        {
            alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "db.sqlite3"), "OPTIONS": options}
            for alias in ("default", "first", "second")
        }
    )
    with django_db_blocker.unblock(), handler["first"].cursor() as cursor:
        cursor.execute("CREATE TABLE note (text varchar(10))")
    first_has_read, second_wrote = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def write(alias: str, mine: threading.Event, other: threading.Event) -> None:
        connections[alias] = handler[alias]  # this thread's connection under that name
        try:
            with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("SELECT count(*) FROM note")
                mine.set()
                other.wait(timeout=2)  # the second writes while the first has read (or, locked out, waits)
                cursor.execute("INSERT INTO note VALUES (%s)", [alias])
        except BaseException as error:  # reported to the test's thread
            failures.append(error)
        finally:
            mine.set()
            connections[alias].close()

    with django_db_blocker.unblock():
        threads = [
            threading.Thread(target=write, args=("first", first_has_read, second_wrote)),
            threading.Thread(target=write, args=("second", second_wrote, first_has_read)),
        ]
        threads[0].start()
        first_has_read.wait(timeout=5)
        threads[1].start()
        for thread in threads:
            thread.join(timeout=30)
        with handler["first"].cursor() as cursor:
            cursor.execute("SELECT text FROM note ORDER BY text")
            written = [text for (text,) in cursor.fetchall()]
        handler["first"].close()
    assert not failures, failures
    assert written == ["first", "second"]


def test_a_sqlite_timeout_in_the_url_is_kept() -> None:
    options = read({"DATABASE_URL": "sqlite:////tmp/portal.sqlite3?timeout=60"})["db_options"]
    assert options["timeout"] == 60 and options["transaction_mode"] == "IMMEDIATE"


def test_environment_selects_postgresql_redis_and_smtp() -> None:
    production = read(
        {
            "DEBUG": "false",
            "SECRET_KEY": "x" * 60,
            "DATABASE_URL": "postgres://portal:secret@db:5432/portal",
            "REDIS_URL": "redis://redis:6379/0",
            "EMAIL_URL": "smtp://mailer:pw@mail.example.org:587/?tls=True",
        }
    )

    assert production["engine"] == "django.db.backends.postgresql"
    assert production["db_name"] == "portal"
    assert production["broker"] == "redis://redis:6379/0"
    assert production["eager"] is False
    assert production["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert production["email_host"] == "mail.example.org"
    assert production["secure_cookies"] is True


def test_production_without_a_secret_key_refuses_to_start() -> None:
    result = settings_under({"DEBUG": "false"})

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_compose_runs_the_production_shape() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    assert {"db", "redis", "mail", "web", "worker", "beat"} <= services.keys()
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "sco_portal", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "sco_portal", "beat"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in environment["DATABASE_URL"]
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379")
        assert environment["EMAIL_URL"].endswith("smtp://mail:1025}")
        assert environment["DEBUG"] == "false"
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for volume in ("pgdata", "redisdata", "media"):
        assert volume in compose["volumes"]


def test_compose_environment_names_only_variables_the_settings_read() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    settings_source = (ROOT / "sco_portal" / "settings.py").read_text()

    for variable in compose["services"]["web"]["environment"]:
        assert f'"{variable}"' in settings_source, f"{variable} is set in docker-compose.yml but never read"
