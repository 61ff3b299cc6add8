"""Shared fixtures. In CI (REQUIRE_SERVICES=1) the suite refuses to run without PostgreSQL and Redis,
so that tests marked ``postgres`` or ``redis`` never silently skip there."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import translation

from credit_platform.roles import Role
from credit_platform.services import membership_grant

from .factories import OrganizationFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"

# Celery reads these two from the environment before its configuration (celery.app.utils.Settings), so on
# a production-like shell every app of the suite, the real-worker one included, would talk to that broker.
# Unit tests run eagerly and the worker tests use their own Redis database: the shell's values must not
# leak in.
for _name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
    os.environ.pop(_name, None)

# The instant the whole suite runs at, whatever the day it is run on: every page, service and task that
# takes "today" from an organization's clock (``Organization.local_date``) sees 2026-11-29 (10:00 UTC,
# the same date in Berlin, Shanghai and New York). Tests about other instants (month ends, 29 February,
# late evening in UTC-5) travel there themselves (``tests/test_business_dates.py``); the clock ticks, so
# timeouts and durations still work.
SUITE_NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
SUITE_TODAY = SUITE_NOW.date()


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues() -> None:
    """The pages are read in Chinese too: compile the catalogues the way ``make run`` does (no gettext)."""
    from credit_platform.catalogs import catalogue_paths, compile_catalogue

    for po in catalogue_paths():
        compile_catalogue(po)


@pytest.fixture(scope="session", autouse=True)
def _suite_clock() -> Iterator[None]:
    """Session-scoped so that module fixtures (the demo portfolio) run at the same instant too."""
    with time_machine.travel(SUITE_NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    """A request in Chinese leaves Chinese active in the test's thread (the locale middleware activates a
    language and nothing deactivates it), and a later test of the same process would read its messages in
    Chinese: every test ends in the site's language."""
    yield
    translation.deactivate()


def redis_url() -> str:
    """One Redis database per xdist worker (sentry's testutils idea): gw0 -> db 10, gw1 -> db 11...
    ``TEST_REDIS_DB`` moves the first index, so that two checkouts can run their suites side by side."""
    base = os.environ.get("REDIS_URL", "")
    if not base:
        return ""
    first = int(os.environ.get("TEST_REDIS_DB", "10"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = first + int(worker[2:] or 0) if worker.startswith("gw") else first
    return base.rsplit("/", 1)[0] + f"/{index}"


@pytest.fixture
def worker_app() -> Any:
    """A Celery app configured like production (settings CELERY_*), with Redis as broker and result
    backend (this xdist worker's own Redis database), and a worker thread consuming from it.

    The queue is purged first (a message left by an interrupted run would be consumed here), and the
    process's current and default Celery app are restored afterwards: the test worker makes its app current
    (this thread) and default (every other thread), and shared tasks called later by other tests, or by
    their threads (background imports, debounced re-scores), would otherwise go to its closed broker pool
    instead of running eagerly."""
    from celery import Celery, current_app
    from celery.contrib.testing.worker import start_worker

    url = redis_url()
    previous = current_app._get_current_object()
    app = Celery("credit_platform_test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    app.control.purge()
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"):
            yield app
    finally:
        previous.set_current()
        previous.set_default()


def pytest_sessionstart(session: pytest.Session) -> None:
    if not REQUIRE_SERVICES:
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.postgresql":
        pytest.exit(f"REQUIRE_SERVICES=1 but the database is {engine}; set DATABASE_URL=postgres://...", 2)
    import redis

    url = redis_url()
    if not url:
        pytest.exit("REQUIRE_SERVICES=1 but REDIS_URL is not set", 2)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.exit(f"REQUIRE_SERVICES=1 but Redis at {url} is unreachable: {exc}", 2)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    on_pg = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    for item in items:
        if "postgres" in item.keywords and not on_pg and not REQUIRE_SERVICES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not redis_url() and not REQUIRE_SERVICES:
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))


@pytest.fixture
def org(db: Any) -> Any:
    return OrganizationFactory(name="Acme", slug="acme")


@pytest.fixture
def other_org(db: Any) -> Any:
    return OrganizationFactory(name="Globex", slug="globex")


@pytest.fixture
def member(db: Any) -> Callable[..., Any]:
    """member(org, role) -> a user with that role in that organization."""

    def make(organization: Any, role: str = Role.CREDIT_OFFICER, **user_kwargs: Any) -> Any:
        user = UserFactory(**user_kwargs)
        membership_grant(organization=organization, user=user, role=role)
        user.refresh_from_db()
        return user

    return make


@pytest.fixture
def officer_client(client: Any, org: Any, member: Callable[..., Any]) -> Any:
    client.force_login(member(org, Role.CREDIT_OFFICER))
    return client


@pytest.fixture
def admin_client_for(client: Any, member: Callable[..., Any]) -> Callable[[Any], Any]:
    def make(organization: Any, role: str = Role.ADMIN) -> Any:
        client.force_login(member(organization, role))
        return client

    return make


def is_postgres() -> bool:
    return connection.vendor == "postgresql"

