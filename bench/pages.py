"""Server time of the credit officer's main pages on the demo book, with production settings.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/pages.py [--customers N --invoices N]

Runs in a scratch database created next to DATABASE_URL's and dropped afterwards. The book is the demo's
(``credit_platform.demo``: by default 2,000 customers and 200,000 invoices, scored by the expert
scorecard). Settings are ``credit_platform.settings.production`` (DEBUG off, persistent connections,
WhiteNoise's manifest storage after ``collectstatic``); each page is requested through Django's test
client as a credit officer, once to warm up and then five times; the median is reported (milliseconds).

As in production, the nightly run has kept the open balances at the past dates of the ECL history
(``receivables.history``) before the pages are measured; the ECL page's first view without them is
printed too (not a target).

Pages: the overview, the customers list (default sort and sorted by PD), the customer 360 of a typical
customer (the median number of invoices) and of the largest (most invoices), Aging & DSO, ECL. Then the
book is made ten times larger (the organization's customers, invoices, payments, allocations, orders,
credit notes, statements, signals and scores copied nine times with new ids, in SQL) and the customer 360
of the same typical customer is measured again.

Targets (issue 11): overview, lists and customer 360 under 300 ms; Aging & DSO and ECL under 500 ms; the
customer 360 on the ten-times book within 1.5x of the demo's. The RESULT line's figure is the 360 on the
larger book, its baseline the 360 on the demo book.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from typing import Any

from _scratch import ROOT, result_line, scratch_database, setup_django

AS_OF = dt.date(2026, 11, 30)
REPEAT = 5
TARGETS_MS = {"overview": 300, "customers": 300, "customers_by_pd": 300, "customer_360_typical": 300,
              "customer_360_largest": 300, "aging_dso": 500, "ecl": 500}


def median_ms(client: Any, url: str) -> float:
    response = client.get(url, secure=True)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        response = client.get(url, secure=True)
        times.append(time.perf_counter() - t)
        assert response.status_code == 200, url
    return statistics.median(times) * 1000


def grow_book(org_id: int, copies: int) -> None:
    """Copy the organization's book ``copies`` times inside the organization, in SQL: every id shifted by
    a multiple of the table's largest id, unique numbers suffixed; the copies are new customers with the
    same history shape."""
    from django.db import connection, transaction

    from customers.models import Customer, ExternalSignal, FinancialStatement
    from receivables.models import Allocation, CreditNote, Invoice, Order, Payment
    from scoring.models import CurrentScore, GradeChange, Score

    # parents before children; the foreign keys are checked at commit (PostgreSQL: deferred)
    tables = [Customer, Order, Invoice, Payment, CreditNote, Allocation, FinancialStatement, ExternalSignal,
              Score, CurrentScore, GradeChange]
    suffixed = {"external_id", "number", "reference"}
    with transaction.atomic(), connection.cursor() as cursor:
        offsets = {}
        for model in tables:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {model._meta.db_table}")
            offsets[model] = cursor.fetchone()[0] + 1
        for k in range(1, copies + 1):
            for model in tables:
                columns, values = [], []
                for field in model._meta.concrete_fields:
                    column = field.column
                    columns.append(column)
                    target = field.related_model if field.is_relation else None
                    if field.primary_key:
                        values.append(f"{column} + {k * offsets[model]}")
                    elif target in offsets and target is not model:
                        values.append(f"{column} + {k * offsets[target]}")
                    elif column in suffixed:
                        values.append(f"{column} || '-{k}'")
                    else:
                        values.append(column)
                cursor.execute(
                    f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
                    f"SELECT {', '.join(values)} FROM {model._meta.db_table} "
                    f"WHERE organization_id = %s AND id < %s", [org_id, offsets[model]])
        for model in tables:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), "
                           f"(SELECT max(id) FROM {model._meta.db_table}))")
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--copies", type=int, default=9, help="copies added for the larger book (9: ten times)")
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "credit_platform.settings.production"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
    with scratch_database("bench_pages") as url:
        setup_django(url)
        from django.core.management import call_command
        from django.db.models import Count
        from django.test import Client
        from django.urls import reverse

        from credit_platform.demo.generator import DemoConfig, generate
        from credit_platform.demo.loader import load_portfolio
        from credit_platform.models import Organization
        from credit_platform.roles import Role
        from credit_platform.services import membership_grant
        from customers.models import Customer
        from receivables.history import balance_snapshots_refresh
        from receivables.models import BalanceSnapshot, Invoice
        from scoring.services import score_customers, scoring_setup

        call_command("collectstatic", interactive=False, verbosity=0)
        t = time.perf_counter()
        org = Organization.objects.create(name="Demo Trading GmbH", slug="demo", base_currency="EUR",
                                          time_zone="UTC")
        load_portfolio(org, generate(DemoConfig(customers=args.customers, invoices=args.invoices, seed=42,
                                                as_of=AS_OF)))
        scoring_setup(organization=org)
        score_customers(organization=org, as_of=AS_OF)
        t_night = time.perf_counter()
        kept = balance_snapshots_refresh(org, AS_OF)  # the nightly run's step after the dunning run
        night = time.perf_counter() - t_night
        print(f"demo book loaded and scored in {time.perf_counter() - t:.1f}s: "
              f"{Customer.objects.filter(organization=org).count():,} customers, "
              f"{Invoice.objects.filter(organization=org).count():,} invoices")
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user("bench-officer", password="bench-pw-123456")  # noqa: S106
        membership_grant(organization=org, user=user, role=Role.CREDIT_OFFICER)
        client = Client()
        client.force_login(user)

        counts = sorted(Invoice.objects.filter(organization=org).values("customer_id").annotate(n=Count("id"))
                        .values_list("n", "customer_id"))
        typical, largest = counts[len(counts) // 2][1], counts[-1][1]
        q = f"?as_of={AS_OF.isoformat()}"
        pages = {
            "overview": reverse("home") + q,
            "customers": reverse("customer-list") + q,
            "customers_by_pd": reverse("customer-list") + q + "&sort=-pd",
            "customer_360_typical": reverse("customer-detail", args=[typical]) + q,
            "customer_360_largest": reverse("customer-detail", args=[largest]) + q,
            "aging_dso": reverse("collections-overview") + q,
            "ecl": reverse("collections-ecl") + q,
        }
        figures = {name: median_ms(client, url) for name, url in pages.items()}
        for name, ms in figures.items():
            print(f"{name:22s} {ms:8.1f} ms  (target < {TARGETS_MS[name]} ms)")
        print(f"(the nightly run kept the balances of {kept} past dates for the ECL history in {night:.1f}s)")
        BalanceSnapshot.objects.filter(organization=org).delete()
        t = time.perf_counter()
        client.get(pages["ecl"], secure=True)  # no snapshot kept: reads the history, keeps it
        cold = (time.perf_counter() - t) * 1000
        print(f"ecl without the nightly snapshots (first view reads two years of history) {cold:8.1f} ms")
        t = time.perf_counter()
        grow_book(org.pk, args.copies)
        print(f"book grown to {Invoice.objects.filter(organization=org).count():,} invoices, "
              f"{Customer.objects.filter(organization=org).count():,} customers in {time.perf_counter() - t:.1f}s")
        larger = median_ms(client, pages["customer_360_typical"])
        print(f"customer_360_typical on the larger book {larger:8.1f} ms")
        under = all(ms < TARGETS_MS[name] for name, ms in figures.items())
        baseline = figures["customer_360_typical"]
        print(result_line("customer_360_10x_ms", larger, baseline,
                          "pages<300ms&aging_ecl<500ms&360_10x<=1.5x", under and larger <= 1.5 * baseline, unit="ms"))


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
