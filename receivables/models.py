"""Orders, invoices, payments, credit notes and their allocation to invoices.

What is open on an invoice is derived, never stored twice: ``amount`` minus the allocations
(payments and credit notes) dated on or before the as-of date. Days past due follow from the due
date and that balance. Unallocated payment is cash on account; unallocated credit is customer credit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Now, Round
from django.utils.translation import gettext_lazy as _

from credit_platform.money import CURRENCY_CHOICES, ZERO, validate_currency
from credit_platform.tenancy import TenantOwned, TenantQuerySet
from customers.models import Customer, money_field

MONEY = DecimalField(max_digits=18, decimal_places=2)


def tenant_fk() -> models.ForeignKey:
    """The organization of a high-volume document table. No single-column FK check or index: on
    PostgreSQL the composite key (organization_id, customer_id) -> customer (organization_id, id)
    (migration 0002) checks both at once and forbids a document of one tenant naming another
    tenant's customer; the (organization, number) unique index serves organization lookups."""
    return models.ForeignKey(
        "credit_platform.Organization", on_delete=models.CASCADE, related_name="+", editable=False,
        db_constraint=False, db_index=False,
    )


def customer_fk(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(Customer, on_delete=models.PROTECT, related_name=related_name, db_constraint=False)


class Order(TenantOwned):
    class Status(models.TextChoices):
        OPEN = "open", _("Open (not yet invoiced)")
        INVOICED = "invoiced", _("Invoiced")
        CANCELLED = "cancelled", _("Cancelled")

    organization = tenant_fk()
    customer = customer_fk("orders")
    number = models.CharField(max_length=64)
    order_date = models.DateField()
    amount = money_field(validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="order_unique_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_amount_positive"),
        ]
        indexes = [models.Index(fields=["organization", "order_date"], name="order_org_date_idx")]
        ordering = ["-order_date", "-pk"]

    def __str__(self) -> str:
        return self.number


class InvoiceQuerySet(TenantQuerySet["Invoice"]):
    def with_balances(self, as_of: dt.date | None = None) -> InvoiceQuerySet:
        """Annotate ``allocated`` and ``open_amount`` as of a date (default: everything recorded)."""
        allocations = Allocation.objects.filter(invoice=OuterRef("pk"))
        if as_of is not None:
            allocations = allocations.filter(allocated_on__lte=as_of)
        allocated = Subquery(
            allocations.order_by().values("invoice").annotate(total=Sum("amount")).values("total"), output_field=MONEY
        )
        # Rounded to the cent: SQLite computes NUMERIC in binary floating point (see selectors).
        return self.annotate(
            allocated=Coalesce(allocated, Value(ZERO), output_field=MONEY),
        ).annotate(open_amount=Round(F("amount") - F("allocated"), 2, output_field=MONEY))

    def open(self, as_of: dt.date | None = None) -> InvoiceQuerySet:
        qs = self.with_balances(as_of)
        if as_of is not None:
            qs = qs.filter(issue_date__lte=as_of)
        return qs.filter(open_amount__gt=0)  # type: ignore[misc]  # an annotation the stubs cannot see

    def overdue(self, as_of: dt.date) -> InvoiceQuerySet:
        return self.open(as_of).filter(due_date__lt=as_of)


class Invoice(TenantOwned):
    organization = tenant_fk()
    customer = customer_fk("invoices")
    number = models.CharField(max_length=64)
    # Indexed only where set (see Meta): many sources send invoices without their order.
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices", db_index=False
    )
    issue_date = models.DateField()
    due_date = models.DateField()
    amount = money_field(validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = InvoiceQuerySet.as_manager()  # type: ignore[assignment,misc]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="invoice_unique_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(condition=Q(due_date__gte=F("issue_date")), name="invoice_due_after_issue"),
        ]
        indexes = [
            models.Index(fields=["organization", "due_date"], name="invoice_org_due_idx"),
            models.Index(fields=["order"], condition=Q(order__isnull=False), name="invoice_order_idx"),
        ]
        ordering = ["-issue_date", "-pk"]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        if self.due_date and self.issue_date and self.due_date < self.issue_date:
            raise ValidationError({"due_date": "The due date cannot be before the issue date."})
        if self.pk is None:
            return
        stored = Invoice.objects.filter(pk=self.pk).values("customer_id", "currency").first()
        allocated = self.allocations.aggregate(s=Sum("amount"))["s"] or ZERO
        if allocated and stored and (stored["customer_id"], stored["currency"]) != (self.customer_id, self.currency):
            raise ValidationError("Payments are applied to this invoice: its customer and currency cannot change.")
        if self.amount is not None and self.amount < allocated:
            raise ValidationError({"amount": f"{allocated} is already paid or credited; the amount cannot be lower."})

    def open_amount_on(self, as_of: dt.date | None = None) -> Decimal:
        allocations = self.allocations.all()
        if as_of is not None:
            allocations = allocations.filter(allocated_on__lte=as_of)
        return self.amount - (allocations.aggregate(s=Sum("amount"))["s"] or ZERO)

    def days_past_due(self, as_of: dt.date, open_amount: Decimal | None = None) -> int:
        """Days after the due date with money still open; 0 when paid or not yet due."""
        balance = self.open_amount_on(as_of) if open_amount is None else open_amount
        return max((as_of - self.due_date).days, 0) if balance > 0 else 0


class PaymentQuerySet(TenantQuerySet["Payment"]):
    def with_unapplied(self) -> PaymentQuerySet:
        applied = Subquery(
            Allocation.objects.filter(payment=OuterRef("pk")).order_by().values("payment")
            .annotate(total=Sum("amount")).values("total"),
            output_field=MONEY,
        )
        unapplied = F("amount") - Coalesce(applied, Value(ZERO), output_field=MONEY)
        return self.annotate(unapplied_amount=Round(unapplied, 2, output_field=MONEY))


class Payment(TenantOwned):
    class Method(models.TextChoices):
        TRANSFER = "transfer", _("Bank transfer")
        DIRECT_DEBIT = "direct_debit", _("Direct debit")
        CARD = "card", _("Card")
        CHEQUE = "cheque", _("Cheque")
        OTHER = "other", _("Other")

    organization = tenant_fk()
    customer = customer_fk("payments")
    reference = models.CharField(max_length=64)
    received_on = models.DateField()
    amount = money_field(validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.TRANSFER)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = PaymentQuerySet.as_manager()  # type: ignore[assignment,misc]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "reference"], name="payment_unique_reference"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["organization", "received_on"], name="payment_org_date_idx")]
        ordering = ["-received_on", "-pk"]

    def __str__(self) -> str:
        return self.reference

    @property
    def unapplied(self) -> Decimal:
        """Cash on account. Lists annotate ``unapplied_amount`` instead of calling this per row."""
        if hasattr(self, "unapplied_amount"):
            return self.unapplied_amount
        return self.amount - (self.allocations.aggregate(s=Sum("amount"))["s"] or ZERO)

    def clean(self) -> None:
        if self.pk is None:
            return
        stored = Payment.objects.filter(pk=self.pk).values("customer_id", "currency", "amount").first()
        allocated = self.allocations.aggregate(s=Sum("amount"))["s"] or ZERO
        if allocated and stored and (stored["customer_id"], stored["currency"]) != (self.customer_id, self.currency):
            raise ValidationError("This payment is applied to invoices: its customer and currency cannot change.")
        if self.amount is not None and self.amount < allocated:
            raise ValidationError({"amount": f"{allocated} of this payment is applied; the amount cannot be lower."})


class CreditNote(TenantOwned):
    organization = tenant_fk()
    customer = customer_fk("credit_notes")
    number = models.CharField(max_length=64)
    issue_date = models.DateField()
    amount = money_field(validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="creditnote_unique_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="creditnote_amount_positive"),
        ]
        ordering = ["-issue_date", "-pk"]

    def __str__(self) -> str:
        return self.number


class Allocation(TenantOwned):
    """Part of a payment or credit note applied to one invoice, in the invoice's currency."""

    organization = models.ForeignKey(
        "credit_platform.Organization", on_delete=models.CASCADE, related_name="+", editable=False,
        db_constraint=False,
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations")
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations"
    )
    amount = money_field(validators=[MinValueValidator(Decimal("0.01"))])
    allocated_on = models.DateField(
        help_text=_("The payment's or credit note's date: the day the invoice was settled.")
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=(Q(payment__isnull=False) & Q(credit_note__isnull=True))
                | (Q(payment__isnull=True) & Q(credit_note__isnull=False)),
                name="allocation_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} -> {self.invoice_id}"

    def source(self) -> Any:
        return self.payment or self.credit_note
