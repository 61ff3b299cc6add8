"""Test mode: SQLite by default, PostgreSQL when DATABASE_URL is set (CI sets it and REQUIRE_SERVICES)."""

import os

from .base import *  # noqa: F403
from .base import CACHES, DATABASES

SECRET_KEY = "test-only-key-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run Celery eagerly with errors propagated; tests about Celery start a real worker on their own
# Redis database (tests/conftest.py). The environment's broker is deliberately ignored: a shell with
# CELERY_BROKER_URL set (as a production-like one has) must run the same suite.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
# Unit tests see an import's re-score right after it (no timer threads outliving a test); the tests about
# waiting for the batch set a delay themselves (tests/scoring/test_rescore_after_imports.py).
SCORING_IMPORT_RESCORE_DELAY_SECONDS = 0
# Request threads of the live server (browser tests) must not keep connections open past a request,
# or the test database cannot be dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0
if "LOCATION" not in CACHES["default"]:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # A shared Redis: counters kept in the cache (failed API tokens per address) must not leak between test
    # processes (xdist workers, other checkouts' runs) that all come from 127.0.0.1.
    CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
