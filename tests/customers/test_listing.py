"""The customer list finds the risk: sorted by PD, filtered by grade and the rest, exported with the
filters applied; the main pages cost the same number of queries whatever the size of the book."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from credit_platform.exports import safe_cell
from credit_platform.roles import Role
from receivables.models import Allocation
from scoring.models import CurrentScore
from scoring.services import score_customers, scoring_setup
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory, StatementFactory

pytestmark = pytest.mark.django_db


def make_book(org, n: int, start: int = 0):
    customers = []
    for i in range(start, start + n):
        c = CustomerFactory(organization=org, legal_name=f"Buyer {i:03d}", credit_limit=Decimal("1000.00"))
        inv = InvoiceFactory(customer=c, issue_date=dt.date(2026, 6, 1) - dt.timedelta(days=7 * i),
                             amount=Decimal(100 + 50 * i))
        pay = PaymentFactory(customer=c, amount=Decimal("40.00"), received_on=dt.date(2026, 8, 1))
        Allocation.objects.create(organization=org, invoice=inv, payment=pay, amount=Decimal("40.00"),
                                  allocated_on=pay.received_on)
        customers.append(c)
    StatementFactory(customer=customers[0])
    return customers


@pytest.fixture
def officer(client, org, member):
    client.force_login(member(org, Role.CREDIT_OFFICER))
    return client


def test_sorting_by_pd_puts_the_riskiest_first_and_grade_filters(officer, org):
    make_book(org, 6)
    scoring_setup(organization=org)
    score_customers(organization=org)
    by_pd = list(CurrentScore.objects.filter(organization=org).order_by("-pd").values_list("customer_id", "grade"))

    page = officer.get(reverse("customer-list"), {"sort": "-pd"})
    assert page.status_code == 200
    assert [r.customer.pk for r in page.context["rows"]] == [cid for cid, _g in by_pd]
    text = page.content.decode()
    assert 'aria-sort="descending"' in text

    grade = by_pd[0][1]
    filtered = officer.get(reverse("customer-list"), {"grade": grade, "sort": "-pd"})
    assert {r.grade for r in filtered.context["rows"]} == {grade}
    assert filtered.context["count"] == sum(1 for _c, g in by_pd if g == grade)


def test_exposure_overdue_and_limit_use_sort_over_the_whole_book(officer, org):
    customers = make_book(org, 8)
    page = officer.get(reverse("customer-list"), {"sort": "-exposure"})
    rows = page.context["rows"]
    assert [r.customer.pk for r in rows] == [c.pk for c in reversed(customers)]  # larger invoice, larger balance
    assert rows[0].exposure == Decimal(100 + 50 * 7) - Decimal("40.00")
    assert rows[0].use == pytest.approx(float(rows[0].exposure / 10))
    ascending = officer.get(reverse("customer-list"), {"sort": "overdue"}).context["rows"]
    assert [r.overdue for r in ascending] == sorted(r.overdue for r in rows)


def test_search_status_and_as_of_filters(officer, org):
    customers = make_book(org, 4)
    customers[1].status = "on_hold"
    customers[1].save()
    assert [r.customer.pk for r in officer.get(reverse("customer-list"), {"status": "on_hold"}).context["rows"]] == [
        customers[1].pk]
    assert officer.get(reverse("customer-list"), {"q": "Buyer 002"}).context["count"] == 1
    # before the invoices were issued, nobody owed anything
    past = officer.get(reverse("customer-list"), {"as_of": "2025-01-01", "sort": "-exposure"})
    assert past.status_code == 200 and all(r.open == 0 for r in past.context["rows"])
    assert officer.get(reverse("customer-list"), {"as_of": "2026-13-01"}).status_code == 400


def test_exports_carry_the_filters_and_neutralise_formulas(officer, org):
    make_book(org, 3)
    CustomerFactory(organization=org, legal_name="=HYPERLINK(\"http://evil\")", status="blocked")
    CustomerFactory(organization=org, legal_name="@SUM(A1)", status="blocked")
    CustomerFactory(organization=org, legal_name="+cmd", status="active")

    response = officer.get(reverse("customer-list"), {"status": "blocked", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Customer" and len(rows) == 3  # header + the two blocked customers only
    names = {r[0] for r in rows[1:]}
    assert names == {"'=HYPERLINK(\"http://evil\")", "'@SUM(A1)"}

    response = officer.get(reverse("customer-list"), {"q": "+cmd", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][0] == "'+cmd"
    assert all(not str(v).startswith(("=", "+", "-", "@")) for row in values for v in row if isinstance(v, str))


def test_safe_cell_keeps_numbers_and_quotes_formula_text():
    assert safe_cell("-12") == "'-12" and safe_cell(-12) == -12 and safe_cell(Decimal("-1.5")) == Decimal("-1.5")
    assert safe_cell("\t=1") == "'\t=1" and safe_cell("Acme") == "Acme" and safe_cell(None) == ""


def test_aging_by_customer_lists_every_row_and_exports_them(officer, org):
    make_book(org, 55)
    first = officer.get(reverse("collections-overview"))
    assert first.context["row_count"] == 55 and len(first.context["rows"]) == 50
    second = officer.get(reverse("collections-overview"), {"page": 2})
    assert len(second.context["rows"]) == 5
    export = officer.get(reverse("collections-overview"), {"format": "csv"})
    exported = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(exported) == 56
    # sorted by balance or name the page computes DSO and CEI for its own rows only: the same figures, in
    # the same order, as when every row is computed (the export, a sort by DSO)
    for sort in ("-total", "total", "label", "-label", "-dso", "cei"):
        shown = [r for p in (1, 2) for r in officer.get(reverse("collections-overview"),
                                                         {"sort": sort, "page": p}).context["rows"]]
        every = officer.get(reverse("collections-overview"), {"sort": sort, "format": "csv"})
        rows = list(csv.reader(io.StringIO(every.content.decode("utf-8-sig"))))[1:]
        assert [(r.label, f"{r.total:.2f}", f"{round(r.dso, 1)}") for r in shown] == [
            (row[0], f"{Decimal(row[1]):.2f}", f"{float(row[-4]):.1f}") for row in rows], sort


def test_credit_report_pdf_in_both_languages(officer, org):
    c = make_book(org, 1)[0]
    for lang in ("en", "zh-hans"):
        response = officer.get(reverse("customer-report", args=[c.pk]), {"lang": lang})
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF") and len(response.content) > 2_000


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_main_pages_cost_the_same_queries_on_a_book_five_times_larger(officer, org):
    small = make_book(org, 4)
    scoring_setup(organization=org)
    score_customers(organization=org)
    pages = [
        (reverse("home"), None), (reverse("customer-list"), None), (reverse("customer-list"), {"sort": "-pd"}),
        (reverse("customer-list"), {"sort": "-exposure"}), (reverse("customer-detail", args=[small[0].pk]), None),
        (reverse("collections-overview"), None), (reverse("collections-ecl"), None),
        (reverse("collections-worklist"), None),
    ]
    before = [_queries(officer, url, params) for url, params in pages]
    make_book(org, 16, start=4)
    score_customers(organization=org)
    after = [_queries(officer, url, params) for url, params in pages]
    assert after == before


def test_invoice_list_filters_sorts_pages_and_exports(officer, org):
    make_book(org, 3)
    page = officer.get(reverse("collections-invoices"), {"state": "open", "sort": "-open"})
    assert page.status_code == 200 and page.context["count"] == 3
    opens = [i.open_amount for i in page.context["invoices"]]
    assert opens == sorted(opens, reverse=True) and opens[0] == Decimal(100 + 50 * 2) - Decimal("40.00")
    assert officer.get(reverse("collections-invoices"), {"state": "settled"}).context["count"] == 0
    export = officer.get(reverse("collections-invoices"), {"state": "overdue", "format": "csv"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Number" and len(rows) == 4


def test_other_apps_add_their_actions_to_the_customer_360(officer, org):
    from customers import actions

    c = make_book(org, 1)[0]

    def provider(request, customer):
        yield actions.CustomerAction("Request a limit", f"/limits/new/?customer={customer.pk}")

    actions.register_customer_action(provider)
    try:
        page = officer.get(reverse("customer-detail", args=[c.pk])).content.decode()
    finally:
        actions._PROVIDERS.remove(provider)
    assert f'href="/limits/new/?customer={c.pk}">Request a limit</a>' in page
