"""A customer's balances on a large book: the cost must not grow with the book, only with the customer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/customer_page.py [--invoices N]

Runs in a scratch database created next to DATABASE_URL's and dropped afterwards; the book is the
dunning benchmark's (by default 100,000 customers, 1,000,000 invoices, 200,000 partial payments and
allocations; each customer has about ten invoices).

Measured for 50 customers, each statement run 20 times per customer, median per customer, then the
median over customers (milliseconds):

* ``baseline``: the least any balance read must do: the customer's invoices with their allocations joined
  per invoice, written by hand (one statement, no bucketing);
* ``balances``: ``receivables.selectors.open_items_grouped`` for one customer, the statement behind
  ``customer_balances`` on the customer 360, the collections file and the statement of account;
* ``whole-book shape``: the statement those pages ran before, the same open items joined to the
  organization's allocations summed per invoice (every allocation of the book read to show one
  customer), for scale;
* ``pages``: ``customers.selectors.customer_360`` and ``receivables.collections.collections_file`` for the
  customer, every statement included.

Target: the balances statement within 2x the hand-written baseline (its cost independent of the book's
size; run with ``--invoices 100000 --customers 10000`` to see the same figures on a book ten times
smaller).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any

from _scratch import result_line, scratch_database, setup_django

AS_OF = dt.date(2026, 6, 1)
CUSTOMERS = 50
REPEAT = 20


def median_ms(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    from dunning import build_book

    with scratch_database("bench_customer_page") as url:
        setup_django(url)
        from django.db import connection

        from credit_platform.models import Organization
        from customers.models import Customer
        from customers.selectors import customer_360
        from receivables.collections import collections_file
        from receivables.models import Allocation, Invoice
        from receivables.selectors import open_items_grouped

        org_id = build_book(args.invoices, args.customers)
        org = Organization.objects.get(pk=org_id)
        ids = list(Customer.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True))
        sample = ids[:: max(len(ids) // CUSTOMERS, 1)][:CUSTOMERS]
        inv, alloc = Invoice._meta.db_table, Allocation._meta.db_table
        minimal = f"""
            SELECT i.id, i.amount - coalesce(sum(a.amount), 0)
            FROM {inv} i LEFT JOIN {alloc} a ON a.invoice_id = i.id AND a.allocated_on <= %s
            WHERE i.organization_id = %s AND i.customer_id = %s AND i.issue_date <= %s
            GROUP BY i.id, i.amount HAVING round(i.amount - coalesce(sum(a.amount), 0), 2) > 0"""
        whole_book = f"""
            SELECT i.customer_id, i.currency, sum(round(i.amount - coalesce(a.paid, 0), 2)), count(*)
            FROM {inv} i
            LEFT JOIN (SELECT invoice_id, sum(amount) AS paid FROM {alloc}
                       WHERE organization_id = %s AND allocated_on <= %s GROUP BY invoice_id) a
              ON a.invoice_id = i.id
            WHERE i.organization_id = %s AND i.issue_date <= %s AND i.customer_id = %s
              AND round(i.amount - coalesce(a.paid, 0), 2) > 0
            GROUP BY i.customer_id, i.currency"""

        def run(sql: str, params: list[Any]) -> list[tuple]:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

        per_customer: dict[str, list[float]] = {"baseline": [], "balances": [], "whole": [], "pages": []}
        open_invoices = []
        for cid in sample:
            rows = run(minimal, [AS_OF, org.pk, cid, AS_OF])
            open_invoices.append(len(rows))
            per_customer["baseline"].append(median_ms(lambda cid=cid: run(minimal, [AS_OF, org.pk, cid, AS_OF])))
            per_customer["balances"].append(
                median_ms(lambda cid=cid: open_items_grouped(org, AS_OF, by_customer=True, customer_ids=[cid])))
            per_customer["whole"].append(
                median_ms(lambda cid=cid: run(whole_book, [org.pk, AS_OF, org.pk, AS_OF, cid]), repeat=3))
            customer = Customer.objects.get(pk=cid)
            per_customer["pages"].append(median_ms(
                lambda customer=customer: (customer_360(org, customer, AS_OF),
                                           collections_file(org, customer, AS_OF)), repeat=5))
        sql, params = open_items_sql(org, sample[0])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + sql, params)
            plan = "\n  ".join(r[0] for r in cursor.fetchall())
        figures = {k: statistics.median(v) for k, v in per_customer.items()}
        print(f"book: {Invoice.objects.filter(organization=org).count():,} invoices, "
              f"{Allocation.objects.filter(organization=org).count():,} allocations; {len(sample)} customers with "
              f"{statistics.median(open_invoices):.0f} open invoices each (median)")
        print(f"baseline: hand-written per-invoice join for one customer: {figures['baseline']:.2f} ms")
        print(f"balances: open_items_grouped for one customer: {figures['balances']:.2f} ms")
        print(f"whole-book shape (before): the organization's allocations summed, then joined: "
              f"{figures['whole']:.2f} ms")
        print(f"pages: customer 360 + collections file, every statement: {figures['pages']:.2f} ms")
        print(f"plan of the balances statement:\n  {plan}")
        ratio_ok = figures["balances"] <= 2 * figures["baseline"]
        print(result_line("customer_balances_ms", figures["balances"], figures["baseline"],
                          "<=2x_per-invoice_join_for_one_customer", ratio_ok, unit="ms"))


def open_items_sql(org: Any, customer_id: int) -> tuple[str, list[Any]]:
    """The balances statement of ``open_items_grouped`` for one customer, with its parameters."""
    from receivables.balances import invoice_balances
    from receivables.selectors import _bucket_case

    case, case_params = _bucket_case(AS_OF)
    items = invoice_balances(org.pk, AS_OF, customer_ids=[customer_id])
    sql = (f"SELECT o.customer_id, o.currency, {case} AS bucket, sum(o.open_amount), count(*), min(o.due_date) "
           f"FROM ({items.text}) o GROUP BY o.customer_id, o.currency, bucket")
    return sql, [*case_params, *items.params]


if __name__ == "__main__":
    main()
