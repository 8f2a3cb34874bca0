"""The settings read the environment as README.md says, and docker-compose.yml has the production shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent

PRINT_SETTINGS = """
import json
from sco_portal import settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "engine": s.DATABASES["default"]["ENGINE"],
    "db_name": str(s.DATABASES["default"]["NAME"]),
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
