"""Early warning on the demo portfolio: how many later defaulters were warned 60+ days ahead, how many
non-defaulters were alerted; and the nightly sweep at 100,000 customers beside one raw SQL aggregate of
the same payment figures, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/early_warning.py

Runs in a scratch database created next to DATABASE_URL's and dropped afterwards.

Part 1, warnings. The demo portfolio (2,000 customers, 200,000 invoices, seed 42, as of 2026-11-30) is
loaded through the import pipeline and scored as the demo seed does (five quarter ends and the as-of
date). The indicators (``alerts.indicators.evaluate``, the defaults, statements counted from 120 days
after their period end, when the demo's statements arrive) are evaluated as of every 30th day of the
last 15 months before the as-of date: each evaluation sees only what was known on its date. A
**warning** is a finding of severity high or critical (those that start the contingency actions: a
limit review, a credit hold); the figures of every finding of severity medium or above, and per
indicator, are printed beside them. Concentration (a portfolio matter) is left out.

* **defaulters warned**: of the customers whose (generator's) default date D leaves a full window
  [D-180, D-60] inside the evaluation dates, the share with a warning on an evaluation date in that
  window: warned 60 to 180 days before default.
* **non-defaulters alerted**: of the customers active throughout who never defaulted, the share with a
  warning on an evaluation date of a window of the same length (120 days, five evaluation dates),
  averaged over every position of that window in the evaluation period.

Target: at least 80% of defaulters warned with under 20% of non-defaulters alerted.

Part 2, scale. A book of 100,000 customers with credit limits, 1,000,000 invoices over 400 days (85%
paid, with delays), their payments and allocations, 500,000 orders, written by COPY. Measured:

* ``baseline``: one SQL GROUP BY giving each customer's late payments of the last 90 days and its
  amount-weighted days beyond terms of the last two 90-day periods (the payment figures of the
  overdue-frequency and DBT indicators), fetched by the client.
* ``sweep``: ``alerts.services.evaluate_customers`` for the whole organization: every indicator, the
  order anomalies, and writing the alerts and their ledger entries, through commit.

The RESULT line reports the share of defaulters warned, the share of non-defaulters alerted as its
baseline, and met=yes only if both targets hold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import defaultdict

import numpy as np
import pandas as pd
from _scratch import result_line, scratch_database, setup_django

AS_OF = dt.date(2026, 11, 30)
STEP_DAYS = 30
EVALUATIONS = 15  # 15 x 30 days: the last 15 months
LEAD_DAYS, WINDOW_DAYS = 60, 120
NOT_WARNINGS = {"concentration"}
BENCH_THRESHOLDS = {"covenant": {"statement_lag_days": 120}}


def findings_by_date(org, dates, thresholds) -> dict[dt.date, list]:
    from alerts.indicators import evaluate

    out = {}
    for day in dates:
        t = time.perf_counter()
        out[day] = [f for f in evaluate(org, day, None, thresholds)
                    if f.customer_id and f.indicator not in NOT_WARNINGS]
        print(f"  {day}: {len(out[day]):>5} findings in {time.perf_counter() - t:.1f}s")
    return out


def warning_figures(findings: dict[dt.date, list], truth: pd.DataFrame, floor: str) -> tuple[float, float]:
    from alerts.models import SEVERITY_RANK

    dates = sorted(findings)
    warned = {day: {f.customer_id for f in items if SEVERITY_RANK[f.severity] >= SEVERITY_RANK[floor]}
              for day, items in findings.items()}
    first, last = dates[0], dates[-1]
    # defaulters with a full window inside the evaluation dates
    d = truth[truth["_defaulted"]].copy()
    d["default"] = pd.to_datetime(d["_default_date"]).dt.date
    d = d[(d["default"] - dt.timedelta(days=LEAD_DAYS + WINDOW_DAYS) >= first)
          & (d["default"] - dt.timedelta(days=LEAD_DAYS) <= last)]
    hit = []
    for row in d.itertuples():
        window = [t for t in dates if row.default - dt.timedelta(days=LEAD_DAYS + WINDOW_DAYS) <= t
                  <= row.default - dt.timedelta(days=LEAD_DAYS)]
        hit.append(any(row.customer_id in warned[t] for t in window))
    defaulters = float(np.mean(hit)) if hit else float("nan")
    good = _good(truth, first)
    per_window = int(WINDOW_DAYS / STEP_DAYS) + 1
    shares = []
    for k in range(len(dates) - per_window + 1):
        alerted = set().union(*(warned[t] for t in dates[k:k + per_window])) & good
        shares.append(len(alerted) / len(good))
    non_defaulters = float(np.mean(shares))
    print(f"[{floor}+] defaulters with a full window: {len(hit)}, warned 60-180 days ahead: {sum(hit)} "
          f"({defaulters:.1%})")
    print(f"[{floor}+] non-defaulters active throughout: {len(good)}, alerted in a 120-day window: "
          f"{non_defaulters:.1%} (windows {min(shares):.1%} .. {max(shares):.1%})")
    return defaulters, non_defaulters


def _good(truth: pd.DataFrame, first: dt.date) -> set[int]:
    n = truth[(~truth["_defaulted"]) & truth["status"].isin(["active", "on_hold"])
              & (pd.to_datetime(truth["customer_since"]).dt.date <= first)]
    return set(n["customer_id"])


def per_indicator(findings: dict[dt.date, list], truth: pd.DataFrame) -> None:
    good = _good(truth, min(findings))
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for items in findings.values():
        for f in items:
            counts[(f.indicator, f.severity)][0 if f.customer_id in good else 1] += 1
    print("findings over the evaluation dates by indicator and severity (non-defaulters, the others):")
    for (name, severity), (g, b) in sorted(counts.items()):
        print(f"  {name:<20} {severity:<9} {g:>6} {b:>6}")


def load_demo(customers: int, invoices: int):
    from credit_platform.demo.generator import DemoConfig, generate
    from credit_platform.demo.loader import load_portfolio
    from credit_platform.services import organization_create
    from scoring.services import scoring_seed_history

    org = organization_create(name="Demo", slug="demo", base_currency="EUR", time_zone="Europe/Berlin")
    t = time.perf_counter()
    portfolio = generate(DemoConfig(customers=customers, invoices=invoices, seed=42, as_of=AS_OF))
    load_portfolio(org, portfolio)
    print(f"demo portfolio loaded in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    scoring_seed_history(organizations=[org], as_of=AS_OF)
    print(f"scored (five quarter ends and {AS_OF}) in {time.perf_counter() - t:.1f}s")
    return org, portfolio.customers


def build_big(customers: int, invoices: int, orders: int) -> int:
    from django.db import connection

    from credit_platform.bulk import insert_frame
    from credit_platform.services import organization_create
    from customers.models import Customer
    from receivables.models import Allocation, Invoice, Order, Payment

    rng = np.random.default_rng(11)
    org = organization_create(name="Big", slug="big")
    t = time.perf_counter()
    insert_frame(Customer._meta.db_table, pd.DataFrame({
        "organization_id": org.pk, "external_id": [f"B{i:06d}" for i in range(customers)],
        "legal_name": [f"Customer {i}" for i in range(customers)], "registration_number": "", "country_id": "DE",
        "sector_id": "G", "size": "small", "currency": "EUR", "payment_terms_days": 30, "status": "active",
        "credit_limit": np.char.mod("%.2f", np.round(rng.lognormal(9.5, 0.5, customers), -2)), "email": "",
        "phone": "", "address": ""}))
    ids = np.array(sorted(Customer.objects.filter(organization=org).values_list("pk", flat=True)))
    risk = rng.normal(0, 1, customers)
    cust = rng.integers(0, customers, invoices)
    issue = pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(0, 400, invoices), unit="D")
    due = issue + pd.Timedelta(days=30)
    amount = np.round(rng.lognormal(7.0, 0.8, invoices) + 10, 2)
    insert_frame(Invoice._meta.db_table, pd.DataFrame({
        "organization_id": org.pk, "customer_id": ids[cust], "number": [f"BI-{i:08d}" for i in range(invoices)],
        "issue_date": issue.strftime("%Y-%m-%d"), "due_date": due.strftime("%Y-%m-%d"),
        "amount": np.char.mod("%.2f", amount), "currency": "EUR"}))
    inv_ids = np.array(sorted(Invoice.objects.filter(organization=org).values_list("pk", flat=True)))
    delay = np.round(np.clip(2 + 8 * risk[cust] + rng.normal(0, 5, invoices), -10, 120)).astype(int)
    paid_on = due + pd.to_timedelta(delay, unit="D")
    paid = np.flatnonzero((rng.random(invoices) < 0.85) & (paid_on <= pd.Timestamp(AS_OF)))
    paid_text = paid_on[paid].strftime("%Y-%m-%d")
    insert_frame(Payment._meta.db_table, pd.DataFrame({
        "organization_id": org.pk, "customer_id": ids[cust[paid]], "reference": [f"BP-{i:08d}" for i in
                                                                                 range(len(paid))],
        "received_on": paid_text, "amount": np.char.mod("%.2f", amount[paid]), "currency": "EUR",
        "method": "transfer"}))
    pay_ids = np.array(sorted(Payment.objects.filter(organization=org).values_list("pk", flat=True)))
    insert_frame(Allocation._meta.db_table, pd.DataFrame({
        "organization_id": org.pk, "invoice_id": inv_ids[paid], "payment_id": pay_ids,
        "amount": np.char.mod("%.2f", amount[paid]), "allocated_on": paid_text}))
    ocust = rng.integers(0, customers, orders)
    oday = pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(0, 400, orders), unit="D")
    insert_frame(Order._meta.db_table, pd.DataFrame({
        "organization_id": org.pk, "customer_id": ids[ocust], "number": [f"BO-{i:08d}" for i in range(orders)],
        "order_date": oday.strftime("%Y-%m-%d"), "amount": np.char.mod("%.2f", np.round(rng.lognormal(7.0, 0.8,
                                                                                                      orders), 2)),
        "currency": "EUR", "status": "invoiced"}))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"big book: {customers:,} customers, {invoices:,} invoices, {len(paid):,} payments, {orders:,} orders "
          f"written in {time.perf_counter() - t:.1f}s")
    return org.pk


def baseline(org_id: int) -> float:
    """The payment figures of the overdue-frequency and DBT indicators in one raw GROUP BY."""
    from django.db import connection

    late_from, recent, prior = (AS_OF - dt.timedelta(days=d) for d in (90, 90, 180))
    sql = """
        SELECT i.customer_id,
               count(DISTINCT CASE WHEN a.allocated_on > %s AND a.allocated_on - i.due_date >= 15 THEN i.id END),
               sum(CASE WHEN a.allocated_on > %s THEN a.amount * GREATEST(a.allocated_on - i.due_date, 0) END)
                 / NULLIF(sum(CASE WHEN a.allocated_on > %s THEN a.amount END), 0),
               sum(CASE WHEN a.allocated_on <= %s THEN a.amount * GREATEST(a.allocated_on - i.due_date, 0) END)
                 / NULLIF(sum(CASE WHEN a.allocated_on <= %s THEN a.amount END), 0)
        FROM receivables_allocation a JOIN receivables_invoice i ON i.id = a.invoice_id
        WHERE a.organization_id = %s AND a.payment_id IS NOT NULL AND a.allocated_on > %s AND a.allocated_on <= %s
        GROUP BY i.customer_id"""
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, [late_from, recent, recent, recent, recent, org_id, prior, AS_OF])
        rows = cursor.fetchall()
    seconds = time.perf_counter() - t
    print(f"baseline: payment figures of {len(rows):,} customers in one GROUP BY: {seconds:.2f}s")
    return seconds


def part_one(args: argparse.Namespace) -> tuple[float, float]:
    org, truth = load_demo(args.customers, args.invoices)
    from alerts.indicators import merged
    from customers.models import Customer

    ids = dict(Customer.objects.filter(organization=org).values_list("external_id", "pk"))
    truth = truth.assign(customer_id=truth["external_id"].map(ids))
    dates = [AS_OF - dt.timedelta(days=STEP_DAYS * k) for k in range(EVALUATIONS, 0, -1)]
    findings = findings_by_date(org, dates, merged(BENCH_THRESHOLDS))
    print("warnings: severity high or critical")
    defaulters, non_defaulters = warning_figures(findings, truth, "high")
    print("every alert of severity medium or above, for comparison")
    warning_figures(findings, truth, "medium")
    per_indicator(findings, truth)
    return defaulters, non_defaulters


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--big-customers", type=int, default=100_000)
    parser.add_argument("--big-invoices", type=int, default=1_000_000)
    parser.add_argument("--big-orders", type=int, default=500_000)
    parser.add_argument("--scale-only", action="store_true", help="part 2 only (the sweep at 100,000 customers)")
    args = parser.parse_args()
    with scratch_database("bench_ews") as url:
        setup_django(url)
        from credit_platform.models import Organization

        defaulters, non_defaulters = part_one(args) if not args.scale_only else (float("nan"), float("nan"))
        big = build_big(args.big_customers, args.big_invoices, args.big_orders)
        base = min(baseline(big) for _ in range(3))
        from alerts.services import evaluate_customers

        t = time.perf_counter()
        result = evaluate_customers(organization=Organization.objects.get(pk=big), as_of=AS_OF)
        sweep = time.perf_counter() - t
        print(f"sweep of {args.big_customers:,} customers: {sweep:.1f}s ({result}); {sweep / base:.1f}x the "
              f"baseline aggregate")
        t = time.perf_counter()
        again = evaluate_customers(organization=Organization.objects.get(pk=big), as_of=AS_OF)
        print(f"the next sweep (alerts exist, updated): {time.perf_counter() - t:.1f}s ({again})")
    if args.scale_only:
        print(result_line("sweep_100k_customers_s", sweep, base, "measured beside the aggregate", True, "s"))
        return
    met = defaulters >= 0.80 and non_defaulters < 0.20
    print(result_line("defaulters_warned_60d", defaulters, non_defaulters,
                      ">=0.80 of defaulters warned, <0.20 of non-defaulters alerted", met))


if __name__ == "__main__":
    main()
