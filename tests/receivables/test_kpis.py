"""Aging, DSO (countback), BPDSO, ADD and CEI against figures computed by hand on a tiny book; aging
totals equal, to the cent, the open balances in several currencies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from receivables.kpis import (
    countback,
    month_back,
    portfolio_figures,
    receivable_figures,
    receivable_figures_and_portfolio,
)
from receivables.models import CollectionProfile, Invoice
from receivables.selectors import portfolio_aging
from tests.factories import CustomerFactory, FXRateFactory

from .conftest import D, credit, invoice, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_book(org):
    """J1 1,000 issued 15 Jan, paid 20 Feb; F1 2,000 issued 10 Feb, due 12 Mar, 1,000 paid 20 Mar;
    M1 1,000 issued 5 Mar, due 4 Apr; M2 2,000 issued 20 Mar, due 19 Apr, credit note 500 on 25 Mar."""
    c = CustomerFactory(organization=org)
    j1 = invoice(c, "1000.00", D(2026, 1, 15), D(2026, 2, 14), number="J1")
    f1 = invoice(c, "2000.00", D(2026, 2, 10), D(2026, 3, 12), number="F1")
    invoice(c, "1000.00", D(2026, 3, 5), D(2026, 4, 4), number="M1")
    m2 = invoice(c, "2000.00", D(2026, 3, 20), D(2026, 4, 19), number="M2")
    pay(j1, "1000.00", D(2026, 2, 20))
    pay(f1, "1000.00", D(2026, 3, 20))
    credit(m2, "500.00", D(2026, 3, 25), "CN1")
    return c


def test_aging_dso_add_cei_match_hand_computed_figures(org, tiny_book):
    fig = portfolio_figures(org, D(2026, 3, 31))
    # open: F1 1,000 (19 days late), M1 1,000 and M2 1,500 (not yet due)
    assert fig.total == Decimal("3500.00")
    assert dict((k, v) for k, _l, v in fig.buckets if v) == {
        "current": Decimal("2500.00"),
        "d1_30": Decimal("1000.00"),
    }
    # DSO: March sales 3,000 over 31 days are used up, 500 of February's 2,000 over 28 days remain
    assert fig.dso == pytest.approx(31 + 500 / 2000 * 28)  # 38.0
    # BPDSO: current 2,500 of March's 3,000 sales over 31 days
    assert fig.bpdso == pytest.approx(2500 / 3000 * 31)  # 25.83
    assert fig.add == pytest.approx(38 - 2500 / 3000 * 31)  # 12.17
    # CEI for March: beginning (28 Feb) F1 2,000; sales 3,000; ending total 3,500, current 2,500
    assert fig.beginning == Decimal("2000.00") and fig.sales_month == Decimal("3000.00")
    assert fig.cei == pytest.approx((2000 + 3000 - 3500) / (2000 + 3000 - 2500) * 100)  # 60.0
    # as of an earlier date the same book gives its then figures: 28 Feb, F1 2,000 current
    feb = portfolio_figures(org, D(2026, 2, 28))
    assert feb.total == Decimal("2000.00") and feb.overdue == 0
    # 28 Feb is a month end: the month back is February, (31 Jan, 28 Feb], 28 days, whose sales (F1
    # 2,000) cover the balance exactly
    assert feb.dso == pytest.approx(28.0) and feb.add == pytest.approx(0.0)


def test_countback_walks_back_until_the_balance_is_covered():
    assert countback(Decimal("0"), [(Decimal("10"), 30)]) == (0.0, False)
    assert countback(Decimal("150"), [(Decimal("100"), 31), (Decimal("0"), 28), (Decimal("100"), 31)]) == (
        pytest.approx(31 + 28 + 15.5),
        False,
    )
    assert countback(Decimal("500"), [(Decimal("100"), 30)]) == (30.0, True)
    assert month_back(D(2026, 3, 31), 1) == D(2026, 2, 28) and month_back(D(2026, 1, 31), 2) == D(2025, 11, 30)
    # a month end counts back in month ends (calendar months), any other day in the same day, clamped
    assert month_back(D(2026, 4, 30), 1) == D(2026, 3, 31) and month_back(D(2026, 2, 28), 1) == D(2026, 1, 31)
    assert month_back(D(2026, 3, 15), 1) == D(2026, 2, 15) and month_back(D(2026, 3, 30), 1) == D(2026, 2, 28)
    assert month_back(D(2024, 3, 30), 1) == D(2024, 2, 29) and month_back(D(2024, 2, 29), 12) == D(2023, 2, 28)


def test_month_end_dso_and_cei_of_november_use_november_not_the_31st_of_october(org):
    """As of 30 November (a month end) the month windows are the calendar months: an invoice issued on 31
    October is October's sale, and November's CEI starts from the 31 October closing balance. (Counting
    back the same day, 30 October, put 31 October into "November" and started the CEI a day early.)"""
    c = CustomerFactory(organization=org)
    october = invoice(c, "3000.00", D(2026, 10, 31), D(2026, 11, 30), number="O31")
    invoice(c, "1500.00", D(2026, 11, 10), D(2026, 12, 10), number="N10")
    pay(october, "3000.00", D(2026, 11, 5))
    fig = portfolio_figures(org, D(2026, 11, 30))
    assert fig.sales_month == Decimal("1500.00")  # November's sales only
    assert fig.dso == pytest.approx(30.0)  # 1,500 open = all of November's 1,500 over 30 days
    assert fig.beginning == Decimal("3000.00")  # the 31 October closing balance
    assert fig.cei == pytest.approx(100.0)  # (3,000 + 1,500 - 1,500) / (3,000 + 1,500 - 1,500)
    mid = portfolio_figures(org, D(2026, 11, 20))  # not a month end: (20 Oct, 20 Nov], 31 days
    assert mid.sales_month == Decimal("4500.00") and mid.dso == pytest.approx(1500 / 4500 * 31)


def test_figures_by_dimension(org, tiny_book, member):
    collector = member(org, "collector", first_name="Lin", last_name="Wei")
    CollectionProfile.objects.create(organization=org, customer=tiny_book, collector=collector)
    other = CustomerFactory(organization=org, country_id="FR", sector_id="G")
    invoice(other, "400.00", D(2026, 3, 1), D(2026, 3, 10))
    by_country = {f.key: f for f in receivable_figures(org, D(2026, 3, 31), "country")}
    assert by_country["DE"].total == Decimal("3500.00") and by_country["FR"].total == Decimal("400.00")
    assert by_country["FR"].label == "France" and by_country["FR"].overdue == Decimal("400.00")
    by_collector = receivable_figures(org, D(2026, 3, 31), "collector")
    assert [(f.label, f.total) for f in by_collector] == [
        ("Lin Wei", Decimal("3500.00")),
        ("Unassigned", Decimal("400.00")),
    ]
    assert by_collector[0].dso == pytest.approx(38.0)
    by_sector = {f.key: f.total for f in receivable_figures(org, D(2026, 3, 31), "sector")}
    assert by_sector == {"C": Decimal("3500.00"), "G": Decimal("400.00")}
    assert {f.label for f in receivable_figures(org, D(2026, 3, 31), "group")} == {"No group"}
    assert len(receivable_figures(org, D(2026, 3, 31), "customer")) == 2
    # the page's one read: the portfolio summed from any dimension's rows is the portfolio's own figure
    whole = portfolio_figures(org, D(2026, 3, 31))
    for dimension in ("customer", "country", "collector", "group"):
        rows, portfolio = receivable_figures_and_portfolio(org, D(2026, 3, 31), dimension)
        assert [f.key for f in rows] == [f.key for f in receivable_figures(org, D(2026, 3, 31), dimension)]
        assert (portfolio.total, portfolio.buckets, portfolio.dso, portfolio.bpdso, portfolio.cei, portfolio.label) == (
            whole.total, whole.buckets, whole.dso, whole.bpdso, whole.cei, whole.label)


def test_aging_total_equals_open_balances_to_the_cent_in_several_currencies(org):
    FXRateFactory(organization=org, currency="USD", rate_date=D(2026, 1, 1), rate=Decimal("0.9137"))
    FXRateFactory(organization=org, currency="CNY", rate_date=D(2026, 1, 1), rate=Decimal("0.1271"))
    eur, usd, cny = (CustomerFactory(organization=org, currency=c) for c in ("EUR", "USD", "CNY"))
    as_of = D(2026, 6, 30)
    n = 0
    for customer in (eur, usd, cny):
        for k, late in enumerate((-10, 5, 40, 75, 120, 400)):
            n += 1
            due = as_of - dt.timedelta(days=late)
            inv = invoice(
                customer, f"{1000 + 33.33 * k + n:.2f}", min(due, as_of) - dt.timedelta(days=30), due
            )
            if k % 2:
                pay(inv, f"{17.77 * k:.2f}", min(due, as_of) - dt.timedelta(days=1))
            if k % 3 == 2:
                credit(inv, "11.11", min(due, as_of) - dt.timedelta(days=2), f"CN-{n}")
            if k == 5:
                pay(inv, "1.00", as_of + dt.timedelta(days=1))  # after the as-of date: still open then
        paid_off = invoice(customer, "99.99", D(2026, 1, 1), D(2026, 2, 1))
        pay(paid_off, "99.99", D(2026, 2, 1))
    aging = portfolio_aging(org, as_of)
    from credit_platform.money import FxTable

    fx = FxTable.load(org, as_of)
    by_currency: dict[str, Decimal] = {}
    for inv in Invoice.objects.for_organization(org):
        open_amount = inv.open_amount_on(as_of)
        if open_amount > 0:
            by_currency[inv.currency] = by_currency.get(inv.currency, Decimal(0)) + open_amount
    expected = sum((fx.convert(amount, cur) for cur, amount in by_currency.items()), Decimal(0))
    assert aging.total == expected
    assert sum(aging.buckets.values()) == expected
    assert aging.invoice_count == 18
    assert all(v > 0 for v in aging.buckets.values()) and len(aging.buckets) == 6
    # the same through the figures
    assert portfolio_figures(org, as_of).total == expected


def test_dso_reading_older_sales_only_where_needed_equals_reading_two_years(org, monkeypatch):
    """Sales are read for the last three months, then older windows only for the balances those do not
    cover: a customer whose balance goes back 8 months, one covered in the first month, one with nothing
    open, by customer and for the portfolio, the same figures as with all 24 months read for every key."""
    import receivables.kpis as kpis

    as_of = D(2026, 6, 30)
    slow = CustomerFactory(organization=org)  # sells little lately: its balance reaches far back
    for k in range(1, 10):
        issued = month_back(as_of, k) + dt.timedelta(days=3)
        invoice(slow, "1000.00", issued, issued + dt.timedelta(days=30), number=f"S{k}")
    invoice(slow, "100.00", D(2026, 6, 20), D(2026, 7, 20), number="S0")
    quick = CustomerFactory(organization=org)
    for k in range(0, 6):
        issued = month_back(as_of, k) - dt.timedelta(days=2)
        invoice(quick, "5000.00", issued, issued + dt.timedelta(days=30), number=f"Q{k}")
    paid_up = CustomerFactory(organization=org)
    p = invoice(paid_up, "300.00", D(2026, 2, 1), D(2026, 3, 3), number="P1")
    pay(p, "300.00", D(2026, 3, 1))

    def figures():
        rows, whole = receivable_figures_and_portfolio(org, as_of, "customer")
        return ({f.key: (f.total, round(f.dso, 6), round(f.bpdso, 6), f.dso_capped, f.cei) for f in rows},
                (whole.total, round(whole.dso, 6), whole.cei))

    two_phase = figures()
    monkeypatch.setattr(kpis, "FIRST_WINDOWS", kpis.MAX_COUNTBACK_MONTHS)
    assert two_phase == figures()
    assert two_phase[0][slow.pk][1] > 150  # the slow customer's DSO reaches beyond three months
