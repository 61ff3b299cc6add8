"""A new client's first day in a real browser (Debian's headless Chromium driven by Playwright): create the
organization, invite a colleague, upload the accounting export, map its columns, dry-run, import, and see
the customers graded."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from credit_platform.models import Membership, Organization
from customers.models import Customer
from scoring.models import Score
from tests.conftest import REQUIRE_SERVICES
from tests.imports.export_data import MAPPING_COLUMNS, make_export, to_csv_text

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/screenshots"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not REQUIRE_SERVICES, reason="needs Debian's chromium"),
]


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


def test_first_day_create_invite_upload_map_dry_run_import_graded(live_server, browser, tmp_path):
    get_user_model().objects.create_user("founder", email="founder@example.com", password="Founder-pw-2026")
    export = make_export(customers=8, invoices=120, seed=11)
    path = tmp_path / "AR_export_2026.csv"
    path.write_text(to_csv_text(export), encoding="utf-8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)

    # sign in: no organization yet, the page offers to create one
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "founder")
    page.fill("#id_password", "Founder-pw-2026")
    page.click("button[type=submit]")
    page.click("text=Or create a new organization")

    # create the organization
    page.fill("#id_name", "Harbour Trading Ltd")
    page.select_option("#id_base_currency", "EUR")
    page.select_option("#id_time_zone", "Europe/Berlin")
    page.select_option("#id_fiscal_year_start_month", "4")
    page.click("#organization-form button[type=submit]")
    page.wait_for_selector("text=Team of Harbour Trading Ltd")
    org = Organization.objects.get(name="Harbour Trading Ltd")

    # invite a colleague; she accepts in her own browser and sets her password
    page.fill("#invite-form #id_email", "mei@example.com")
    page.select_option("#invite-form #id_role", "credit_officer")
    page.click("#invite-form button[type=submit]")
    notice = page.locator(".messages li").first.inner_text()
    link = re.search(r"https?://\S+/onboarding/invitations/\S+/", notice).group(0)
    assert page.locator("#invitations").inner_text().count("mei@example.com") == 1
    page.screenshot(path=str(SHOTS / "onboarding_team.png"), full_page=True)
    guest = browser.new_page()
    guest.goto(link)
    guest.fill("#id_username", "mei")
    guest.fill("#id_password1", "Mei-credit-2026")
    guest.fill("#id_password2", "Mei-credit-2026")
    guest.click("#accept-form button[type=submit]")
    guest.wait_for_selector("text=Welcome to Harbour Trading Ltd")
    guest.close()
    assert Membership.objects.get(organization=org, user__username="mei").role == "credit_officer"

    # upload the export and map its columns
    page.click("nav >> text=Imports")
    page.click("#import-own-file")
    page.select_option("#id_kind", "invoice_export")
    page.set_input_files("#id_file", str(path))
    page.click("#stage-form button[type=submit]")
    page.wait_for_selector("#mapping")
    assert "dd/mm/yyyy" in page.locator("#guess").inner_text()
    assert page.locator("select[name=date_format]").input_value() == "%d/%m/%Y"
    for header, field in MAPPING_COLUMNS.items():
        page.select_option(f"select[data-header='{header}']", field)
    page.screenshot(path=str(SHOTS / "onboarding_mapping.png"), full_page=True)

    # dry run: what would be created, nothing written
    page.click("#dry-run")
    page.wait_for_selector("#breakdown")
    assert page.locator("tr[data-kind=customers] td").nth(1).inner_text() == "8"
    assert page.locator("tr[data-kind=invoices] td").nth(1).inner_text() == "120"
    assert not Customer.objects.filter(organization=org).exists()
    page.screenshot(path=str(SHOTS / "onboarding_dry_run.png"), full_page=True)

    # import for real, with the same mapping
    page.click("#import-for-real")
    page.wait_for_selector("text=Imported")
    assert Customer.objects.filter(organization=org).count() == 8

    # the customers are graded
    page.click("nav >> text=Customers")
    page.locator("table tbody tr td a").first.click()
    badge = page.wait_for_selector(".grade-badge")
    assert badge.inner_text().strip() in {str(g) for g in range(1, 11)}
    page.screenshot(path=str(SHOTS / "onboarding_graded.png"), full_page=True)
    assert Score.objects.filter(organization=org).values("customer").distinct().count() == 8
