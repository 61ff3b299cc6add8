"""The daily dunning run over 1,000,000 open invoices on PostgreSQL, beside one SQL query selecting the
same due invoices, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/dunning.py [--invoices N]

Runs in a scratch database created next to DATABASE_URL's and dropped afterwards. The book: 100,000
customers (10% invoicing in USD), 1,000,000 open invoices due from 150 days ago to 30 days ahead, 20% of
them partly paid (200,000 payments and allocations), 2,000 open disputes, 2,000 open promises, 1,000
customers on the do-not-dun list, the default five-level policy with a 20.00 threshold.

Measured, in this order:

* ``baseline``: the run's due-invoices statement (open balances from invoices minus allocations, the
  highest level reached, exceptions, the anti-join against levels already fired) executed as one
  SELECT whose rows are fetched by the client: what "select the due invoices" costs the database.
* ``first run``: ``dunning_run`` for a book that was never dunned: every open invoice that reached a
  level gets its highest level (the catch-up rule), ~850,000 actions, one outbox message per customer,
  tasks, credit holds, the audit entries (one per chunk, one per customer put on hold), in chunks of
  5,000 customers, through commit.
* ``next day``: the run of the following day, when only the invoices crossing a level that day fire.
* ``outbox``: rendering and sending 5,000 of the messages through Django's locmem e-mail backend
  (sending is after commit, outside the run).

Target: the first run under 60 s and under 10x the baseline query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import pandas as pd
from _scratch import result_line, scratch_database, setup_django

RUN_DATE = dt.date(2026, 6, 1)


def build_book(invoices: int, customers: int) -> int:
    from django.db import connection

    from credit_platform.bulk import insert_frame
    from credit_platform.models import FXRate
    from credit_platform.services import organization_create
    from customers.models import Customer
    from receivables.dunning.policy import dunning_policy_ensure_default
    from receivables.models import (
        Allocation,
        CollectionProfile,
        Dispute,
        DunningPolicy,
        Invoice,
        Payment,
        PromiseInvoice,
        PromiseToPay,
    )

    rng = np.random.default_rng(7)
    org = organization_create(name="Bench", slug="bench")
    dunning_policy_ensure_default(org)
    DunningPolicy.objects.filter(organization=org).update(min_amount="20.00")
    FXRate.objects.create(organization=org, currency="USD", rate_date=dt.date(2026, 1, 1), rate="0.92")
    t = time.perf_counter()
    usd = rng.random(customers) < 0.10
    insert_frame(
        Customer._meta.db_table,
        pd.DataFrame(
            {
                "organization_id": org.pk,
                "external_id": [f"C{i:06d}" for i in range(customers)],
                "legal_name": [f"Customer {i}" for i in range(customers)],
                "registration_number": "",
                "country_id": "DE",
                "sector_id": "G",
                "size": "small",
                "currency": np.where(usd, "USD", "EUR"),
                "payment_terms_days": 30,
                "status": "active",
                "email": [f"ap{i}@example.com" for i in range(customers)],
                "phone": "",
                "address": "",
            }
        ),
    )
    ids = np.array(sorted(Customer.objects.filter(organization=org).values_list("pk", flat=True)))
    cust = rng.integers(0, customers, invoices)
    due = pd.Timestamp(RUN_DATE) + pd.to_timedelta(rng.integers(-150, 31, invoices), unit="D")
    amount = np.round(rng.lognormal(7.0, 1.0, invoices) + 10, 2)
    insert_frame(
        Invoice._meta.db_table,
        pd.DataFrame(
            {
                "organization_id": org.pk,
                "customer_id": ids[cust],
                "number": [f"INV-{i:08d}" for i in range(invoices)],
                "issue_date": due - pd.Timedelta(days=30),
                "due_date": due,
                "amount": np.char.mod("%.2f", amount),
                "currency": np.where(usd[cust], "USD", "EUR"),
            }
        ),
    )
    inv_ids = np.array(sorted(Invoice.objects.filter(organization=org).values_list("pk", flat=True)))
    partial = np.flatnonzero(rng.random(invoices) < 0.20)
    paid = np.round(amount[partial] * rng.uniform(0.1, 0.9, len(partial)), 2)
    paid_on = (due[partial] - pd.Timedelta(days=5)).strftime("%Y-%m-%d")
    insert_frame(
        Payment._meta.db_table,
        pd.DataFrame(
            {
                "organization_id": org.pk,
                "customer_id": ids[cust[partial]],
                "reference": [f"PAY-{i:08d}" for i in range(len(partial))],
                "received_on": paid_on,
                "amount": np.char.mod("%.2f", paid),
                "currency": np.where(usd[cust[partial]], "USD", "EUR"),
                "method": "transfer",
            }
        ),
    )
    pay_ids = np.array(sorted(Payment.objects.filter(organization=org).values_list("pk", flat=True)))
    insert_frame(
        Allocation._meta.db_table,
        pd.DataFrame(
            {
                "organization_id": org.pk,
                "invoice_id": inv_ids[partial],
                "payment_id": pay_ids,
                "amount": np.char.mod("%.2f", paid),
                "allocated_on": paid_on,
            }
        ),
    )
    some = rng.choice(invoices, 4000, replace=False)
    Dispute.objects.bulk_create(
        [
            Dispute(
                organization=org,
                invoice_id=int(inv_ids[k]),
                customer_id=int(ids[cust[k]]),
                reason="quality",
                opened_on=RUN_DATE - dt.timedelta(days=3),
            )
            for k in some[:2000]
        ]
    )
    promises = PromiseToPay.objects.bulk_create(
        [
            PromiseToPay(
                organization=org,
                customer_id=int(ids[cust[k]]),
                made_on=RUN_DATE - dt.timedelta(days=3),
                promised_date=RUN_DATE + dt.timedelta(days=7),
                amount="100.00",
                currency="EUR",
            )
            for k in some[2000:]
        ]
    )
    PromiseInvoice.objects.bulk_create(  # each promise covers the one invoice it was made for
        [
            PromiseInvoice(organization=org, promise=p, invoice_id=int(inv_ids[k]), open_amount="100.00")
            for p, k in zip(promises, some[2000:], strict=True)
        ]
    )
    CollectionProfile.objects.bulk_create(
        [
            CollectionProfile(organization=org, customer_id=int(c), do_not_dun=True)
            for c in rng.choice(ids, 1000, replace=False)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"book: {customers:,} customers, {invoices:,} open invoices, {len(partial):,} partial payments "
        f"written in {time.perf_counter() - t:.1f}s"
    )
    return org.pk


def baseline(org_id: int) -> tuple[float, int, int, str]:
    """One SELECT of the due invoices, rows fetched (the stages it reads are the run's own 5 + 2 rows)."""
    from django.db import connection, transaction

    from credit_platform.models import Organization
    from receivables.dunning import run as run_mod
    from receivables.models import DunningPolicy

    org = Organization.objects.get(pk=org_id)
    policy = DunningPolicy.objects.get(organization=org, is_default=True)
    with transaction.atomic():
        levels = run_mod.stage_levels(org, RUN_DATE)
        run_mod.stage_fx(org, RUN_DATE)
        sql, params = run_mod.due_select(org, RUN_DATE, policy.pk, max(levels["reach_due"]))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(r[0] for r in cursor.fetchall())
            best = counted = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                best = min(best, time.perf_counter() - t)
                t = time.perf_counter()
                cursor.execute(f"SELECT count(*) FROM ({sql}) q", params)
                cursor.fetchall()
                counted = min(counted, time.perf_counter() - t)
        run_mod.drop_stages()
    due = sum(1 for r in rows if r[5] == "")
    print(
        f"baseline variant: the same statement counted on the server (no rows to the client): {counted:.2f}s"
    )
    return best, len(rows), due, plan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    with scratch_database("bench_dunning") as url:
        setup_django(url)
        from django.conf import settings
        from django.core import mail

        from credit_platform.models import AuditEntry, Organization
        from receivables import tasks
        from receivables.dunning.outbox import dunning_outbox_send
        from receivables.dunning.run import dunning_run
        from receivables.models import CollectionTask, DunningAction, DunningMessage

        tasks.dunning_send_outbox.delay = lambda *a, **k: None  # the outbox is timed on its own below
        org_id = build_book(args.invoices, args.customers)
        org = Organization.objects.get(pk=org_id)

        base, candidates, due, plan = baseline(org_id)
        print(
            f"baseline: one SELECT of the due invoices: {base:.2f}s ({candidates:,} rows reached a level, "
            f"{due:,} without an exception)"
        )
        print("plan of the due-invoices statement:\n  " + "\n  ".join(plan.splitlines()))

        t = time.perf_counter()
        run = dunning_run(organization=org, run_date=RUN_DATE)
        first = time.perf_counter() - t
        assert run is not None and run.status == "completed"
        actions = DunningAction.objects.filter(organization=org).count()
        assert actions == due == run.actions, (actions, due, run.actions)
        print(
            f"first run: {first:.2f}s: {run.actions:,} actions, {run.messages:,} messages, "
            f"{run.tasks:,} tasks, "
            f"{run.holds:,} credit holds, skipped {run.skipped}, "
            f"{AuditEntry.objects.filter(organization=org, action='dunning.actions').count()} chunk audit entries, "
            f"{AuditEntry.objects.filter(organization=org, action='customer.status_changed').count():,} "
            "credit-hold audit entries"
        )

        t = time.perf_counter()
        again = dunning_run(organization=org, run_date=RUN_DATE)
        same_day = time.perf_counter() - t
        assert again.pk == run.pk and DunningAction.objects.filter(organization=org).count() == actions
        print(f"same day again: {same_day:.3f}s, nothing added")

        t = time.perf_counter()
        nxt = dunning_run(organization=org, run_date=RUN_DATE + dt.timedelta(days=1))
        next_day = time.perf_counter() - t
        print(f"next day: {next_day:.2f}s: {nxt.actions:,} actions, {nxt.messages:,} messages")

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        mail.outbox = []
        t = time.perf_counter()
        sent = dunning_outbox_send(org, limit=5000).sent
        outbox = time.perf_counter() - t
        print(
            f"outbox: {sent:,} messages rendered and sent (locmem backend) in {outbox:.2f}s "
            f"({sent / outbox:,.0f}/s); "
            f"{DunningMessage.objects.filter(status='pending').count():,} left pending"
        )
        print(f"tasks open: {CollectionTask.objects.filter(organization=org).count():,}")
        print(
            result_line(
                "dunning_first_run_s",
                first,
                base,
                "<60s and <10x",
                first < 60 and first < 10 * base,
                unit="s",
            )
        )


if __name__ == "__main__":
    main()
