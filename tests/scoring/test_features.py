"""Features against values computed by hand on a small book, the no-look-ahead rules, scopes."""

from __future__ import annotations

import datetime as dt
import math
import time

import pandas as pd
import pytest

from scoring.features import FEATURE_NAMES, Scope, compute_features
from scoring.features.catalog import BY_NAME, MONOTONE, reason_text

from .book import AS_OF, make_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org, other_org):
    return make_book(org, other_org)


def row(fs, customer):
    return fs.table.loc[customer.pk]


def test_payment_features_by_hand(org, book):
    a = row(compute_features(org, AS_OF), book.a)
    # invoices due in the window: DBT 10 (paid), 30 (settled by its second payment), 30 (open at t)
    assert a["dbt_avg_3m"] == pytest.approx(70 / 3)
    assert a["dbt_avg_6m"] == pytest.approx(70 / 3) and a["dbt_avg_12m"] == pytest.approx(70 / 3)
    assert a["dbt_wavg_3m"] == pytest.approx((1000 * 10 + 3000 * 30 + 2000 * 30) / 6000)
    assert a["late_share_12m"] == 1.0
    assert a["dbt_max_12m"] == 30
    assert (a["late30_count_12m"], a["late60_count_12m"], a["late90_count_12m"]) == (2, 0, 0)
    assert math.isnan(a["dbt_trend"])  # nothing was due in the 9 months before
    assert a["invoices_due_12m"] == 3
    assert a["max_dpd_open"] == 30
    assert a["overdue_amount"] == pytest.approx(2000)
    assert a["overdue_share"] == pytest.approx(2000 / 2500)  # the 500 invoice is not due yet
    assert a["open_to_sales_days_3m"] == pytest.approx(2500 / 5500 * 91)
    assert a["utilisation"] == pytest.approx((2500 + 1000) / 5000)  # open receivables + open order


def test_money_features_in_base_currency_at_the_as_of_rate(org, book):
    c = row(compute_features(org, AS_OF), book.c)
    assert c["overdue_amount"] == pytest.approx(900)  # 1,000 USD at 0.9 (the 0.5 rate comes later)
    assert c["utilisation"] == pytest.approx(900 / 1800)
    assert c["max_dpd_open"] == 60 and c["dbt_avg_3m"] == 60 and c["late60_count_12m"] == 1
    assert c["open_to_sales_days_3m"] == pytest.approx(91)


def test_order_features_by_hand(org, book):
    d = row(compute_features(org, AS_OF), book.d)
    assert d["order_volume_trend"] == pytest.approx(500 / (600 / 3) - 1)
    base = pd.Series([100, 100, 100, 100, 200], dtype=float)
    assert d["order_anomaly_z"] == pytest.approx((500 - base.mean()) / base.std())  # cancelled 900 ignored


def test_statement_features_by_hand(org, book):
    a = row(compute_features(org, AS_OF), book.a)
    # the 2025-12-31 statement is available from 2026-04-30; the 2026-03-31 one is not yet
    assert a["statement_age_days"] == 120
    assert a["current_ratio"] == pytest.approx(2.0)
    assert a["quick_ratio"] == pytest.approx(350 / 250)
    assert a["debt_to_equity"] == pytest.approx(1.5)
    assert a["equity_ratio"] == pytest.approx(0.4)
    assert a["interest_coverage"] == pytest.approx(4.0)
    assert a["net_margin"] == pytest.approx(0.035)
    assert a["ocf_to_current_liabilities"] == pytest.approx(0.44)
    assert a["altman_z2"] == pytest.approx(6.56 * 0.25 + 3.26 * 0.3 + 6.72 * 0.12 + 1.05 * 400 / 600)
    assert a["revenue_growth"] == pytest.approx(2000 / 1600 - 1)
    assert a["altman_z2_change"] == pytest.approx(0.0)
    assert a["net_margin_change"] == pytest.approx((70 / 2000 - 70 / 1600) * 100)
    assert a["no_statement"] == 0


def test_external_and_profile_features_by_hand(org, book):
    a = row(compute_features(org, AS_OF), book.a)
    assert a["bureau_score"] == 48 and a["bureau_score_change"] == -12  # the 2026-05-10 score is later
    assert a["litigation_12m"] == 1  # the 2025-03-01 case is older than 12 months
    assert a["negative_news_12m"] == 0 and a["insolvency_filing"] == 0
    assert a["country_risk"] == 0 and a["sector_risk"] == 3
    assert a["relationship_years"] == pytest.approx((AS_OF - dt.date(2020, 1, 1)).days / 365.25)
    assert a["size_rank"] == 2


def test_a_customer_without_any_data_gets_explicit_flags(org, book):
    fs = compute_features(org, AS_OF)
    b = row(fs, book.b)
    assert (b["no_statement"], b["no_bureau"], b["no_payment_history"]) == (1, 1, 1)
    assert b["max_dpd_open"] == 0 and b["overdue_amount"] == 0 and b["invoices_due_12m"] == 0
    assert math.isnan(b["dbt_avg_6m"]) and math.isnan(b["altman_z2"]) and math.isnan(b["bureau_score"])
    flags = dict(zip(fs.table.index, fs.flags(), strict=True))
    assert {"no_statement", "no_bureau", "no_payment_history", "new_customer"} <= set(flags[book.b.pk])
    assert flags[book.a.pk] == []


def test_nothing_after_the_as_of_date_is_used(org, book):
    before = compute_features(org, AS_OF).table
    # a day later the payment of 2026-05-05 is still unknown, but a day passes for every open invoice
    later = compute_features(org, AS_OF + dt.timedelta(days=1)).table
    assert later.loc[book.a.pk, "max_dpd_open"] == 31
    # the same date computed again after more data arrived "later" gives the same features
    from tests.factories import InvoiceFactory

    InvoiceFactory(customer=book.a, issue_date=AS_OF + dt.timedelta(days=3), amount=50)
    pd.testing.assert_frame_equal(compute_features(org, AS_OF).table, before)


def test_scopes_give_the_same_rows_and_tenants_stay_apart(org, other_org, book):
    everything = compute_features(org, AS_OF).table
    assert book.other.pk not in everything.index
    ids = [book.a.pk, book.c.pk]
    pd.testing.assert_frame_equal(compute_features(org, AS_OF, Scope.of(ids)).table, everything.loc[ids])
    lo, hi = sorted(ids)
    ranged = compute_features(org, AS_OF, Scope.between(lo, hi)).table
    pd.testing.assert_frame_equal(ranged, everything.loc[lo:hi])
    assert list(everything.columns) == FEATURE_NAMES


def test_features_take_a_fixed_number_of_queries(org, book, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        compute_features(org, AS_OF)
    t = time.perf_counter()
    compute_features(org, AS_OF)
    assert time.perf_counter() - t < 5


def test_catalog_directions_and_reason_texts():
    assert MONOTONE["dbt_avg_6m"] == 1 and MONOTONE["bureau_score"] == -1
    assert "order_volume_trend" not in MONOTONE  # both a collapse and a spike are warning signs
    assert reason_text("dbt_avg_6m", 34.2) == ("Pays on average 34 days late over the last 6 months",
                                               "近6个月平均逾期34天")
    assert reason_text("statement_age_days", None) == ("No financial statements on file", "无财务报表")
    assert reason_text("utilisation", 1.234)[0] == "Uses 123% of its credit limit"
    assert all(f.reason_en and f.reason_zh for f in BY_NAME.values())


@pytest.mark.postgres
def test_missing_planner_statistics_are_gathered_before_the_batch_statements(org, book):
    from scoring.features import BATCH_TABLES
    from scoring.features.scope import ensure_statistics

    ensure_statistics(BATCH_TABLES)  # whatever ran before, statistics are now fresh
    assert ensure_statistics(BATCH_TABLES) == []
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'receivables_invoice'")
        assert cursor.fetchone()[0] >= 0  # analysed: the planner no longer takes the table for empty
