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


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_limit_increase_requested_by_the_officer_is_approved_by_two_approvers_and_seen_by_the_officer(
        live_server, browser_page, sign_in, shoot, book, member, language):
    """The four-eyes journey across roles: the credit officer drills from the customer list sorted by PD into
    the riskiest customer and requests a higher limit from its 360; a grade this poor needs two approvers,
    so a finance approver and a credit manager each approve it in the limits queue; the officer then sees
    the new limit on the customer's page."""
    from decimal import Decimal

    from credit_platform.services import membership_grant
    from limits.models import LimitRequest

    org, _users = book
    for role, name in ((Role.FINANCE_APPROVER, "approver-b"), (Role.CREDIT_MANAGER, "manager-b")):
        user = member(org, role, username=name)
        user.set_password(PASSWORD)
        user.save()
        membership_grant(organization=org, user=user, role=role, approval_limit=Decimal("10000000"))
    page = browser_page
    sign_in(page, "officer-b", language)
    page.goto(f"{live_server.url}/customers/?sort=-pd")
    first_row = page.locator("table.customers tbody tr").first
    customer = Customer.objects.get(pk=int(first_row.get_attribute("data-customer")))
    with page.expect_navigation():
        first_row.locator("td a").first.click()
    with page.expect_navigation():
        page.click("a.button[href$='#request']")
    requested = int(customer.credit_limit or 0) + 25000
    page.fill("#request input[name=requested_limit]", str(requested))
    page.fill("#request [name=reason]", "Seasonal orders confirmed by the customer's new contract.")
    shoot(page, "limit-request")
    with page.expect_navigation():
        page.click("#request button[type=submit]")
    assert page.locator(".messages li.success").count() == 1
    request = LimitRequest.objects.get(organization=org, customer=customer, status=LimitRequest.Status.PENDING)
    assert request.approvers_required == 2

    for n, approver in enumerate(("approver-b", "manager-b"), start=1):
        page.context.clear_cookies()
        sign_in(page, approver, language)
        page.goto(f"{live_server.url}/limits/")
        form = page.locator(f"form[action='/limits/requests/{request.pk}/decide/']")
        form.locator("select[name=decision]").select_option("approve")
        form.locator("input[name=comment]").fill("Contract seen.")
        shoot(page, f"approval-{n}")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert page.locator(".messages li.success").count() == 1
    request.refresh_from_db()
    customer.refresh_from_db()
    assert request.status == LimitRequest.Status.APPROVED and customer.credit_limit == requested

    page.context.clear_cookies()
    sign_in(page, "officer-b", language)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    limit_card = page.locator(".card.kpi", has_text="Credit limit" if language == "en" else "信用额度")
    assert re.sub(r"\D", "", limit_card.locator(".value").inner_text()) == str(requested)
    shoot(page, "new-limit")
