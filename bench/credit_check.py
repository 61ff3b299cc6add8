"""The order credit check through the service on a large book, beside a single primary-key read measured
in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/credit_check.py [--checks N]

Runs in a scratch database created next to DATABASE_URL's and dropped afterwards. The book: the dunning
benchmark's 100,000 customers (10% in USD) with 900,000 open invoices (20% partly paid) plus 100,000 open
orders: 1,000,000 open invoices and orders. Every customer has a limit decided (a dated decision), 5,000
customers belong to 1,000 groups with a shared limit, 1% are on hold.

Measured for ``--checks`` orders of random customers (default 2,000), one at a time as an order system
calls it: ``limits.checks.credit_check`` at the confirmation checkpoint, recorded (the held ones go to the
queue), through commit; and, for the same customers, ``Customer.objects.get(pk=...)`` (the least any
request does). Reported: checks per second, p50 and p99 of both.

Target: p99 of the credit check under 10 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import numpy as np
import pandas as pd
from _scratch import result_line, scratch_database, setup_django

AS_OF = dt.date(2026, 6, 1)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def add_credit(org_id: int, orders: int) -> None:
    """Open orders, limits as decisions, groups with shared limits, a few holds: all by COPY."""
    from django.db import connection

    from credit_platform.bulk import insert_frame
    from customers.models import Customer, CustomerGroup
    from limits.models import GroupLimit, Hold, LimitDecision
    from limits.services import policy_ensure_default
    from receivables.models import Order

    rng = np.random.default_rng(11)
    customers = pd.DataFrame(list(Customer.objects.filter(organization_id=org_id).order_by("pk").values_list(
        "pk", "currency")), columns=["id", "currency"])
    n = len(customers)
    cust = rng.integers(0, n, orders)
    insert_frame(Order._meta.db_table, pd.DataFrame({
        "organization_id": org_id, "customer_id": customers["id"].to_numpy()[cust],
        "number": [f"SO-{i:08d}" for i in range(orders)],
        "order_date": (pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(0, 30, orders), unit="D")).strftime(
            "%Y-%m-%d"),
        "amount": np.char.mod("%.2f", np.round(rng.lognormal(7.0, 1.0, orders) + 10, 2)),
        "currency": customers["currency"].to_numpy()[cust], "status": "open",
    }))
    limits = np.round(rng.lognormal(9.5, 0.8, n), -3) + 1000
    from credit_platform.models import Organization

    policy = policy_ensure_default(organization=Organization.objects.get(pk=org_id))
    insert_frame(LimitDecision._meta.db_table, pd.DataFrame({
        "organization_id": org_id, "customer_id": customers["id"], "kind": "approved",
        "limit": np.char.mod("%.2f", limits), "currency": customers["currency"],
        "limit_base": np.char.mod("%.2f", limits), "valid_from": "2026-01-01", "valid_until": "2027-01-01",
        "decided_by": "bench", "policy_version": policy.version,
    }))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Customer._meta.db_table} c SET credit_limit = d."limit" FROM {LimitDecision._meta.db_table} d
                WHERE d.customer_id = c.id AND c.organization_id = %s""", [org_id])
    insert_frame(CustomerGroup._meta.db_table, pd.DataFrame({
        "organization_id": org_id, "external_id": [f"G{i:05d}" for i in range(1000)],
        "name": [f"Group {i}" for i in range(1000)]}))
    group_ids = list(CustomerGroup.objects.filter(organization_id=org_id).order_by("pk").values_list("pk", flat=True))
    members = customers["id"].to_numpy()[rng.choice(n, min(5000, n // 2), replace=False)]
    with connection.cursor() as cursor:
        for k, cid in enumerate(members):
            cursor.execute(f"UPDATE {Customer._meta.db_table} SET group_id = %s WHERE id = %s",
                           [group_ids[k % 1000], int(cid)])
    insert_frame(GroupLimit._meta.db_table, pd.DataFrame({
        "organization_id": org_id, "group_id": group_ids, "limit": "150000.00"}))
    held = customers["id"].to_numpy()[rng.choice(n, n // 100, replace=False)]
    insert_frame(Hold._meta.db_table, pd.DataFrame({
        "organization_id": org_id, "customer_id": held, "kind": "hold", "source": "dunning",
        "reason": "bench", "placed_on": "2026-05-01", "release_reason": ""}))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=900_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=2000)
    args = parser.parse_args()
    from dunning import build_book

    with scratch_database("bench_credit_check") as url:
        setup_django(url)
        from django.db import connection

        from credit_platform.models import Organization
        from customers.models import Customer
        from limits.checks import credit_check
        from limits.services import policy_current

        t = time.perf_counter()
        org_id = build_book(args.invoices, args.customers)
        add_credit(org_id, args.orders)
        print(f"book built in {time.perf_counter() - t:.0f}s: {args.customers:,} customers, {args.invoices:,} "
              f"open invoices + {args.orders:,} open orders")
        org = Organization.objects.get(pk=org_id)
        rng = np.random.default_rng(3)
        ids = list(Customer.objects.filter(organization=org).values_list("pk", flat=True))
        sample = [int(ids[i]) for i in rng.integers(0, len(ids), args.checks)]
        amounts = np.round(rng.lognormal(7.0, 1.0, args.checks) + 10, 2)
        policy = policy_current(org)
        for cid in sample[:50]:  # warm the connection and the caches of PostgreSQL
            Customer.objects.get(pk=cid)
            credit_check(org, customer=cid, amount=amounts[0], currency="EUR", checkpoint="confirmation",
                         as_of=AS_OF, record=False, policy=policy)
        pk_ms, check_ms = [], []
        for cid in sample:
            t0 = time.perf_counter()
            Customer.objects.get(pk=cid)
            pk_ms.append((time.perf_counter() - t0) * 1000)
        held = 0
        t_all = time.perf_counter()
        for cid, amount in zip(sample, amounts, strict=True):
            t0 = time.perf_counter()
            result = credit_check(org, customer=cid, amount=amount, currency="EUR", checkpoint="confirmation",
                                  as_of=AS_OF)
            check_ms.append((time.perf_counter() - t0) * 1000)
            held += result.outcome == "hold"
        elapsed = time.perf_counter() - t_all
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM limits_ordercheck WHERE queue = 'held'")  # held ones only
            queued = cursor.fetchone()[0]
        p50, p99 = statistics.median(check_ms), pct(check_ms, 0.99)
        pk50, pk99 = statistics.median(pk_ms), pct(pk_ms, 0.99)
        print(f"credit checks: {len(sample):,} in {elapsed:.1f}s = {len(sample) / elapsed:,.0f} checks/s; "
              f"{held:,} held ({queued:,} in the queue)")
        print(f"credit check latency: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(check_ms):.2f} ms")
        print(f"primary-key read:     p50 {pk50:.2f} ms, p99 {pk99:.2f} ms")
        print(result_line("credit_check_p99_ms", p99, pk99, "p99<10ms", p99 < 10, unit="ms"))


if __name__ == "__main__":
    main()
