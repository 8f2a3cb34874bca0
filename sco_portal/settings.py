"""Settings for the SCO City Partnerships Portal, read from the environment.

With no environment set the portal runs in its embedded mode: DEBUG on, SQLite,
Celery tasks run in process and e-mail written to the console. Every variable is
listed in README.md.
"""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

# A secret key has a default only in DEBUG; production must set one.
SECRET_KEY = env.str("SECRET_KEY", **({"default": "insecure-dev-key-only-for-debug-mode"} if DEBUG else {}))

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "accounts",
    "cities",
    "partnerships",
    "practices",
    "notifications",
    "overview",
    "matching",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "sco_portal.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PersonLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "sco_portal.middleware.PermissionsPolicyMiddleware",
    "sco_portal.middleware.NumberOutOfRangeMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sco_portal.urls"
WSGI_APPLICATION = "sco_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "partnerships.context_processors.inbox",
                "practices.context_processors.moderation",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded mode writes from several requests at once (two tabs; a recompute run in the request): each
    # transaction takes SQLite's write lock when it begins (IMMEDIATE) and waits for it up to 20 s. Begun as a
    # reader, a transaction that then writes is refused at once ("database is locked", a 500) while another
    # writes: three "Not interested" at once failed one in three. WAL lets pages be read during a write.
    for option, value in {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }.items():
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(option, value)  # DATABASE_URL's ?timeout= wins
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked username-and-address pair before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Password guessing (django-axes): the AXES_FAILURE_LIMIT-th wrong password for one username
# from one address locks that pair for AXES_COOLOFF_MINUTES; a right password before then
# clears the count. Staff unlock in the admin ("Access attempts": delete the row).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lock ends 15 minutes after the failure that set it; more tries meanwhile do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Every failure is logged (the "axes" logger, a warning) and kept in the admin's failure log.
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# The demo accounts' password; used only when DEBUG is on.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="sco-demo-2026")

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ru", _("Russian")),
    ("zh-hans", _("Simplified Chinese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our corrections to Django's per-language formats (zh_Hans groups digits, as CLDR does).
FORMAT_MODULE_PATH = ["sco_portal.formats"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Request bodies (sco_portal/middleware.py): an upload carries one file of at most 10 MB
# (a memorandum, an attachment) and its form; any other body, JSON included, is far smaller
# (the longest text field is 5,000 characters).
REQUEST_MAX_UPLOAD_BYTES = env.int("REQUEST_MAX_UPLOAD_BYTES", default=11 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

# E-mail: the console in the embedded mode, SMTP with EMAIL_URL
# (for example smtp://user:password@mail.example.org:587/?tls=True).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SCO City Partnerships <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds an SMTP conversation may hang; well under the send task's soft time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# Links in e-mails are absolute: the address people reach the portal at.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Celery: with no broker configured, tasks run in process (eager).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# A broker that accepts the connection and then never answers (a hung Redis, a half-open
# network path) must not hold the request that publishes: every socket to it gives up after a
# few seconds, and publishing retries once. The request then answers; the message is in the
# outbox, and the sweeper enqueues it again when the broker is back.
BROKER_SOCKET_TIMEOUT = env.float("BROKER_SOCKET_TIMEOUT", default=3.0)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_SOCKET_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": BROKER_SOCKET_TIMEOUT,
    "socket_timeout": BROKER_SOCKET_TIMEOUT,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = BROKER_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = BROKER_SOCKET_TIMEOUT
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"timeout": 2 * BROKER_SOCKET_TIMEOUT}}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}

# The cache holds the API's throttle counts (django-axes keeps its own in the database).
# Redis when there is one, so every web worker counts together; else each process its own.
CACHE_URL = env.str("CACHE_URL", default=REDIS_URL)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # A Redis that accepts and never answers must not hang the request (see the broker below).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Notifications (the outbox): see notifications/services.py.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=8)
# First retry after this many seconds, then twice as long each time, up to the maximum.
NOTIFICATIONS_RETRY_DELAY = env.float("NOTIFICATIONS_RETRY_DELAY", default=60.0)
NOTIFICATIONS_RETRY_MAX_DELAY = env.float("NOTIFICATIONS_RETRY_MAX_DELAY", default=3600.0)
NOTIFICATIONS_SEND_SOFT_TIME_LIMIT = 45
NOTIFICATIONS_SEND_TIME_LIMIT = 60
NOTIFICATIONS_SWEEP_TIME_LIMIT = 120
NOTIFICATIONS_DIGEST_TIME_LIMIT = 1800
# A queued message whose task has not run this many seconds after it was due is enqueued again.
NOTIFICATIONS_REQUEUE_AFTER = env.int("NOTIFICATIONS_REQUEUE_AFTER", default=120)
# A message in flight this long has lost its worker; longer than the send task's hard time limit.
NOTIFICATIONS_STALLED_AFTER = env.int("NOTIFICATIONS_STALLED_AFTER", default=180)
# The daily digest goes out at this hour, UTC.
NOTIFICATIONS_DIGEST_HOUR = env.int("NOTIFICATIONS_DIGEST_HOUR", default=6)
# Partner matching (matching/): a changed city is recomputed this many seconds after the
# change, so that a burst of changes runs once; MATCHING_QUEUE routes its tasks (default queue if empty).
MATCHING_RECOMPUTE_COUNTDOWN = env.int("MATCHING_RECOMPUTE_COUNTDOWN", default=5)
MATCHING_QUEUE = env.str("MATCHING_QUEUE", default="")
# Cities per block of the full recompute; 0 chooses by memory (matching.scoring.block_size_for).
MATCHING_BLOCK_SIZE = env.int("MATCHING_BLOCK_SIZE", default=0)
CELERY_BEAT_SCHEDULE = {
    "notifications-sweep-outbox": {"task": "notifications.tasks.sweep_outbox", "schedule": 60.0},
    "matching-sweep-pending-recomputes": {"task": "matching.tasks.sweep_pending_recomputes", "schedule": 300.0},
    "matching-close-stale-runs": {"task": "matching.tasks.close_stale_runs", "schedule": crontab(minute=40)},
    "partnerships-expire-agreements": {
        "task": "partnerships.tasks.expire_agreements",
        "schedule": crontab(minute=15, hour=0),
    },
    "partnerships-expiry-reminders": {
        "task": "partnerships.tasks.send_agreement_reminders",
        "schedule": crontab(minute=30, hour=0),
    },
    "partnerships-dormant-reminders": {
        "task": "partnerships.tasks.remind_dormant_agreements",
        "schedule": crontab(minute=45, hour=0),
    },
    "matching-weekly-recompute": {
        "task": "matching.tasks.recompute_all",
        "schedule": crontab(minute=0, hour=2, day_of_week="sunday"),
    },
    "matching-weekly-suggestions": {
        "task": "matching.tasks.send_partner_suggestions",
        "schedule": crontab(minute=0, hour=5, day_of_week="monday"),
    },
    "notifications-daily-digests": {
        "task": "notifications.tasks.send_daily_digests",
        "schedule": crontab(minute=0, hour=NOTIFICATIONS_DIGEST_HOUR),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a refused key answers 401 with `WWW-Authenticate: Api-Key`.
        "accounts.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.authentication.APIKeyReadOnly"],
    # JSON nested too deeply is a 400 (sco_portal/parsers.py); views keep these defaults.
    "DEFAULT_PARSER_CLASSES": [
        "sco_portal.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "sco_portal.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "sco_portal.schema.AutoSchema",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "sco_portal.errors.exception_handler",
    # Who counts against which rate: sco_portal/throttling.py. Over the rate: 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "sco_portal.throttling.VisitorRateThrottle",
        "sco_portal.throttling.PersonRateThrottle",
        "sco_portal.throttling.APIKeyRateThrottle",
        "sco_portal.throttling.SearchRateThrottle",
        "sco_portal.throttling.ExportRateThrottle",
    ],
}

# Requests per client and period (s, m, h, d) under /api/; searches and exports also count
# against their own tighter rate. A machine client syncing a few thousand records in pages of
# 100 stays well inside its rate.
API_THROTTLE_RATES = {
    "visitor": env.str("API_THROTTLE_VISITOR", default="120/minute"),
    "person": env.str("API_THROTTLE_PERSON", default="300/minute"),
    "api_key": env.str("API_THROTTLE_API_KEY", default="300/minute"),
    "search": env.str("API_THROTTLE_SEARCH", default="30/minute"),
    "export": env.str("API_THROTTLE_EXPORT", default="10/minute"),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SCO City Partnerships Portal API",
    "DESCRIPTION": (
        "Public data of the SCO City Partnerships Portal: countries, cities, topics, agreements and "
        "the best-practice library. "
        "People authenticate with their session; machine clients send "
        "`Authorization: Api-Key <key>` and may only read."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Requests and responses get components of their own, so an upload is a binary file in a
    # request (the memorandum) while a response names its URL.
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from the portal's own static files, so the docs work on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for each choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "AgreementStatusEnum": "partnerships.models.Agreement.Status",
        "AgreementKindEnum": "partnerships.models.Agreement.Kind",
        "ActivityKindEnum": "partnerships.models.AgreementActivity.Kind",
        "CountryStatusEnum": "cities.models.CountryStatus.Status",
        "NameSourceEnum": "cities.models.NameSource",
        "PracticeStatusEnum": "practices.models.Practice.Status",
        "PracticeMoveEnum": "practices.models.Practice.Move",
    },
}

# Behind a TLS-terminating proxy in production; everything secure unless DEBUG.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# The preload directive only allows a submission to the browsers' list; it submits nothing.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): scripts and styles only from the portal itself; an
# inline <script> needs the request's nonce (`<script nonce="{{ CSP_NONCE }}">`), and no page
# has one today. The API docs pages loosen only what Swagger UI needs (sco_portal/api_urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features no page uses, turned off for the portal and anything it might embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=()"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
