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

from credit_platform.audit import AuditEvent, audit_append_many
from credit_platform.bulk import match_existing
from credit_platform.imports.engine import Importer, Rejected, WriteResult, register
from credit_platform.imports.lookups import check_fx_rates, id_map, resolve
from credit_platform.imports.spec import Column, ErrorList, check_duplicates
from credit_platform.imports.writer import Upserted, change_events, upsert_records
from customers.models import Customer

from .allocation import Source, allocate
from .models import Allocation, CreditNote, Dispute, Invoice, Order, Payment

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


@register
class InvoiceExportImporter(Importer):
    """One row per invoice, as accounting systems export their receivables: it creates the customers the
    organization does not have yet, the invoices, the payments that settled them and the disputes it
    flags, in one transaction.

    New customers take the organization's base currency unless the file says otherwise; without a sector
    they get the ``UNK`` sector and are listed for completion in the ledger. A new customer needs a country
    (a column, or a default on the mapping).
    A settled invoice gets a payment on its settled date for ``paid_amount`` (default: the invoice amount)
    matched to that invoice, so that the aging at any past date is right; its reference is
    ``payment_reference`` or, when absent, ``<invoice number>-PAY``. Customers already present are left as
    they are."""

    kind = "invoice_export"
    label = "Invoice-level export (customers, invoices, payments, disputes)"
    description = (
        "One row per invoice. Creates missing customers (base currency, sector unknown: to be completed), "
        "invoices, payments matched by invoice number for settled invoices, and disputes from a flag."
    )
    key = ["invoice_number"]
    columns = [
        Column("customer_external_id", required=True, max_length=64),
        Column("customer_name", max_length=200),
        Column("country", max_length=100, help="ISO 3166: name, alpha-2, alpha-3 or numeric"),
        Column("sector", max_length=8, help="NACE section code; empty: unknown, to be completed"),
        Column("payment_terms_days", "int", min_value=0, max_value=365),
        Column("invoice_number", required=True, max_length=64),
        Column("issue_date", "date", required=True),
        Column("due_date", "date"),
        Column("amount", "money", required=True, min_value=0.01),
        Column("currency", "currency"),
        Column("settled_on", "date"),
        Column("paid_amount", "money", min_value=0.01),
        Column("payment_reference", max_length=64),
        Column("disputed", "bool", default=False),
    ]

    def build(self, frame: pd.DataFrame, errors: ErrorList) -> pd.DataFrame:
        from customers.importers import COUNTRY_HELP, UNKNOWN_SECTOR, country_codes
        from customers.models import Country, Sector

        check_duplicates(frame, ["invoice_number"], errors, "invoice_number")
        frame["currency"] = frame["currency"].fillna(self.organization.base_currency)
        codes = country_codes(frame["country"])
        known = set(Country.objects.values_list("code", flat=True))
        errors.add_mask(frame, frame["country"].notna() & ~codes.isin(known), "country",
                        f"is not a country ({COUNTRY_HELP})")
        frame["country_code"] = codes
        known_customers = id_map(Customer, self.organization, "external_id")
        new = frame["customer_external_id"].notna() & ~frame["customer_external_id"].isin(known_customers.index)
        errors.add_mask(frame, new & frame["country"].isna(), "country",
                        "is needed to create this customer: map a country column or give a default country",
                        value_column="customer_external_id")
        sectors = set(Sector.objects.values_list("code", flat=True))
        frame["sector"] = frame["sector"].str.upper()
        errors.add_mask(frame, frame["sector"].notna() & ~frame["sector"].isin(sectors), "sector",
                        f"is not a sector code; known: {', '.join(sorted(sectors))}")
        frame["sector"] = frame["sector"].fillna(UNKNOWN_SECTOR)
        early = frame["settled_on"].notna() & frame["issue_date"].notna() & (frame["settled_on"] < frame["issue_date"])
        errors.add_mask(frame, early, "settled_on", "is before issue_date")
        orphan = frame["paid_amount"].notna() & frame["settled_on"].isna()
        errors.add_mask(frame, orphan, "paid_amount", "is given without settled_on (the date it was paid)")
        reference = frame["payment_reference"].fillna(frame["invoice_number"] + "-PAY")
        frame["payment_reference"] = reference.where(frame["settled_on"].notna(), None)
        check_duplicates(frame, ["payment_reference"], errors, "payment_reference")
        return frame

    def write(self, records: pd.DataFrame) -> WriteResult:
        from customers.importers import UNKNOWN_SECTOR, CustomerImporter

        org = self.organization
        parts: list[tuple[str, WriteResult]] = []
        # 1. customers the organization does not have yet (the first row of each names it)
        existing = id_map(Customer, org, "external_id")
        firsts = records.drop_duplicates("customer_external_id")
        new = firsts.loc[~firsts["customer_external_id"].isin(existing.index)]
        customers = pd.DataFrame({
            "_row": new["_row"], "external_id": new["customer_external_id"],
            "legal_name": new["customer_name"].fillna(new["customer_external_id"]),
            "registration_number": "", "country": new["country_code"], "sector": new["sector"],
            "size": Customer.Size.SMALL, "group_external_id": None, "group_name": None,
            "currency": new["currency"], "payment_terms_days": new["payment_terms_days"].fillna(30),
            "status": Customer.Status.ACTIVE, "credit_limit": None, "customer_since": None, "email": "",
            "phone": "", "address": "",
        }, index=new.index)
        creator = CustomerImporter(org, self.user)
        creator.present = frozenset(["external_id", "legal_name", "country", "sector", "currency",
                                     "payment_terms_days"])
        parts.append(("customers", creator.write(customers) if len(customers) else WriteResult()))
        incomplete = customers.loc[customers["sector"] == UNKNOWN_SECTOR]
        ids = id_map(Customer, org, "external_id")
        if len(incomplete):
            events = [
                AuditEvent("customer.to_complete", ("customers.customer", int(ids.loc[ext, "id"]), ext), None,
                           {"missing": ["sector"]}, "created by an invoice import")
                for ext in incomplete["external_id"]
            ]
            audit_append_many(organization=org, actor=self.user, events=events)
        # 2. invoices, through the invoice import's own rules (terms, FX rates, corrections)
        invoices = pd.DataFrame({
            "_row": records["_row"], "number": records["invoice_number"],
            "customer_external_id": records["customer_external_id"], "issue_date": records["issue_date"],
            "due_date": records["due_date"], "amount": records["amount"], "currency": records["currency"],
            "order_number": None,
        }, index=records.index)
        parts.append(("invoices", self._run(InvoiceImporter, invoices)))
        # 3. payments of the settled invoices, each matched to its invoice
        settled = records.loc[records["settled_on"].notna()]
        payments = pd.DataFrame({
            "_row": settled["_row"], "reference": settled["payment_reference"],
            "customer_external_id": settled["customer_external_id"], "received_on": settled["settled_on"],
            "amount": settled["paid_amount"].fillna(settled["amount"]), "currency": settled["currency"],
            "method": Payment.Method.TRANSFER, "invoice_number": settled["invoice_number"],
        }, index=settled.index)
        parts.append(("payments", self._run(PaymentImporter, payments) if len(payments) else WriteResult()))
        # 4. disputes flagged by the file
        parts.append(("disputes", self._disputes(records.loc[records["disputed"].fillna(False).astype(bool)])))
        records["customer_id"] = records["customer_external_id"].map(ids["id"]).astype("Int64")
        result = WriteResult(
            created=sum(r.created for _k, r in parts), updated=sum(r.updated for _k, r in parts),
            unchanged=sum(r.unchanged for _k, r in parts),
            breakdown=[{"kind": k, "created": r.created, "updated": r.updated, "unchanged": r.unchanged}
                       for k, r in parts],
        )
        result.note = "; ".join(f"{k}: {r.created} created, {r.updated} updated, {r.unchanged} unchanged"
                                for k, r in parts) + "."
        if len(incomplete):
            result.note += f" {len(incomplete)} new customer(s) to complete (sector unknown)."
        return result

    def _run(self, cls: type[Importer], frame: pd.DataFrame) -> WriteResult:
        importer = cls(self.organization, self.user)
        importer.present = frozenset(c for c in frame.columns if c != "_row" and frame[c].notna().any())
        errors = ErrorList()
        built = importer.build(frame.copy(), errors)
        if errors:
            raise Rejected(errors)
        return importer.write(built)

    def _disputes(self, flagged: pd.DataFrame) -> WriteResult:
        if flagged.empty:
            return WriteResult()
        org = self.organization
        invoices = id_map(Invoice, org, "number", extra=("customer_id",))
        flagged = flagged.assign(invoice_id=flagged["invoice_number"].map(invoices["id"]),
                                 customer_id=flagged["invoice_number"].map(invoices["customer_id"]))
        had = set(Dispute.objects.for_organization(org).filter(invoice_id__in=list(map(int, flagged["invoice_id"])))
                  .values_list("invoice_id", flat=True))
        fresh = flagged.loc[~flagged["invoice_id"].isin(had)]
        today = org.local_date()
        disputes = [
            Dispute(organization=org, invoice_id=int(inv), customer_id=int(cust), reason=Dispute.Reason.OTHER,
                    description="flagged as disputed in an imported export",
                    status=Dispute.Status.RESOLVED if pd.notna(settled) else Dispute.Status.OPEN,
                    opened_on=min(issued.date(), today),
                    resolved_on=settled.date() if pd.notna(settled) else None)
            for inv, cust, issued, settled in zip(fresh["invoice_id"], fresh["customer_id"], fresh["issue_date"],
                                                  fresh["settled_on"], strict=True)
        ]
        created = Dispute.objects.bulk_create(disputes)
        audit_append_many(organization=org, actor=self.user, events=[
            AuditEvent("dispute.opened", d, None, {"invoice": d.invoice_id, "status": d.status}, "import")
            for d in created])
        return WriteResult(created=len(created), unchanged=len(flagged) - len(fresh))
