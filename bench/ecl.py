"""The ECL page's computation (reserve now and at the previous month-end, each with its 12-step
provision-matrix history) over 1,000,000 invoices on PostgreSQL, beside one aging read of the same
book, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/ecl.py [--invoices N]

Runs in a scratch database created next to DATABASE_URL's and dropped afterwards; the book is the
dunning benchmark's (100,000 customers, 1,000,000 invoices, 200,000 partial payments and allocations)
plus 1,000 customers in default (provisioned individually) and the segmentation by country.

Measured (best of 3 each):

* ``baseline``: one aging read of the book as of the date (``receivables.selectors.open_items_grouped``,
  open balance per currency and bucket): the least any reserve computation must read;
* ``movement``: ``receivables.ecl.ecl_movement`` as the page calls it, 26 history dates
  (2 x 13) read in one statement, then the matrices, reserves and movement in Python;
* ``per date``: the same 26 dates read one statement per date (what the page did before), for scale.

Target: the movement within 4x one aging read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any

from _scratch import result_line, scratch_database, setup_django

AS_OF = dt.date(2026, 6, 1)


def best_of(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    from dunning import build_book

    with scratch_database("bench_ecl") as url:
        setup_django(url)
        from django.db import connection

        from credit_platform.models import Organization
        from customers.models import Customer
        from receivables import ecl
        from receivables.models import EclSettings
        from receivables.selectors import open_items_grouped

        org_id = build_book(args.invoices, args.customers)
        org = Organization.objects.get(pk=org_id)
        ids = list(Customer.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True))
        Customer.objects.filter(pk__in=ids[::100]).update(status=Customer.Status.IN_DEFAULT)
        EclSettings.objects.create(organization=org, lookback_periods=12, segment_by="country")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        base, aging = best_of(lambda: open_items_grouped(org, AS_OF, by_customer=False))
        print(f"baseline: one aging read of the book: {base:.2f}s ({len(aging)} currency x bucket rows)")
        moved, move = best_of(lambda: ecl.ecl_movement(org, AS_OF))
        print(
            f"movement: {moved:.2f}s (reserve {move.opening.total:,.2f} at {move.opening_date} -> "
            f"{move.closing.total:,.2f} at {move.closing_date})"
        )
        settings = ecl.settings_for(org)
        dates = ecl.history_dates(ecl.previous_month_end(AS_OF), 12) + ecl.history_dates(AS_OF, 12)
        t = time.perf_counter()
        separate = {d: ecl.raw_balances(org, [d], settings.segment_by)[d] for d in dates}
        per_date = time.perf_counter() - t
        together = ecl.raw_balances(org, dates, settings.segment_by)
        assert all(separate[d] == together[d] for d in dates), "one statement and per-date reads disagree"
        print(f"per date: the same {len(set(dates))} dates read one statement each: {per_date:.2f}s")

    print(result_line("ecl_movement_s", moved, base, "<=4x_one_aging_read", moved <= 4 * base, "s"))


if __name__ == "__main__":
    main()
