"""The main journeys in a real browser, in English and in Chinese, with a screenshot of every step:
a credit officer finds the riskiest customer from the overview; a collector works the worklist (assigns
two customers whose ids are above 1,000, logs a call, records a promise to pay). A Chinese page shows no
English word outside the data."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from credit_platform.demo.generator import DemoConfig, generate
from credit_platform.demo.loader import load_portfolio
from credit_platform.roles import Role
from customers.models import Country, Customer, CustomerGroup, ExternalSignal, Sector
from receivables.models import (
    CallNote,
    CollectionProfile,
    DunningLevel,
    DunningPolicy,
    Invoice,
    Payment,
    PromiseToPay,
)
from scoring.models import CurrentScore
from scoring.services import score_customers, scoring_setup
from tests.conftest import SUITE_TODAY
from tests.factories import OrganizationFactory

from .conftest import PASSWORD, ids_above

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Words a Chinese page may show in Latin letters: abbreviations of the trade, file formats, the language
# switcher's own "English".
ALLOWED = {"PD", "DSO", "CEI", "ADD", "ECL", "LGD", "AUC", "PSI", "KS", "IFRS", "PDF", "CSV", "XLSX", "EBIT",
           "English", "Gini", "Brier", "Altman", "SHA", "OOT", "CV", "API", "ERP", "ISO"}


@pytest.fixture
def book(member):
    ids_above(1000)
    org = OrganizationFactory(name="Acme Trading GmbH", slug="acme-browser")
    load_portfolio(org, generate(DemoConfig(customers=40, invoices=1500, seed=7, as_of=SUITE_TODAY)))
    scoring_setup(organization=org)
    score_customers(organization=org)
    users = {}
    for role, name in ((Role.CREDIT_OFFICER, "officer-b"), (Role.COLLECTOR, "collector-b")):
        user = member(org, role, username=name)
        user.set_password(PASSWORD)
        user.save()
        users[role] = user
    return org, users


def _english_words(page, org) -> set[str]:
    """Latin words of the page's visible text that are not data (names, ids, codes, e-mails, numbers)."""
    page.evaluate("document.querySelectorAll('code, .data').forEach(e => e.remove())")  # codes and raw values
    text = page.inner_text("body")
    data = set()
    for qs, fields in ((Customer.objects.filter(organization=org), ("legal_name", "external_id", "email", "phone")),
                       (CustomerGroup.objects.filter(organization=org), ("name",)),
                       (Sector.objects.all(), ("name", "code")), (Country.objects.all(), ("name", "code")),
                       (DunningPolicy.objects.filter(organization=org), ("name",)),
                       (ExternalSignal.objects.filter(organization=org), ("title", "source")),
                       (Invoice.objects.filter(organization=org), ("number",)),
                       (Payment.objects.filter(organization=org), ("reference",)),
                       (DunningLevel.objects.filter(organization=org), ("name",)),
                       (get_user_model().objects.all(), ("username",))):
        for row in qs.values_list(*fields):
            data.update(str(v) for v in row if v)
    data.add(org.name)
    for value in sorted((v for v in data if len(v) > 2), key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    words = set(re.findall(r"(?<![\w.@/-])[A-Za-z]{2,}(?![\w@/…-])", text))  # "…": a shortened name
    words -= {w for value in data for w in re.findall(r"[A-Za-z]+", value)}  # shortened data ("Manufactur…")
    return {w for w in words if w not in ALLOWED and w.upper() not in ALLOWED and not re.fullmatch(r"[A-Z]{2,3}", w)}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_credit_officer_finds_the_riskiest_customer(live_server, browser_page, sign_in, shoot, book, language):
    org, _users = book
    page = browser_page
    sign_in(page, "officer-b", language)
    heading = "Portfolio overview" if language == "en" else "组合概览"
    page.wait_for_selector(f"h1:has-text('{heading}')")
    assert page.get_attribute("html", "lang") == ("en" if language == "en" else "zh-Hans")
    shoot(page, "overview")

    page.click("nav a[href='/customers/']")
    page.wait_for_selector("table.customers tbody tr")
    shoot(page, "customers")
    with page.expect_navigation():
        page.click("th a[href*='sort=-pd']")  # a figure sorts from the largest first
    assert "sort=-pd" in page.url
    riskiest = CurrentScore.objects.filter(organization=org).order_by("-pd", "customer_id").first()
    first_row = page.locator("table.customers tbody tr").first
    assert first_row.get_attribute("data-customer") == str(riskiest.customer_id)
    shoot(page, "sorted-by-pd")

    name = first_row.locator("td a").first.inner_text()
    with page.expect_navigation():
        first_row.locator("td a").first.click()
    assert name in page.locator("h1").inner_text()
    assert page.locator(".grade-badge").inner_text().strip() == str(riskiest.grade)
    assert page.locator(f"a[href='/receivables/collections/{riskiest.customer_id}/']").count() >= 1
    shoot(page, "customer-360")
    if language != "en":
        for label, url in (("overview", "/"), ("customers", "/customers/?sort=-pd"),
                           ("customer-360", f"/customers/{riskiest.customer_id}/")):
            page.goto(f"{live_server.url}{url}")
            assert _english_words(page, org) == set(), label


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_collector_works_the_worklist(live_server, browser_page, sign_in, shoot, book, language):
    org, users = book
    collector = users[Role.COLLECTOR]
    page = browser_page
    sign_in(page, "collector-b", language)
    page.goto(f"{live_server.url}/receivables/collections/?scope=all")
    page.wait_for_selector("table tbody tr[data-customer]")
    shoot(page, "worklist")

    ids = [int(v) for v in page.locator("tbody tr[data-customer]").evaluate_all(
        "rows => rows.map(r => r.dataset.customer)")]
    picked = [i for i in ids if i > 1000][:2]
    assert len(picked) == 2
    for customer_id in picked:
        page.check(f"input.pick[value='{customer_id}']")
    page.select_option("select[name=collector]", str(collector.pk))
    with page.expect_navigation():
        page.click(".assignbar button[type=submit]")
    assert page.locator(".messages li.success").count() == 1
    assert set(CollectionProfile.objects.filter(customer_id__in=picked).values_list("collector_id", flat=True)) == {
        collector.pk}
    shoot(page, "assigned")

    page.goto(f"{live_server.url}/receivables/collections/?scope=mine")
    mine = page.locator("tbody tr[data-customer]").evaluate_all("rows => rows.map(r => +r.dataset.customer)")
    assert set(picked) <= set(mine)
    with page.expect_navigation():
        page.click(f"tr[data-customer='{picked[0]}'] td a")
    shoot(page, "collections-file")

    page.select_option("#log-call select[name=outcome]", "reached")
    page.fill("#log-call textarea[name=note]", "Spoke to accounts payable; payment run on Friday.")
    with page.expect_navigation():
        page.click("#log-call button[type=submit]")
    assert CallNote.objects.filter(customer_id=picked[0], author=collector).count() == 1
    shoot(page, "call-logged")

    page.fill("#promise input[name=amount]", "100")
    with page.expect_navigation():
        page.click("#promise button[type=submit]")
    assert PromiseToPay.objects.filter(customer_id=picked[0]).count() == 1
    assert page.locator(".messages li").count() == 1
    shoot(page, "promise-recorded")
    if language != "en":
        assert _english_words(page, org) - {"Spoke", "to", "accounts", "payable", "payment", "run", "on",
                                            "Friday"} == set()
