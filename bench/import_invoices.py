"""Importing 1,000,000 invoice rows through the product's import (validation included) versus
PostgreSQL's own COPY of the same file, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/import_invoices.py [--rows N]

Runs in a scratch database created next to DATABASE_URL's and dropped afterwards.
Target: the import takes at most 3x the raw COPY.

Two COPY baselines are measured in the same run:

* ``same-shape``: PostgreSQL's COPY of the file into a table shaped like the product's invoice table,
  with the same keys and integrity work: unique (organization, number), an index on the customer
  reference and on (organization, due date), and a foreign key from (organization, customer) to the
  customers. This is "the raw COPY" of the target: the database alone doing the same load.
* ``bare``: COPY into a table with no index and no key; the speed of parsing the file and writing heap
  pages, a floor no indexed table reaches. Printed for reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _scratch import ROOT, result_line, scratch_database, setup_django

OUT = ROOT / "bench" / "out"


def make_files(rows: int, customers: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    OUT.mkdir(parents=True, exist_ok=True)
    cust = pd.DataFrame({
        "external_id": [f"C{i:06d}" for i in range(customers)],
        "legal_name": [f"Customer {i}" for i in range(customers)],
        "country": "DE", "sector": "G", "currency": "EUR", "payment_terms_days": 30,
    })
    cust_path = OUT / "bench_customers.csv"
    cust.to_csv(cust_path, index=False)
    issue = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D")
    inv = pd.DataFrame({
        "number": [f"INV-{i:08d}" for i in range(rows)],
        "customer_external_id": [f"C{i:06d}" for i in rng.integers(0, customers, rows)],
        "issue_date": issue.strftime("%Y-%m-%d"),
        "due_date": (issue + pd.Timedelta(days=30)).strftime("%Y-%m-%d"),
        "amount": np.char.mod("%.2f", np.round(rng.lognormal(7.5, 1.0, rows), 2)),
        "currency": "EUR",
    })
    inv_path = OUT / f"bench_invoices_{rows}.csv"
    inv.to_csv(inv_path, index=False)
    return cust_path, inv_path


def raw_copy_seconds(path: Path, organization_id: int, shape: str) -> float:
    """PostgreSQL's COPY of the same file (header skipped by COPY itself), timed through commit."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_copy")
        cursor.execute(
            f"CREATE TABLE bench_raw_copy (organization_id bigint NOT NULL DEFAULT {int(organization_id)}, "
            "number varchar(64) NOT NULL, customer_external_id varchar(64) NOT NULL, issue_date date NOT NULL, "
            "due_date date NOT NULL, amount numeric(18,2) NOT NULL, currency varchar(3) NOT NULL)"
        )
        if shape == "same-shape":
            cursor.execute("CREATE UNIQUE INDEX ON bench_raw_copy (organization_id, number)")
            cursor.execute("CREATE INDEX ON bench_raw_copy (customer_external_id)")
            cursor.execute("CREATE INDEX ON bench_raw_copy (organization_id, due_date)")
            cursor.execute(
                "ALTER TABLE bench_raw_copy ADD FOREIGN KEY (organization_id, customer_external_id) "
                "REFERENCES customers_customer (organization_id, external_id) DEFERRABLE INITIALLY DEFERRED"
            )
    t = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor, open(path, "rb") as fh, cursor.cursor.copy(
        "COPY bench_raw_copy (number, customer_external_id, issue_date, due_date, amount, currency) "
        "FROM STDIN WITH (FORMAT csv, HEADER true)"
    ) as copy:
        while block := fh.read(1 << 20):
            copy.write(block)
    seconds = time.perf_counter() - t
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_raw_copy")
        n = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_raw_copy")
    print(f"COPY {shape:<11} {n:>9,} rows in {seconds:6.2f}s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args()
    t = time.perf_counter()
    cust_path, inv_path = make_files(args.rows, args.customers)
    size_mb = inv_path.stat().st_size / 1e6
    print(f"files written in {time.perf_counter() - t:.1f}s ({args.rows:,} invoices, {size_mb:.0f} MB)")
    # As in production, follow-up work (re-scoring the customers an import touched) is queued for the
    # workers, not run inside the import: an in-memory broker takes the messages.
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    with scratch_database("bench_import") as url:
        setup_django(url)
        from credit_platform.imports.engine import import_file
        from credit_platform.services import organization_create

        org = organization_create(name="Bench", slug="bench")
        log = import_file(organization=org, kind="customers", path=cust_path)
        assert log.status == "succeeded", log.errors[:3]
        bare = min(raw_copy_seconds(inv_path, org.pk, "bare") for _ in range(2))
        baseline = min(raw_copy_seconds(inv_path, org.pk, "same-shape") for _ in range(2))
        t = time.perf_counter()
        log = import_file(organization=org, kind="invoices", path=inv_path)
        ours = time.perf_counter() - t
        assert log.status == "succeeded", log.errors[:3]
        print(f"product import    {log.created:>9,} rows in {ours:6.2f}s "
              f"({log.rows / ours:,.0f} rows/s, validated, upserted, idempotent)")
        t = time.perf_counter()
        again = import_file(organization=org, kind="invoices", path=inv_path)
        print(f"same file again   {again.unchanged:>9,} unchanged, {again.created} created in "
              f"{time.perf_counter() - t:6.2f}s")
        print(f"import / COPY same-shape: {ours / baseline:.2f}x;  import / COPY bare: {ours / bare:.2f}x  "
              f"(measured {dt.datetime.now():%Y-%m-%d %H:%M})")
        print(result_line("import_seconds", ours, baseline, "import<=3x_COPY_same-shape_table", ours <= 3 * baseline))


if __name__ == "__main__":
    main()
