"""Imports of orders, invoices, payments and credit notes.

Money records are keyed by their number (orders, invoices, credit notes) or reference (payments)
within the organization. Re-sending a file changes nothing. A re-sent record whose customer or
currency differs is refused (that is a different document, not a correction); an invoice amount may
be corrected, but never below what has already been paid on it; a payment or credit note that was
already applied is never re-applied.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from django.db import connection
from django.utils import timezone

from credit_platform.bulk import create_stage, copy_frame, qn, upsert_from_stage
from credit_platform.imports.engine import Importer, Rejected, WriteResult, register
from credit_platform.imports.lookups import id_map, resolve
from credit_platform.imports.spec import Column, ErrorList, check_duplicates
from customers.models import Customer

from .allocation import Source, allocate
from .models import Allocation, CreditNote, Invoice, Order, Payment


def _table(model: type) -> str:
    return model._meta.db_table  # type: ignore[attr-defined]


def _conflicts(sql: str, params: list, reason_fn: object, column: str) -> ErrorList:
    """Run a conflict query returning (row_no, value, detail...) and turn rows into located errors."""
    errors = ErrorList()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            errors.add(row[0], column, row[1], reason_fn(*row[1:]))  # type: ignore[operator]
    return errors


def _customer_map(organization: object) -> pd.DataFrame:
    return id_map(Customer, organization, "external_id", extra=("payment_terms_days",))  # type: ignore[arg-type]


@register
class OrderImporter(Importer):
    kind = "orders"
    label = "Orders"
    description = "Sales orders (open ones count in exposure until invoiced). Keyed by number."
    key = ["number"]
    columns = [
        Column("number", required=True, max_length=64),
        Column("customer_external_id", required=True, max_length=64),
        Column("order_date", "date", required=True),
        Column("amount", "money", required=True, min_value=0.01),
        Column("currency", "currency", required=True),
        Column("status", "choice", choices=Order.Status.values, default=Order.Status.OPEN),
    ]

    def build(self, frame: pd.DataFrame, errors: ErrorList) -> pd.DataFrame:
        check_duplicates(frame, ["number"], errors, "number")
        frame["customer_id"] = resolve(frame, "customer_external_id", _customer_map(self.organization), errors,
                                       "customer")
        return frame

    def write(self, records: pd.DataFrame) -> WriteResult:
        out = pd.DataFrame({
            "row_no": records["_row"], "organization_id": self.organization.pk,
            "customer_id": records["customer_id"].astype("Int64"), "number": records["number"],
            "order_date": records["order_date"], "amount": records["amount"], "currency": records["currency"],
            "status": records["status"], "created_at": timezone.now(),
        })
        stage = "stage_orders"
        create_stage(stage, {
            "row_no": "integer", "organization_id": "bigint", "customer_id": "bigint", "number": "varchar(64)",
            "order_date": "date", "amount": "numeric(18,2)", "currency": "varchar(3)", "status": "varchar(10)",
            "created_at": "timestamp with time zone",
        })
        copy_frame(stage, out)
        table = _table(Order)
        errors = _conflicts(
            f"SELECT s.row_no, s.number, c.external_id, t.currency, s.currency FROM {stage} s "  # noqa: S608
            f"JOIN {table} t ON t.organization_id = s.organization_id AND t.number = s.number "
            f"JOIN {_table(Customer)} c ON c.id = t.customer_id "
            f"WHERE t.customer_id <> s.customer_id OR t.currency <> s.currency",
            [], lambda num, cust, old_cur, new_cur: (
                f"order {num} already exists for customer {cust} in {old_cur}; a different customer or "
                f"currency is a different order: give it a new number"
            ), "number",
        )
        if errors:
            raise Rejected(errors)
        created, updated, unchanged = upsert_from_stage(
            table=table, stage=stage, columns=[c for c in out.columns if c != "row_no"],
            keys=["organization_id", "number"], update=["order_date", "amount", "status"],
        )
        return WriteResult(created, updated, unchanged)


@register
class InvoiceImporter(Importer):
    kind = "invoices"
    label = "Invoices"
    description = (
        "Keyed by number. due_date defaults to issue_date + the customer's payment terms. "
        "order_number links the invoice to its order (the order then counts as invoiced)."
    )
    key = ["number"]
    columns = [
        Column("number", required=True, max_length=64),
        Column("customer_external_id", required=True, max_length=64),
        Column("issue_date", "date", required=True),
        Column("due_date", "date"),
        Column("amount", "money", required=True, min_value=0.01),
        Column("currency", "currency", required=True),
        Column("order_number", max_length=64),
    ]

    def build(self, frame: pd.DataFrame, errors: ErrorList) -> pd.DataFrame:
        check_duplicates(frame, ["number"], errors, "number")
        customers = _customer_map(self.organization)
        frame["customer_id"] = resolve(frame, "customer_external_id", customers, errors, "customer")
        terms = frame["customer_external_id"].map(customers["payment_terms_days"]) if len(customers) else None
        if terms is not None:
            derived = frame["issue_date"] + pd.to_timedelta(terms.fillna(0).astype("int64"), unit="D")
            frame["due_date"] = frame["due_date"].fillna(derived.where(terms.notna()))
        early = frame["due_date"].notna() & frame["issue_date"].notna() & (frame["due_date"] < frame["issue_date"])
        errors.add_mask(frame, early, "due_date", "is before issue_date")
        if frame["order_number"].notna().any():
            orders = id_map(Order, self.organization, "number", extra=("customer_id",))
            frame["order_id"] = resolve(frame, "order_number", orders, errors, "order")
            owner = frame["order_number"].map(orders["customer_id"]) if len(orders) else None
            if owner is not None:
                wrong = owner.notna() & frame["customer_id"].notna() & (owner != frame["customer_id"])
                errors.add_mask(frame, wrong, "order_number", "belongs to another customer")
        else:
            frame["order_id"] = pd.NA
        return frame

    def write(self, records: pd.DataFrame) -> WriteResult:
        org_id = self.organization.pk
        out = pd.DataFrame({
            "row_no": records["_row"], "organization_id": org_id,
            "customer_id": records["customer_id"].astype("Int64"), "number": records["number"],
            "order_id": pd.to_numeric(records["order_id"], errors="coerce").astype("Int64"),
            "issue_date": records["issue_date"], "due_date": records["due_date"], "amount": records["amount"],
            "currency": records["currency"], "created_at": timezone.now(),
        })
        stage = "stage_invoices"
        create_stage(stage, {
            "row_no": "integer", "organization_id": "bigint", "customer_id": "bigint", "number": "varchar(64)",
            "order_id": "bigint", "issue_date": "date", "due_date": "date", "amount": "numeric(18,2)",
            "currency": "varchar(3)", "created_at": "timestamp with time zone",
        })
        copy_frame(stage, out)
        table, alloc = _table(Invoice), _table(Allocation)
        errors = _conflicts(
            f"SELECT s.row_no, s.number, c.external_id, t.currency FROM {stage} s "  # noqa: S608
            f"JOIN {table} t ON t.organization_id = s.organization_id AND t.number = s.number "
            f"JOIN {_table(Customer)} c ON c.id = t.customer_id "
            f"WHERE t.customer_id <> s.customer_id OR t.currency <> s.currency",
            [], lambda num, cust, cur: (
                f"invoice {num} already exists for customer {cust} in {cur}; a different customer or currency "
                f"is a different invoice: give it a new number"
            ), "number",
        )
        errors.items += _conflicts(
            f"SELECT s.row_no, s.amount, sum(a.amount) FROM {stage} s "  # noqa: S608
            f"JOIN {table} t ON t.organization_id = s.organization_id AND t.number = s.number "
            f"JOIN {alloc} a ON a.invoice_id = t.id "
            f"GROUP BY s.row_no, s.amount HAVING sum(a.amount) > s.amount",
            [], lambda new, paid: f"is below the {Decimal(str(paid)):.2f} already paid or credited on this invoice",
            "amount",
        ).items
        errors.total = len(errors.items)
        if errors:
            raise Rejected(errors)
        created, updated, unchanged = upsert_from_stage(
            table=table, stage=stage, columns=[c for c in out.columns if c != "row_no"],
            keys=["organization_id", "number"], update=["order_id", "issue_date", "due_date", "amount"],
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {qn(_table(Order))} SET status = %s WHERE organization_id = %s AND status = %s "  # noqa: S608
                f"AND id IN (SELECT order_id FROM {stage} WHERE order_id IS NOT NULL)",
                [Order.Status.INVOICED, org_id, Order.Status.OPEN],
            )
        return WriteResult(created, updated, unchanged)


class _CashImporter(Importer):
    """Payments and credit notes: written once, then applied to invoices (explicit or oldest first)."""

    model: type
    number_field: str
    date_field: str
    source_kind: str
    extra_columns: list[str]

    def build(self, frame: pd.DataFrame, errors: ErrorList) -> pd.DataFrame:
        check_duplicates(frame, [self.number_field], errors, self.number_field)
        frame["customer_id"] = resolve(frame, "customer_external_id", _customer_map(self.organization), errors,
                                       "customer")
        frame["invoice_id"] = pd.NA
        if frame["invoice_number"].notna().any():
            invoices = id_map(Invoice, self.organization, "number", extra=("customer_id", "currency"))
            frame["invoice_id"] = resolve(frame, "invoice_number", invoices, errors, "invoice")
            if len(invoices):
                owner = frame["invoice_number"].map(invoices["customer_id"])
                wrong = owner.notna() & frame["customer_id"].notna() & (owner != frame["customer_id"])
                errors.add_mask(frame, wrong, "invoice_number", "belongs to another customer")
                inv_cur = frame["invoice_number"].map(invoices["currency"])
                other = inv_cur.notna() & frame["currency"].notna() & (inv_cur != frame["currency"])
                errors.add_mask(frame, other, "invoice_number",
                                lambda v: "is in another currency than this row; allocate across currencies by hand")
        return frame

    def write(self, records: pd.DataFrame) -> WriteResult:
        org_id = self.organization.pk
        num, date = self.number_field, self.date_field
        out = pd.DataFrame({
            "row_no": records["_row"], "organization_id": org_id,
            "customer_id": records["customer_id"].astype("Int64"), num: records[num], date: records[date],
            "amount": records["amount"], "currency": records["currency"],
            **{c: records[c] for c in self.extra_columns}, "created_at": timezone.now(),
        })
        stage = f"stage_{self.kind}"
        create_stage(stage, {
            "row_no": "integer", "organization_id": "bigint", "customer_id": "bigint", num: "varchar(64)",
            date: "date", "amount": "numeric(18,2)", "currency": "varchar(3)",
            **{c: "varchar(200)" for c in self.extra_columns}, "created_at": "timestamp with time zone",
        })
        copy_frame(stage, out, not_null_text=self.extra_columns)
        table = _table(self.model)
        errors = _conflicts(
            f"SELECT s.row_no, s.{num}, t.{date}, t.amount, t.currency FROM {stage} s "  # noqa: S608
            f"JOIN {table} t ON t.organization_id = s.organization_id AND t.{num} = s.{num} "
            f"WHERE t.customer_id <> s.customer_id OR t.{date} <> s.{date} OR t.amount <> s.amount "
            f"OR t.currency <> s.currency",
            [], lambda ref, d, amt, cur: (
                f"{ref} was already imported ({d}, {Decimal(str(amt)):.2f} {cur}) with other values; "
                f"record a correction as a new document instead of changing this one"
            ), num,
        )
        if errors:
            raise Rejected(errors)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.row_no FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM {table} t "  # noqa: S608
                f"WHERE t.organization_id = s.organization_id AND t.{num} = s.{num})"
            )
            new_rows = {r[0] for r in cursor.fetchall()}
        created, updated, unchanged = upsert_from_stage(
            table=table, stage=stage, columns=[c for c in out.columns if c != "row_no"],
            keys=["organization_id", num], update=self.extra_columns,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.row_no, t.id FROM {stage} s JOIN {table} t "  # noqa: S608
                f"ON t.organization_id = s.organization_id AND t.{num} = s.{num}"
            )
            ids = dict(cursor.fetchall())
        fresh = records.loc[records["_row"].isin(new_rows)]
        sources = [
            Source(self.source_kind, ids[row], int(cust), cur, ts.date(), Decimal(amount),
                   None if pd.isna(inv) else int(inv))
            for row, cust, cur, ts, amount, inv in fresh[
                ["_row", "customer_id", "currency", date, "amount", "invoice_id"]
            ].itertuples(index=False, name=None)
        ]
        result = allocate(org_id, sources)
        note = (
            f"{result.allocations} allocation(s), {result.allocated:.2f} applied to invoices, "
            f"{result.unapplied:.2f} left on account."
        )
        return WriteResult(created, updated, unchanged, note=note)


@register
class PaymentImporter(_CashImporter):
    kind = "payments"
    label = "Payments"
    description = (
        "Keyed by reference. With invoice_number the payment settles that invoice (any excess stays on "
        "account); without, it settles the customer's oldest open invoices in the same currency."
    )
    key = ["reference"]
    model = Payment
    number_field = "reference"
    date_field = "received_on"
    source_kind = "payment"
    extra_columns = ["method"]
    columns = [
        Column("reference", required=True, max_length=64),
        Column("customer_external_id", required=True, max_length=64),
        Column("received_on", "date", required=True),
        Column("amount", "money", required=True, min_value=0.01),
        Column("currency", "currency", required=True),
        Column("method", "choice", choices=Payment.Method.values, default=Payment.Method.TRANSFER),
        Column("invoice_number", max_length=64),
    ]


@register
class CreditNoteImporter(_CashImporter):
    kind = "credit_notes"
    label = "Credit notes"
    description = "Keyed by number; applied to invoice_number, or to the oldest open invoices."
    key = ["number"]
    model = CreditNote
    number_field = "number"
    date_field = "issue_date"
    source_kind = "credit_note"
    extra_columns = ["reason"]
    columns = [
        Column("number", required=True, max_length=64),
        Column("customer_external_id", required=True, max_length=64),
        Column("issue_date", "date", required=True),
        Column("amount", "money", required=True, min_value=0.01),
        Column("currency", "currency", required=True),
        Column("reason", max_length=200, default=""),
        Column("invoice_number", max_length=64),
    ]
