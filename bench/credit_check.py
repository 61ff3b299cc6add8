"""The order credit check through the service on a large book, beside a single primary-key read measured
in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/credit_check.py \\
        [--checks N] [--rounds R] [--keep | --reuse NAME]

Runs in a scratch database created next to DATABASE_URL's and dropped afterwards. Building the book takes
a few minutes: ``--keep`` leaves the scratch database in place (its name is printed) and ``--reuse NAME``
measures on such a database without building it again (the checks written by earlier runs are deleted
first; ``dropdb -h 127.0.0.1 -U postgres NAME`` when done).

The book: the dunning benchmark's 100,000 customers (10% in USD) with 900,000 open invoices (20% partly
paid) plus 100,000 open orders: 1,000,000 open invoices and orders. Every customer has a limit decided (a
dated decision), 5,000 customers belong to 1,000 groups with a shared limit. Half of the customers (drawn
at random) are **clean**: their invoices are not yet due (moved to fall due in the next 30 days) and their
limit is twice their invoiced and ordered total plus 10,000, so an order of theirs is released unless
their group's shared limit is exceeded; the other half keep the dunning book's invoices, due up to 150
days ago, so nearly every order of theirs is held for overdue (and often over limit); 1% of them are on a
dunning hold. Without the clean half 99.5% of the checks were held and the released path went unmeasured.

Measured in ``--rounds`` rounds (default 3), each for ``--checks`` orders of random customers (default
2,000; another sample each round), one at a time as an order system calls it:
``limits.checks.credit_check`` at the confirmation checkpoint, recorded (the held ones go to the queue),
through commit; and, for the same customers, ``Customer.objects.get(pk=...)`` (the least any request does).
Reported per round and as the median of the rounds: p50 and p99 of all checks, of the released and of the
held checks (with their counts), of the primary-key read, and checks per second.

Target: p99 of the credit check (all checks) under 10 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from typing import Any

import numpy as np
import pandas as pd
from _scratch import result_line, scratch_database, setup_django

AS_OF = dt.date(2026, 6, 1)
CLEAN_SHARE = 0.5


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def add_credit(org_id: int, orders: int) -> None:
    """Open orders, limits as decisions, groups with shared limits, a few holds: all by COPY; then the
    clean half of the customers (not yet due, headroom under their limit)."""
    from django.db import connection

    from credit_platform.bulk import insert_frame
    from customers.models import Customer, CustomerGroup
    from limits.models import GroupLimit, Hold, LimitDecision
    from limits.services import policy_ensure_default
    from receivables.models import Invoice, Order

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
    clean = rng.random(n) < CLEAN_SHARE
    risky = np.flatnonzero(~clean)
    held = customers["id"].to_numpy()[rng.choice(risky, n // 100, replace=False)]
    insert_frame(Hold._meta.db_table, pd.DataFrame({
        "organization_id": org_id, "customer_id": held, "kind": "hold", "source": "dunning",
        "reason": "bench", "placed_on": "2026-05-01", "release_reason": "", "release_code": "",
        "release_details": "{}"}))
    inv, dec, cus, ords = (connection.ops.quote_name(m._meta.db_table)
                           for m in (Invoice, LimitDecision, Customer, Order))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_clean (customer_id bigint PRIMARY KEY)")
        cursor.executemany("INSERT INTO bench_clean VALUES (%s)", [(int(c),) for c in customers["id"][clean]])
        # not yet due: due in 1..30 days (issued 30 days before), so nothing of theirs is overdue
        cursor.execute(
            f"""UPDATE {inv} i SET due_date = %s::date + (1 + i.id %% 30)::int,
                                   issue_date = %s::date + (1 + i.id %% 30)::int - 30
                FROM bench_clean b WHERE b.customer_id = i.customer_id""", [AS_OF, AS_OF])
        # headroom: twice what they were invoiced and ordered, plus 10,000, in thousands
        invoiced = f"(SELECT sum(amount) FROM {inv} i WHERE i.customer_id = b.customer_id)"
        ordered = f"(SELECT sum(amount) FROM {ords} o WHERE o.customer_id = b.customer_id AND o.status = 'open')"
        cursor.execute(
            f"""UPDATE {dec} d SET "limit" = t.lim, limit_base = t.lim
                FROM (SELECT b.customer_id,
                             ceil((2 * (coalesce({invoiced}, 0) + coalesce({ordered}, 0)) + 10000) / 1000) * 1000 AS lim
                      FROM bench_clean b) t
                WHERE d.customer_id = t.customer_id""")
        cursor.execute(
            f"""UPDATE {cus} c SET credit_limit = d."limit" FROM {dec} d
                WHERE d.customer_id = c.id AND c.organization_id = %s""", [org_id])
        cursor.execute("DROP TABLE bench_clean")
        cursor.execute("VACUUM ANALYZE")


def measure_round(org: Any, customer_ids: list[int], checks: int, seed: int) -> dict[str, Any]:
    from customers.models import Customer
    from limits.checks import credit_check
    from limits.services import policy_current

    rng = np.random.default_rng(seed)
    sample = [int(customer_ids[i]) for i in rng.integers(0, len(customer_ids), checks)]
    amounts = np.round(rng.lognormal(7.0, 1.0, checks) + 10, 2)
    policy = policy_current(org)
    for cid in sample[:50]:  # warm the connection and the caches of PostgreSQL
        Customer.objects.get(pk=cid)
        credit_check(org, customer=cid, amount=amounts[0], currency="EUR", checkpoint="confirmation",
                     as_of=AS_OF, record=False, policy=policy)
    pk_ms: list[float] = []
    for cid in sample:
        t0 = time.perf_counter()
        Customer.objects.get(pk=cid)
        pk_ms.append((time.perf_counter() - t0) * 1000)
    released_ms: list[float] = []
    held_ms: list[float] = []
    t_all = time.perf_counter()
    for cid, amount in zip(sample, amounts, strict=True):
        t0 = time.perf_counter()
        result = credit_check(org, customer=cid, amount=amount, currency="EUR", checkpoint="confirmation",
                              as_of=AS_OF)
        ms = (time.perf_counter() - t0) * 1000
        (held_ms if result.outcome == "hold" else released_ms).append(ms)
    elapsed = time.perf_counter() - t_all
    all_ms = released_ms + held_ms
    return {
        "per_s": len(sample) / elapsed, "n": len(all_ms), "released": len(released_ms), "held": len(held_ms),
        "all_p50": statistics.median(all_ms), "all_p99": pct(all_ms, 0.99), "all_max": max(all_ms),
        "rel_p50": statistics.median(released_ms) if released_ms else float("nan"),
        "rel_p99": pct(released_ms, 0.99),
        "held_p50": statistics.median(held_ms) if held_ms else float("nan"), "held_p99": pct(held_ms, 0.99),
        "pk_p50": statistics.median(pk_ms), "pk_p99": pct(pk_ms, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=900_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument("--keep", action="store_true", help="keep the scratch database (its name is printed)")
    keep.add_argument("--reuse", metavar="NAME", help="measure on a database kept by --keep (no build)")
    args = parser.parse_args()
    from dunning import build_book

    with scratch_database("bench_credit_check", keep=args.keep, reuse=args.reuse) as url:
        setup_django(url)
        from django.db import connection

        from credit_platform.models import Organization
        from customers.models import Customer
        from limits.models import OrderCheck

        if args.reuse:
            org = Organization.objects.get(slug="bench")
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {connection.ops.quote_name(OrderCheck._meta.db_table)}")
            print(f"reusing {args.reuse}: the book of an earlier run, its checks deleted")
        else:
            t = time.perf_counter()
            org_id = build_book(args.invoices, args.customers)
            add_credit(org_id, args.orders)
            print(f"book built in {time.perf_counter() - t:.0f}s: {args.customers:,} customers, "
                  f"{args.invoices:,} open invoices + {args.orders:,} open orders, {CLEAN_SHARE:.0%} clean")
            org = Organization.objects.get(pk=org_id)
        ids = list(Customer.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True))
        rounds = []
        print("round | checks/s | released | held | all p50 | all p99 | released p50 | released p99 | "
              "held p50 | held p99 | PK p50 | PK p99   (ms)")
        for k in range(args.rounds):
            r = measure_round(org, ids, args.checks, seed=3 + k)
            rounds.append(r)
            print(f"{k + 1} | {r['per_s']:.0f} | {r['released']} | {r['held']} | {r['all_p50']:.2f} | "
                  f"{r['all_p99']:.2f} | {r['rel_p50']:.2f} | {r['rel_p99']:.2f} | {r['held_p50']:.2f} | "
                  f"{r['held_p99']:.2f} | {r['pk_p50']:.2f} | {r['pk_p99']:.2f}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM limits_ordercheck WHERE queue = 'held'")  # held ones only
            queued = cursor.fetchone()[0]

        def med(key: str) -> float:
            return statistics.median(r[key] for r in rounds)

        print(f"median of {len(rounds)} rounds of {args.checks:,} checks ({queued:,} held orders in the queue):")
        print(f"  all checks:        p50 {med('all_p50'):.2f} ms, p99 {med('all_p99'):.2f} ms "
              f"({med('per_s'):.0f} checks/s)")
        print(f"  released checks:   p50 {med('rel_p50'):.2f} ms, p99 {med('rel_p99'):.2f} ms "
              f"(n={med('released'):.0f})")
        print(f"  held checks:       p50 {med('held_p50'):.2f} ms, p99 {med('held_p99'):.2f} ms "
              f"(n={med('held'):.0f})")
        print(f"  primary-key read:  p50 {med('pk_p50'):.2f} ms, p99 {med('pk_p99'):.2f} ms")
        p99 = med("all_p99")
        print(result_line("credit_check_p99_ms", p99, med("pk_p99"), "p99<10ms", p99 < 10, unit="ms"))


if __name__ == "__main__":
    main()
