"""Browser tests: Debian's headless Chromium (``apt-get install chromium fonts-wqy-microhei``) driven by the
``playwright`` Python package (pinned in the dev extra), against pytest-django's live server.

Screenshots of every step are kept under ``var/screenshots/`` (``SCREENSHOT_DIR`` moves them), so CI keeps
them as artifacts. In CI (``REQUIRE_SERVICES=1``) a missing Chromium fails the run instead of skipping."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from customers.models import Customer
from tests.conftest import REQUIRE_SERVICES

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/screenshots"))
PASSWORD = "pw-browser-123"


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if Path(CHROMIUM).exists() or REQUIRE_SERVICES:
        return
    skip = pytest.mark.skip(reason="needs Debian's chromium (apt-get install -y chromium fonts-wqy-microhei)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture
def browser_page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A page of a fresh headless Chromium. Requested after the live server, so the database is set up
    before Playwright's event loop starts in this thread (the ORM calls of the test stay sync)."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """shoot(page, "step") -> var/screenshots/<test name>/<nn>-<step>.png, numbered in order."""
    folder = SHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(page: Any, step: str) -> Path:
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def ids_above(first: int) -> None:
    """Make new customers get ids above ``first`` (an id shown as "1,001" would break links and forms)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), %s)", [first])
        else:  # SQLite: Django's AUTOINCREMENT keys continue from sqlite_sequence
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = 'customers_customer'")
            highest = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('customers_customer', %s)",
                           [max(first, highest)])


@pytest.fixture
def sign_in(live_server: Any) -> Callable[..., None]:
    """sign_in(page, username, language="en"): the language is picked with the switcher on the sign-in page,
    as a user would, and then remembered."""

    def go(page: Any, username: str, language: str = "en") -> None:
        page.goto(f"{live_server.url}/login/")
        if language != "en":
            with page.expect_navigation():
                page.select_option("select[name=language]", language)
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click(".login button[type=submit]")

    return go
