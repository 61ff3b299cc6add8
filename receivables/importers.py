"""Imports of orders, invoices, payments and credit notes.

Money records are keyed by their number (orders, invoices, credit notes) or reference (payments)
within the organization. Re-sending a file changes nothing. A re-sent record whose customer or
currency differs is refused (that is a different document, not a correction); an invoice amount may
be corrected, but never below what has already been paid on it; a payment or credit note that was
already applied is never re-applied.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pandas as pd
from django.db.models import Sum
from django.utils import timezone

from credit_platform.audit import audit_append_many
from credit_platform.bulk import match_existing
from credit_platform.imports.engine import Importer, WriteResult, register
from credit_platform.imports.lookups import check_fx_rates, id_map, resolve
from credit_platform.imports.spec import Column, ErrorList, check_duplicates
from credit_platform.imports.writer import Upserted, change_events, upsert_records
from customers.models import Customer

from .allocation import Source, allocate
from .models import Allocation, CreditNote, Invoice, Order, Payment

IDENTITY = {"customer_id": "int", "currency": "text"}


def _table(model: type) -> str:
    return model._meta.db_table  # type: ignore[attr-defined]


def _day(value: object) -> str:
    return pd.Timestamp(value).date().isoformat()


def _identity_conflict(organization: object, what: str) -> Callable[[pd.Series, pd.Series], str]:
    """Words the error for a document re-sent under the same number with another customer or currency."""
    names = dict(Customer.objects.for_organization(organization).values_list("id", "external_id"))

    def message(old: pd.Series, new: pd.Series) -> str:
        return (f"{what} {new['number']} already exists for customer {names.get(int(old['customer_id']))} in "
                f"{old['currency']}; a different customer or currency is a different {what}: give it a new number")

    return message


def _customer_map(organization: object) -> pd.DataFrame:
    return id_map(Customer, organization, "external_id", extra=("payment_terms_days",))  # type: ignore[arg-type]


def _audit_corrections(importer: Importer, done: Upserted, out: pd.DataFrame, update: dict[str, str], action: str,
                       object_type: str, key_column: str) -> None:
    """Recorded documents changed by a re-sent file: one ledger entry each, with the old and new values."""
    events = change_events(done=done, out=out, update=update, action=action, object_type=object_type,
                           key_column=key_column, reason="import")
    if events:
        audit_append_many(organization=importer.organization, actor=importer.user, events=events)


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
        check_fx_rates(frame, self.organization, "order_date", errors)
        return frame

    def write(self, records: pd.DataFrame) -> WriteResult:
        out = pd.DataFrame({
            "organization_id": self.organization.pk, "customer_id": records["customer_id"].astype("Int64"),
            "number": records["number"], "order_date": records["order_date"], "amount": records["amount"],
            "currency": records["currency"], "status": records["status"], "created_at": timezone.now(),
        })
        update = {"order_date": "date", "amount": "money", "status": "text"}
        done = upsert_records(
            table=_table(Order), out=out, rows=records["_row"], keys=["number"],
            scope={"organization_id": self.organization.pk}, update=update,
            immutable=IDENTITY, conflict=_identity_conflict(self.organization, "order"), conflict_column="number",
        )
        _audit_corrections(self, done, out, update, "order.corrected", "receivables.order", "number")
        return done.result


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
        check_fx_rates(frame, self.organization, "issue_date", errors)
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
            "organization_id": org_id, "customer_id": records["customer_id"].astype("Int64"),
            "number": records["number"],
            "order_id": pd.to_numeric(records["order_id"], errors="coerce").astype("Int64"),
            "issue_date": records["issue_date"], "due_date": records["due_date"], "amount": records["amount"],
            "currency": records["currency"], "created_at": timezone.now(),
        })
        errors = self._amounts_below_paid(out, records["_row"])
        update = {"order_id": "int", "issue_date": "date", "due_date": "date", "amount": "money"}
        done = upsert_records(
            table=_table(Invoice), out=out, rows=records["_row"], keys=["number"], scope={"organization_id": org_id},
            update=update, immutable=IDENTITY, conflict=_identity_conflict(self.organization, "invoice"),
            conflict_column="number", errors=errors,
        )
        # A re-sent invoice with another due date or amount is a correction: in the ledger, old and new.
        _audit_corrections(self, done, out, update, "invoice.corrected", "receivables.invoice", "number")
        linked = out["order_id"].dropna()
        if len(linked):
            Order.objects.for_organization(org_id).filter(
                status=Order.Status.OPEN, pk__in=list(map(int, linked.unique()))
            ).update(status=Order.Status.INVOICED)
        return done.result

    def _amounts_below_paid(self, out: pd.DataFrame, rows: pd.Series) -> ErrorList:
        """A corrected amount may not fall below what payments and credit notes already settled."""
        paid = Allocation.objects.for_organization(self.organization).filter(
            invoice__number__in=list(out["number"])
        ).values("invoice__number").annotate(total=Sum("amount")).values_list("invoice__number", "total") \
            if len(out) <= 5000 else self._paid_by_number()
        paid = dict(paid)
        errors = ErrorList()
        if not paid:
            return errors
        for idx, number, amount in zip(out.index, out["number"], out["amount"], strict=True):
            settled = paid.get(number)
            if settled is not None and amount is not None and Decimal(amount) < settled:
                errors.add(rows.loc[idx], "amount", amount,
                           f"is below the {settled:.2f} already paid or credited on this invoice")
        return errors

    def _paid_by_number(self) -> list[tuple[str, Decimal]]:
        return list(
            Allocation.objects.for_organization(self.organization).values("invoice__number")
            .annotate(total=Sum("amount")).values_list("invoice__number", "total")
        )


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
        check_fx_rates(frame, self.organization, self.date_field, errors)
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
            "organization_id": org_id, "customer_id": records["customer_id"].astype("Int64"), num: records[num],
            date: records[date], "amount": records["amount"], "currency": records["currency"],
            **{c: records[c] for c in self.extra_columns}, "created_at": timezone.now(),
        })
        table = _table(self.model)

        def conflict(old: pd.Series, new: pd.Series) -> str:
            return (f"{new[num]} was already imported ({_day(old[date])}, {Decimal(str(old['amount'])):.2f} "
                    f"{old['currency']}) with other values; record a correction as a new document instead")

        update = dict.fromkeys(self.extra_columns, "text")
        done = upsert_records(
            table=table, out=out, rows=records["_row"], keys=[num], scope={"organization_id": org_id},
            update=update, immutable={"customer_id": "int", date: "date", "amount": "money", "currency": "text"},
            conflict=conflict, conflict_column=num,
        )
        _audit_corrections(self, done, out, update, f"{self.source_kind}.corrected",
                           self.model._meta.label_lower, num)  # type: ignore[attr-defined]
        fresh = records.loc[done.matched.new]
        if fresh.empty:
            return done.result
        ids = match_existing(table=table, frame=out.loc[fresh.index], keys=[num], columns=[],
                             scope={"organization_id": org_id}).ids
        sources = [
            Source(self.source_kind, int(pk), int(cust), cur, ts.date(), Decimal(amount),
                   None if pd.isna(inv) else int(inv))
            for pk, cust, cur, ts, amount, inv in zip(
                ids, fresh["customer_id"], fresh["currency"], fresh[date], fresh["amount"], fresh["invoice_id"],
                strict=True,
            )
        ]
        result = allocate(org_id, sources)
        done.result.note = (
            f"{result.allocations} allocation(s), {result.allocated:.2f} applied to invoices, "
            f"{result.unapplied:.2f} left on account."
        )
        return done.result


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
