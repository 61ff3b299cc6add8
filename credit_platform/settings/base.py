"""Settings shared by every mode, read from environment variables with embedded defaults.

Without any environment the platform runs embedded: a SQLite file under ``var/``, Celery tasks
executed eagerly in-process, e-mail written to the console (to files under ``var/mail/`` in ``local``).
Setting ``DATABASE_URL``, ``CELERY_BROKER_URL`` and ``REDIS_URL`` moves it to PostgreSQL, real workers
and a shared cache.
See https://django-environ.readthedocs.io/en/latest/types.html for the URL forms.
"""

import datetime as dt
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("CREDIT_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "axes",
    "credit_platform",
    "customers",
    "receivables",
    "scoring",
    "alerts",
    "limits",
    "onboarding",
    "credit_platform.imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "credit_platform.middleware.RejectNulCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "credit_platform.middleware.UserLanguageMiddleware",
    "credit_platform.tenancy.TenantMiddleware",
    "credit_platform.fxgaps.FxGapMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "credit_platform.urls"
WSGI_APPLICATION = "credit_platform.wsgi.application"

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
                "credit_platform.tenancy.tenant_context",
                "credit_platform.fxgaps.fx_gaps",
            ],
        },
    },
]

# No DATABASE_URL -> an SQLite file, so that `make run` needs no server.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# PostgreSQL's JIT compiler costs 30-40 ms per statement whose estimate passes jit_above_cost, and the
# product's page reads (a few thousand open items through per-invoice index probes) are estimated that
# high while running in 20-100 ms: it made the Aging page's reads 1.3-1.5x slower. Off per session.
POSTGRES_SESSION_OPTIONS = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: a primary-key API read was measured 4.6x faster than reconnecting
    # per request (CONVENTIONS.md). Health checks drop a connection the server closed meanwhile.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", POSTGRES_SESSION_OPTIONS)
else:
    # SQLite: wait for a concurrent writer (the dev server and an eager task) instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# Hot paths that run the same statement on every call (the order credit check) have PostgreSQL plan it once
# per connection (credit_platform.sql.fetch_prepared). Set false behind a transaction-mode pooler that does
# not keep named prepared statements (PgBouncer before 1.21, or its max_prepared_statements at 0):
# https://www.pgbouncer.org/config.html#max_prepared_statements
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in brute force (login page and admin): django-axes, https://django-axes.readthedocs.io/en/latest/4_configuration.html
# AXES_FAILURE_LIMIT failed sign-ins for one username from one address lock that pair out for the cool-off;
# a success resets the count. Keyed by username AND address, so that nobody can lock a user out from
# elsewhere, and one address guessing many usernames is stopped per username. The address is REMOTE_ADDR;
# behind a reverse proxy, install django-ipware and set AXES_IPWARE_PROXY_COUNT (see the docs above) so
# that it is the client's, not the proxy's.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "credit_platform.auth.lockout_response"
# Quiet start-up: axes otherwise logs its configuration at INFO on every manage.py command.
AXES_VERBOSE = False
# API tokens: an address that sent API_TOKEN_FAILURE_LIMIT wrong tokens within API_TOKEN_FAILURE_WINDOW
# seconds is refused (429) until the window ends (credit_platform.auth). DRF's throttles run after
# authentication, so a wrong token never reaches them.
API_TOKEN_FAILURE_LIMIT = env.int("API_TOKEN_FAILURE_LIMIT", default=20)
API_TOKEN_FAILURE_WINDOW = env.int("API_TOKEN_FAILURE_WINDOW", default=15 * 60)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Amounts in lists read 1,234,567.80 rather than 1234567.80.
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Import uploads: 200 MB covers a 1M-row invoice CSV (~70 MB) with room to spare.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
# Data rows per file: 1,000,000 is the largest file the import is measured on (bench/import_invoices.py, a
# 70 MB invoice CSV); a bigger book is loaded in several files.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_000_000)
# An XLSX is a ZIP of XML: its size unpacked, not the upload's, is what reading costs. openpyxl reads about
# 2-2.6 MB of sheet XML a second here (a 50,000-row invoice sheet, 18 MB unpacked, in 9 s on a busy machine;
# the reported 0.9 MB workbook that unpacked to 228 MB, 1M rows, took 88 s). 50 MB (~140,000-200,000 invoice
# rows, 20-25 s) is the cap; larger books go as CSV, which pandas reads far faster.
IMPORT_XLSX_MAX_UNPACKED_BYTES = env.int("IMPORT_XLSX_MAX_UNPACKED_BYTES", default=50 * 1024 * 1024)
# Embedded mode (no broker, tasks run in-process): an upload above this size is imported on a background
# thread, so that the request answers at once and the import page follows the import's progress; smaller
# files (a few thousand rows, well under a second) are imported before the page answers.
IMPORT_INLINE_MAX_BYTES = env.int("IMPORT_INLINE_MAX_BYTES", default=1024 * 1024)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="credit@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "credit_platform.auth.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["credit_platform.permissions.HasCapability"],
    "DEFAULT_PARSER_CLASSES": [
        "credit_platform.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "credit_platform.pagination.IdCursorPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "credit_platform.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}

# Celery: no broker -> tasks run eagerly in this process (embedded mode); a broker URL -> workers.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_TIMEZONE = "UTC"
# The nightly and daily jobs, one dict per app (``<app>/schedule.py``); each task fans out per
# organization, in that organization's time zone where the hour matters.
from alerts.schedule import BEAT as _ALERTS_BEAT  # noqa: E402
from receivables.schedule import BEAT as _RECEIVABLES_BEAT  # noqa: E402
from scoring.schedule import BEAT as _SCORING_BEAT  # noqa: E402

CELERY_BEAT_SCHEDULE: dict[str, dict] = {**_RECEIVABLES_BEAT, **_SCORING_BEAT, **_ALERTS_BEAT}
# Seconds an import's re-score waits for further imports of the same organization (scoring/rescore.py):
# uploads of one book (customers, invoices, then payments) within this window are graded once, after the
# last, never half-loaded. 0 re-scores after each import.
SCORING_IMPORT_RESCORE_DELAY_SECONDS = env.int("SCORING_IMPORT_RESCORE_DELAY_SECONDS", default=120)
# Local hour (0-23, each organization's time zone) from which its nightly re-score is due.
SCORING_NIGHTLY_HOUR = env.int("SCORING_NIGHTLY_HOUR", default=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
