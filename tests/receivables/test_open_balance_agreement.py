"""Every figure built on the open balance agrees, to the cent, with the one rule of ``receivables.balances``
on one book, at two as-of dates: partial payments, credit notes, an over-allocation, a last cent left
open, the SQLite float case (3445.53 - 1879.37 - 1566.16), three currencies with rates that move between
the dates, invoices issued after an as-of date and allocations dated after it.

Consumers checked: the builder's SQL (both join shapes) and ORM forms, the invoice model's methods, the
admin's and the API's open amount, aging, customer balances, the receivable KPIs, the customer 360, the
statement of account, the collections file and worklist, the dunning run's due items, the ECL history,
scoring's payment features and its default labels."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import time_machine
from django.contrib import admin
from django.db import connection, transaction
from django.test import RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from credit_platform.money import money
from credit_platform.roles import Role
from customers.models import Customer
from customers.selectors import customer_360
from receivables import balances
from receivables.admin import InvoiceAdmin
from receivables.collections import collections_file, worklist
from receivables.dunning import run as dunning
from receivables.dunning.policy import dunning_policy_ensure_default
from receivables.ecl import ECL_BUCKETS, raw_balances
from receivables.kpis import portfolio_figures, receivable_figures
from receivables.models import Allocation, Invoice
from receivables.selectors import AGING_BUCKETS, customer_balances, open_items_grouped, portfolio_aging
from receivables.statements import statement_build
from scoring.features import compute_features
from scoring.labels import default_dates
from tests.factories import CustomerFactory, FXRateFactory, PaymentFactory

from .conftest import D, credit, invoice, pay

pytestmark = pytest.mark.django_db

T1, T2 = D(2026, 5, 15), D(2026, 6, 30)
RATES = {T1: {"EUR": Decimal(1), "USD": Decimal("0.9"), "GBP": Decimal("1.15")},
         T2: {"EUR": Decimal(1), "USD": Decimal("0.8"), "GBP": Decimal("1.15")}}

# invoice number -> {as-of date: (open amount, days past due)}; absent: not on the book at that date
EXPECTED: dict[str, dict[dt.date, tuple[str, int]]] = {
    "A1": {T1: ("600.00", 95), T2: ("0.00", 0)},  # 400 paid in Feb, the 600 on 20 May (after T1)
    "A2": {T1: ("0.00", 0), T2: ("0.00", 0)},  # credited in full
    "A3": {T1: ("0.00", 0), T2: ("0.00", 0)},  # 120 allocated against 100: 0, never -20
    "A4": {T1: ("300.00", 0), T2: ("199.99", 41)},  # credit note 33.33, 100.01 paid on 1 June
    "A6": {T2: ("250.00", 0)},  # issued 5 June, between the dates
    # A5 is issued on 10 July, after both dates
    "B1": {T1: ("0.01", 59), T2: ("0.01", 105)},  # the last cent left open
    "B2": {T1: ("1200.50", 14), T2: ("1200.50", 60)},  # paid on 5 July, after both dates
    "C1": {T1: ("800.00", 196), T2: ("800.00", 242)},
    "C2": {T1: ("1566.16", 45), T2: ("0.00", 0)},  # 1879.37 in April, 1566.16 on 10 June
    "C3": {T1: ("0.00", 0), T2: ("0.00", 0)},  # 3445.53 - 1879.37 - 1566.16: 0 (4.5e-13 in SQLite floats)
}


@pytest.fixture
def book(org: Any) -> dict[str, Any]:
    FXRateFactory(organization=org, currency="USD", rate_date=D(2026, 1, 1), rate=Decimal("0.9"))
    FXRateFactory(organization=org, currency="USD", rate_date=D(2026, 6, 1), rate=Decimal("0.8"))
    FXRateFactory(organization=org, currency="GBP", rate_date=D(2026, 1, 1), rate=Decimal("1.15"))
    a = CustomerFactory(organization=org, credit_limit=Decimal("10000"))
    b = CustomerFactory(organization=org, currency="USD", credit_limit=Decimal("5000"),
                        status=Customer.Status.IN_DEFAULT)
    c = CustomerFactory(organization=org, currency="GBP")
    inv: dict[str, Any] = {}
    inv["A1"] = invoice(a, "1000.00", D(2026, 1, 10), D(2026, 2, 9), number="A1")
    pay(inv["A1"], "400.00", D(2026, 2, 20))
    pay(inv["A1"], "600.00", D(2026, 5, 20))
    inv["A2"] = invoice(a, "500.00", D(2026, 2, 1), D(2026, 3, 3), number="A2")
    credit(inv["A2"], "500.00", D(2026, 3, 10), "CN-A2")
    inv["A3"] = invoice(a, "100.00", D(2026, 3, 1), D(2026, 3, 31), number="A3")
    over = PaymentFactory(customer=a, organization=org, amount=Decimal("120.00"), received_on=D(2026, 4, 1))
    for amount, on in (("70.00", D(2026, 4, 1)), ("50.00", D(2026, 4, 3))):  # a manual correction
        Allocation.objects.create(organization=org, invoice=inv["A3"], payment=over, amount=amount, allocated_on=on)
    inv["A4"] = invoice(a, "333.33", D(2026, 4, 20), D(2026, 5, 20), number="A4")
    credit(inv["A4"], "33.33", D(2026, 4, 25), "CN-A4")
    pay(inv["A4"], "100.01", D(2026, 6, 1))
    inv["A5"] = invoice(a, "700.00", D(2026, 7, 10), D(2026, 8, 9), number="A5")
    inv["A6"] = invoice(a, "250.00", D(2026, 6, 5), D(2026, 7, 5), number="A6")
    inv["B1"] = invoice(b, "2000.00", D(2026, 2, 15), D(2026, 3, 17), number="B1")
    pay(inv["B1"], "1999.99", D(2026, 4, 10))
    inv["B2"] = invoice(b, "1200.50", D(2026, 4, 1), D(2026, 5, 1), number="B2")
    pay(inv["B2"], "1200.50", D(2026, 7, 5))
    inv["C1"] = invoice(c, "800.00", D(2025, 10, 1), D(2025, 10, 31), number="C1")
    inv["C2"] = invoice(c, "3445.53", D(2026, 3, 1), D(2026, 3, 31), number="C2")
    pay(inv["C2"], "1879.37", D(2026, 4, 15))
    pay(inv["C2"], "1566.16", D(2026, 6, 10))
    inv["C3"] = invoice(c, "3445.53", D(2026, 1, 5), D(2026, 2, 4), number="C3")
    pay(inv["C3"], "1879.37", D(2026, 2, 1))
    pay(inv["C3"], "1566.16", D(2026, 2, 3))
    return {"a": a, "b": b, "c": c, "invoices": inv}


def expected(book: dict[str, Any], t: dt.date) -> dict[int, tuple[Decimal, int]]:
    """invoice id -> (open amount, days past due) at t, for the invoices on the book at t."""
    return {book["invoices"][n].pk: (Decimal(at[t][0]), at[t][1]) for n, at in EXPECTED.items() if t in at}


def open_items(book: dict[str, Any], t: dt.date) -> dict[int, tuple[Decimal, int]]:
    return {k: v for k, v in expected(book, t).items() if v[0] > 0}


def bucket_of(dpd: int) -> str:
    return next(key for key, _label, _low, high in AGING_BUCKETS if high is None or dpd <= high)


def by_currency_and_bucket(book: dict[str, Any], t: dt.date) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = {}
    invoices = {i.pk: i for i in book["invoices"].values()}
    for pk, (amount, dpd) in open_items(book, t).items():
        key = (invoices[pk].currency, bucket_of(dpd))
        out[key] = out.get(key, Decimal(0)) + amount
    return out


def customer_figures(book: dict[str, Any], t: dt.date) -> dict[int, tuple[Decimal, Decimal, int]]:
    """customer id -> (open, overdue in base currency, each currency's total converted once; max days past
    due). Every customer of the book invoices in one currency."""
    invoices = {i.pk: i for i in book["invoices"].values()}
    out: dict[int, tuple[Decimal, Decimal, int]] = {}
    for pk, (amount, dpd) in open_items(book, t).items():
        inv = invoices[pk]
        total, overdue, worst = out.get(inv.customer_id, (Decimal(0), Decimal(0), 0))
        out[inv.customer_id] = (total + amount, overdue + (amount if dpd > 0 else 0), max(worst, dpd))
    currency = {c.pk: c.currency for c in (book["a"], book["b"], book["c"])}
    return {cid: (money(o * RATES[t][currency[cid]]), money(od * RATES[t][currency[cid]]), dpd)
            for cid, (o, od, dpd) in out.items()}


@pytest.mark.parametrize("t", [T1, T2], ids=["15 May", "30 June"])
def test_every_consumer_agrees_on_open_balances_and_days_past_due(org, book, t, member):
    want = expected(book, t)
    want_open = open_items(book, t)
    invoices = {i.pk: i for i in book["invoices"].values()}

    # the builder: both join shapes, open items and the whole book
    for per_invoice in (False, True):
        for open_only in (True, False):
            sql = balances.invoice_balances(org.pk, t, open_only=open_only, per_invoice=per_invoice)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT invoice_id, open_amount FROM ({sql.text}) o", sql.params)
                got = {pk: money(str(v)) for pk, v in cursor.fetchall()}
            assert got == {pk: v[0] for pk, v in (want_open if open_only else want).items()}, (per_invoice, open_only)

    # the ORM form and the invoice model
    on_book = Invoice.objects.for_organization(org).filter(issue_date__lte=t).with_balances(t)
    assert {i.pk: money(i.open_amount) for i in on_book} == {pk: v[0] for pk, v in want.items()}
    assert set(Invoice.objects.for_organization(org).open(t).values_list("pk", flat=True)) == set(want_open)
    assert set(Invoice.objects.for_organization(org).overdue(t).values_list("pk", flat=True)) == {
        pk for pk, v in want_open.items() if v[1] > 0}
    for pk, (amount, dpd) in want.items():
        assert (invoices[pk].open_amount_on(t), invoices[pk].days_past_due(t)) == (amount, dpd), invoices[pk].number

    # the admin's and the API's open amount (and the admin's days past due), on the organization's date
    with time_machine.travel(dt.datetime.combine(t, dt.time(10), tzinfo=dt.UTC), tick=False):
        assert org.local_date() == t
        request = RequestFactory().get("/admin/receivables/invoice/")
        request.organization = org  # type: ignore[attr-defined]
        model_admin = InvoiceAdmin(Invoice, admin.site)
        shown = {obj.pk: (money(model_admin.open_amount(obj)), model_admin.days_past_due(obj))
                 for obj in model_admin.get_queryset(request) if obj.pk in want}
        assert shown == want
        client = APIClient()
        token = Token.objects.create(user=member(org, Role.INTEGRATOR)).key
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        listed = client.get("/api/v1/invoices/", {"page_size": 100}).json()["results"]
        assert {r["id"]: Decimal(r["open_amount"]) for r in listed if r["id"] in want} == {
            pk: v[0] for pk, v in want.items()}

    # aging, customer balances, receivable KPIs
    rows = open_items_grouped(org, t, by_customer=False)
    assert {(cur, bucket): money(str(amount)) for cur, bucket, amount, *_ in rows} == by_currency_and_bucket(book, t)
    per_customer = customer_figures(book, t)
    got_balances = customer_balances(org, t)
    assert {cid: (b.open, b.overdue, b.max_days_past_due(t)) for cid, b in got_balances.items()} == per_customer
    for cid in per_customer:
        one = customer_balances(org, t, [cid])[cid]  # a customer's page reads only its invoices
        assert (one.open, one.overdue) == per_customer[cid][:2]
    aging = portfolio_aging(org, t)
    assert aging.total == sum(
        (money(sum((v for (cur, _b), v in by_currency_and_bucket(book, t).items() if cur == currency), Decimal(0))
               * RATES[t][currency]) for currency in ("EUR", "USD", "GBP")), Decimal(0))
    assert portfolio_figures(org, t).total == aging.total and portfolio_figures(org, t).overdue == aging.overdue
    figures = {f.key: (f.total, f.overdue) for f in receivable_figures(org, t, "customer") if f.total}
    assert figures == {cid: v[:2] for cid, v in per_customer.items()}

    # pages of one customer: the customer 360, the statement, the collections file
    for customer in (book["a"], book["b"], book["c"]):
        mine = {pk: v for pk, v in want_open.items() if invoices[pk].customer_id == customer.pk}
        page = customer_360(org, customer, t)
        assert {i.pk: (money(i.open_amount), i.dpd) for i in page["open_invoices"]} == mine
        assert page["max_dpd"] == per_customer.get(customer.pk, (0, 0, 0))[2]
        statement = statement_build(org, customer, t)
        assert {ln.number: (ln.open_amount, ln.days_past_due) for ln in statement.lines} == {
            invoices[pk].number: v for pk, v in mine.items()}
        assert statement.aging_total_by_currency() == statement.open_by_currency()
        file = collections_file(org, customer, t)
        assert {ln.invoice.pk: (money(ln.open_amount), ln.days_past_due) for ln in file.invoices} == mine
        shown_balance = (file.balance.open, file.balance.overdue) if file.balance else None
        assert shown_balance == (per_customer[customer.pk][:2] if customer.pk in per_customer else None)
    assert {cid: (bal.open, bal.overdue) for cid, _prio, _w, bal in worklist(org, t)} == {
        cid: v[:2] for cid, v in per_customer.items() if v[1] > 0}

    # the dunning run's due items: every open invoice due by the last level's reach (run date + 7 days)
    policy = dunning_policy_ensure_default(org)
    with transaction.atomic():
        levels = dunning.stage_levels(org, t)
        dunning.stage_fx(org, t)
        sql, params = dunning.due_select(org, t, policy.pk, max(levels["reach_due"]))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            due = {pk: money(str(amount)) for pk, _cust, _level, amount, _cur, _skip in cursor.fetchall()}
        dunning.drop_stages()
    assert due == {pk: v[0] for pk, v in want_open.items() if invoices[pk].due_date <= t + dt.timedelta(days=7)}

    # the ECL history: per currency and reporting bucket, as the aging
    report_of = {key: report for key, _label, _lo, _hi, report in ECL_BUCKETS}
    ecl: dict[tuple[str, str], Decimal] = {}
    for (_seg, _dflt, currency), buckets in raw_balances(org, [t], "")[t].items():
        for key, amount in buckets.items():
            ecl[(currency, report_of[key])] = ecl.get((currency, report_of[key]), Decimal(0)) + amount
    assert ecl == by_currency_and_bucket(book, t)

    # scoring's payment features (floats in base currency, rates as floats: to the cent)
    table = compute_features(org, t).table
    for cid, (open_, overdue, dpd) in per_customer.items():
        row = table.loc[cid]
        assert abs(row["overdue_amount"] - float(overdue)) < 0.006 and row["max_dpd_open"] == dpd
        assert row["overdue_share"] == pytest.approx(float(overdue) / float(open_), abs=1e-5)
    for customer, limit in ((book["a"], Decimal("10000")), (book["b"], Decimal("5000"))):
        base_limit = float(limit * RATES[t][customer.currency])
        assert abs(table.loc[customer.pk, "utilisation"] * base_limit - float(per_customer[customer.pk][0])) < 0.006

    # scoring's default labels: B is in default; its last cent of B1 keeps B1 unsettled, so B's default
    # date is B1's due date + 90 once that has passed, else the due date of its oldest unpaid invoice
    dates = default_dates(org, t)
    b1_due = book["invoices"]["B1"].due_date
    assert dates[book["b"].pk] == pd.Timestamp(b1_due + dt.timedelta(days=90) if t == T2 else b1_due)
