"""A credit officer in a real browser (Debian's headless Chromium driven by Playwright)."""

import os
from pathlib import Path

import pytest

from credit_platform.demo.generator import DemoConfig, generate
from credit_platform.demo.loader import load_portfolio
from credit_platform.roles import Role
from tests.conftest import REQUIRE_SERVICES, SUITE_TODAY
from tests.factories import OrganizationFactory

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/screenshots"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not REQUIRE_SERVICES, reason="needs Debian's chromium"),
]


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        browser.close()


def test_officer_logs_in_and_browses_customers(live_server, browser_page, member):
    org = OrganizationFactory(name="Acme Trading GmbH", slug="acme-ui")
    load_portfolio(org, generate(DemoConfig(customers=80, invoices=4000, seed=3, as_of=SUITE_TODAY)))
    member(org, Role.CREDIT_OFFICER, username="officer-ui").set_password("pw-123456")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="officer-ui")
    user.set_password("pw-123456")
    user.save()
    page = browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "officer-ui")
    page.fill("#id_password", "pw-123456")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Portfolio overview")
    assert page.locator(".kpi .value").first.inner_text().strip() == "80"
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

    page.click("nav >> text=Customers")
    page.wait_for_selector("text=80 found")
    rows = page.locator("table tbody tr")
    assert rows.count() == 50  # first page
    page.screenshot(path=str(SHOTS / "customers.png"), full_page=True)

    page.select_option("select[name=status]", "in_default")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**status=in_default**")
    statuses = page.locator("table tbody td .badge").all_inner_texts()
    assert (statuses and set(statuses) == {"In default"}) or "No customers match" in page.content()

    page.goto(f"{live_server.url}/customers/?country=CN")
    first = page.locator("table tbody tr td a").first
    name = first.inner_text()
    first.click()
    page.wait_for_selector("h1")
    assert name in page.locator("h1").inner_text()
    assert page.locator("text=Open invoices").count() == 1
    page.screenshot(path=str(SHOTS / "customer_360.png"), full_page=True)
