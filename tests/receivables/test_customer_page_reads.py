"""A customer's pages read that customer's rows, not the book: the cost of the customer 360, the
collections file and the statement does not grow with the other customers' invoices and allocations
(the open items used to join a subquery summing the whole organization's allocations: 208,000 rows to
show five open invoices)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit_platform.bulk import insert_frame
from customers.models import Customer
from customers.selectors import customer_360
from receivables.balances import invoice_balances
from receivables.collections import collections_file
from receivables.models import Allocation, Invoice, Payment
from receivables.selectors import customer_balances
from receivables.statements import statement_build
from tests.factories import CustomerFactory

from .conftest import D, invoice, pay

pytestmark = pytest.mark.django_db

AS_OF = D(2026, 6, 30)
OTHERS, PER_CUSTOMER = 400, 25  # 10,000 other invoices and allocations


def other_customers_book(org: Any) -> None:
    """400 other customers with 25 invoices each, every invoice partly paid: 10,000 allocations."""
    Customer.objects.bulk_create([
        Customer(organization=org, external_id=f"O{k:04d}", legal_name=f"Other {k}", country_id="DE",
                 sector_id="C", currency="EUR") for k in range(OTHERS)])
    ids = np.repeat(np.array(sorted(Customer.objects.filter(organization=org, external_id__startswith="O")
                                    .values_list("pk", flat=True))), PER_CUSTOMER)
    n = len(ids)
    issued = pd.Timestamp(AS_OF) - pd.to_timedelta(np.arange(n) % 300, unit="D")
    insert_frame(Invoice._meta.db_table, pd.DataFrame({
        "organization_id": org.pk, "customer_id": ids, "number": [f"O-{k:06d}" for k in range(n)],
        "issue_date": issued, "due_date": issued + pd.Timedelta(days=30), "amount": "100.00", "currency": "EUR"}))
    insert_frame(Payment._meta.db_table, pd.DataFrame({
        "organization_id": org.pk, "customer_id": ids, "reference": [f"OP-{k:06d}" for k in range(n)],
        "received_on": issued, "amount": "40.00", "currency": "EUR", "method": "transfer"}))
    invoices = Invoice.objects.filter(organization=org, number__startswith="O-").order_by("number")
    payments = Payment.objects.filter(organization=org, reference__startswith="OP-").order_by("reference")
    insert_frame(Allocation._meta.db_table, pd.DataFrame({
        "organization_id": org.pk, "invoice_id": list(invoices.values_list("pk", flat=True)),
        "payment_id": list(payments.values_list("pk", flat=True)), "amount": "40.00", "allocated_on": issued}))


@pytest.fixture
def customer(org: Any) -> Any:
    other_customers_book(org)
    c = CustomerFactory(organization=org)
    for k in range(5):
        inv = invoice(c, "500.00", D(2026, 4, 1) + dt.timedelta(days=k), D(2026, 5, 1) + dt.timedelta(days=k))
        pay(inv, "100.00", D(2026, 5, 10))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    return c


def allocation_rows_read(plan: dict[str, Any]) -> int:
    """Rows the plan read from the allocation table (returned or removed by a filter, per loop)."""
    read = 0
    if plan.get("Relation Name") == Allocation._meta.db_table:
        per_loop = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
                    + plan.get("Rows Removed by Index Recheck", 0))
        read += per_loop * plan.get("Actual Loops", 1)
    return read + sum(allocation_rows_read(p) for p in plan.get("Plans", []))


@pytest.mark.postgres
def test_a_customers_pages_read_only_that_customers_allocations(org, customer):
    """On PostgreSQL, with 10,000 allocations of 400 other customers in the book, each reference to the
    allocation table in the statements of the customer 360, the collections file and the statement of
    account reads at most this customer's 5 allocations (a queryset that filters on the open amount and
    selects it evaluates the allocations of each of its invoices twice)."""
    with CaptureQueriesContext(connection) as captured:
        page = customer_360(org, customer, AS_OF)
        collections_file(org, customer, AS_OF)
        statement_build(org, customer, AS_OF)
    assert page["balance"].open == Decimal("2000.00") and len(page["open_invoices"]) == 5
    reading = [q["sql"] for q in captured.captured_queries if Allocation._meta.db_table in q["sql"]]
    assert len(reading) >= 5  # balances and open items of each page
    with connection.cursor() as cursor:
        for sql in reading:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            raw = cursor.fetchone()[0]
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            references = sql.count(f'"{Allocation._meta.db_table}"')
            assert 1 <= references <= 2 and allocation_rows_read(plan) <= 5 * references, sql


def test_a_customers_balance_statement_looks_up_allocations_by_invoice(org, customer):
    """The balance statement for named customers joins allocations per invoice (through the allocation's
    invoice index), so it cannot aggregate the organization's allocations, whatever the database."""
    sql = invoice_balances(org.pk, AS_OF, customer_ids=[customer.pk])
    assert "GROUP BY a.invoice_id" not in sql.text  # the whole-book shape sums every allocation first
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql.text}", sql.params)
            plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
            assert "SCAN a" not in plan and "USING INDEX" in plan, plan
    assert customer_balances(org, AS_OF, [customer.pk])[customer.pk].open == Decimal("2000.00")
