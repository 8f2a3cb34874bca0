"""Test settings: the environment's database (SQLite by default), fast hashing."""

import uuid

from sco_portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SECURE_SSL_REDIRECT = False
# Static files come from the finders in tests; nothing is collected.
STATIC_ROOT = None  # type: ignore[assignment]
# Each test process publishes to its own queue, so tests that run a real Celery worker
# on the shared Redis never take each other's tasks (see tests/notifications/conftest.py).
CELERY_TASK_DEFAULT_QUEUE = f"sco-portal-test-{uuid.uuid4().hex[:12]}"
# Each test process counts throttles in its own memory (CI's Redis would share them between
# processes), and conftest empties it before every test. The rates are high, so that only the
# tests about throttling (which set their own) ever meet them.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
API_THROTTLE_RATES = {scope: "100000/minute" for scope in API_THROTTLE_RATES}  # noqa: F405
# django-axes reports every login (force_login included) at INFO; tests keep its warnings only.
LOGGING["loggers"] = {"axes": {"level": "WARNING"}}  # noqa: F405
