"""Applying payments and credit notes to invoices.

A source names its invoice (explicit allocation: only that invoice, the rest stays on account) or
none (oldest first: the customer's open invoices in the same currency by due date). Amounts are
Decimal end to end. The open balances are read with one query; allocations are written with one
bulk insert. Callers hold the organization's allocation lock, so two writers never spend the same
open balance twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.db import connection

from credit_platform.bulk import advisory_lock, create_stage, drop_stage, insert_frame
from credit_platform.money import money

from .balances import invoice_balances
from .models import Allocation

ZERO = Decimal("0")


@dataclass(frozen=True)
class Source:
    kind: str  # "payment" or "credit_note"
    id: int
    customer_id: int
    currency: str
    date: dt.date
    amount: Decimal
    invoice_id: int | None = None


@dataclass
class AllocationResult:
    allocations: int = 0
    allocated: Decimal = ZERO
    unapplied: Decimal = ZERO


def lock_allocations(organization_id: int) -> None:
    advisory_lock(f"allocations:{organization_id}")


def _open_invoices(organization_id: int, customer_ids: set[int]) -> pd.DataFrame:
    """The open invoices of these customers with their open amounts, everything recorded counted
    (``receivables.balances`` without a date: an invoice issued later than the payment can still be
    paid by it, the allocation is then dated on the invoice's issue date). The customers go through a
    stage table (an import may name 100,000 of them: more than a statement takes parameters); the
    per-invoice shape reads only their invoices and those invoices' allocations."""
    stage = "stage_alloc_customers"
    create_stage(stage, {"customer_id": "bigint PRIMARY KEY"})
    insert_frame(stage, pd.DataFrame({"customer_id": sorted(customer_ids)}))
    items = invoice_balances(organization_id, None, customer_table=stage)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT invoice_id, customer_id, currency, issue_date, due_date, open_amount FROM ({items.text}) o",  # noqa: S608
            list(items.params),
        )
        invoices = pd.DataFrame(cursor.fetchall(),
                                columns=["id", "customer_id", "currency", "issue_date", "due_date", "open"])
    drop_stage(stage)
    # SQLite returns NUMERIC as floats; the amount is already rounded to the cent, money() makes it exact.
    invoices["open"] = [money(str(v)) for v in invoices["open"].tolist()]
    return invoices


def allocate(organization_id: int, sources: list[Source]) -> AllocationResult:
    """Allocate ``sources`` (in date order) to open invoices; returns what was applied and left over."""
    result = AllocationResult()
    if not sources:
        return result
    lock_allocations(organization_id)
    invoices = _open_invoices(organization_id, {s.customer_id for s in sources})
    open_amount: dict[int, Decimal] = {}
    issue: dict[int, dt.date] = {}
    queues: dict[tuple[int, str], list[int]] = defaultdict(list)
    if len(invoices):
        invoices = invoices.sort_values(["due_date", "issue_date", "id"])
        for inv_id, cust, cur, issued, open_ in invoices[
            ["id", "customer_id", "currency", "issue_date", "open"]
        ].itertuples(index=False, name=None):
            open_amount[inv_id] = open_
            issue[inv_id] = _as_date(issued)
            if open_ > 0:
                queues[(cust, cur)].append(inv_id)
    rows: list[tuple[int, int | None, int | None, Decimal, dt.date]] = []
    position: dict[tuple[int, str], int] = defaultdict(int)
    for src in sorted(sources, key=lambda s: (s.date, s.kind, s.id)):
        remaining = src.amount
        if src.invoice_id is not None:
            targets = [src.invoice_id]
        else:
            group = (src.customer_id, src.currency)
            queue = queues.get(group, [])
            while position[group] < len(queue) and open_amount[queue[position[group]]] <= 0:
                position[group] += 1
            targets = queue[position[group]:]
        for inv_id in targets:
            if remaining <= 0:
                break
            take = min(remaining, open_amount.get(inv_id, ZERO))
            if take <= 0:
                continue
            open_amount[inv_id] -= take
            remaining -= take
            on = max(src.date, issue[inv_id])
            rows.append((
                inv_id, src.id if src.kind == "payment" else None, src.id if src.kind == "credit_note" else None,
                take, on,
            ))
            result.allocated += take
        result.unapplied += remaining
    if rows:
        frame = pd.DataFrame(rows, columns=["invoice_id", "payment_id", "credit_note_id", "amount", "allocated_on"])
        frame.insert(0, "organization_id", organization_id)
        frame["payment_id"] = frame["payment_id"].astype("Int64")
        frame["credit_note_id"] = frame["credit_note_id"].astype("Int64")
        frame["amount"] = frame["amount"].map(str)
        frame["allocated_on"] = frame["allocated_on"].map(lambda d: d.isoformat())
        insert_frame(Allocation._meta.db_table, frame)
    result.allocations = len(rows)
    return result


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
