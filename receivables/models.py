"""Orders, invoices, payments, credit notes and their allocation to invoices.

What is open on an invoice is derived, never stored twice: ``amount`` minus the allocations
(payments and credit notes) dated on or before the as-of date, by the one rule of
``receivables.balances``. Days past due follow from the due date and that balance. Unallocated payment
is cash on account; unallocated credit is customer credit.

Collections (second half of the file): dunning policies, levels, runs, the actions they took and the
outbox of their messages; collection tasks, promises to pay, disputes, call notes, per-customer
collection profiles, statement dispatches and the ECL settings and snapshots.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Now, Round
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credit_platform.bounds import (
    LONG_NOTE_MAX_CHARS,
    NOTE_MAX_CHARS,
    TEMPLATE_MAX_CHARS,
    bounded_text,
    date_field,
)
from credit_platform.money import CURRENCY_CHOICES, ZERO, money, validate_currency
from credit_platform.tenancy import TenantOwned, TenantQuerySet
from customers.models import Customer, money_field

MONEY = DecimalField(max_digits=18, decimal_places=2)
# The longest horizon any policy may allow a promise to pay (DunningPolicy.promise_max_days): half a year.
# Also the dunning run's safety net for promises written around the service.
PROMISE_MAX_DAYS_LIMIT = 180


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
    order_date = date_field()
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
    """The ORM form of ``receivables.balances``: the one rule of open balance and days past due."""

    def with_balances(self, as_of: dt.date | None = None) -> InvoiceQuerySet:
        """Annotate ``open_amount``: ``max(round(amount - allocated, 2), 0)``, allocated = the allocations
        dated on or before ``as_of`` (all recorded without a date)."""
        from .balances import open_amount_expression

        return self.annotate(open_amount=open_amount_expression(as_of))

    def open(self, as_of: dt.date | None = None) -> InvoiceQuerySet:
        """Open items: issued on or before ``as_of`` with an open amount above zero."""
        qs = self.with_balances(as_of)
        if as_of is not None:
            qs = qs.filter(issue_date__lte=as_of)
        return qs.filter(open_amount__gt=0)  # type: ignore[misc]  # an annotation the stubs cannot see

    def overdue(self, as_of: dt.date) -> InvoiceQuerySet:
        """Open items past their due date (days past due above zero)."""
        return self.open(as_of).filter(due_date__lt=as_of)


class Invoice(TenantOwned):
    organization = tenant_fk()
    customer = customer_fk("invoices")
    number = models.CharField(max_length=64)
    # Indexed only where set (see Meta): many sources send invoices without their order.
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices", db_index=False
    )
    issue_date = date_field()
    due_date = date_field()
    amount = money_field(validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    # The date from which the invoice is settled for good (its allocations reach its amount), NULL while it
    # is open. Maintained by the database (PostgreSQL triggers, migration 0008) from the allocations, so
    # that whole-book reads skip settled history; never written by the application. NULL is always safe:
    # it only means "read this invoice's allocations" (``receivables.balances``).
    cleared_on = models.DateField(_("settled for good on"), null=True, blank=True, editable=False)

    objects = InvoiceQuerySet.as_manager()  # type: ignore[assignment,misc]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="invoice_unique_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(condition=Q(due_date__gte=F("issue_date")), name="invoice_due_after_issue"),
        ]
        indexes = [
            models.Index(fields=["organization", "due_date"], name="invoice_org_due_idx"),
            models.Index(fields=["organization", "cleared_on"], name="invoice_org_cleared_idx"),
            models.Index(fields=["organization", "issue_date"], name="invoice_org_issue_idx"),
            models.Index(fields=["order"], condition=Q(order__isnull=False), name="invoice_order_idx"),
        ]
        ordering = ["-issue_date", "-pk"]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        if self.due_date and self.issue_date and self.due_date < self.issue_date:
            raise ValidationError({"due_date": gettext('The due date cannot be before the issue date.')})
        if self.pk is None:
            return
        stored = Invoice.objects.filter(pk=self.pk).values("customer_id", "currency").first()
        allocated = self.allocations.aggregate(s=Sum("amount"))["s"] or ZERO
        if allocated and stored and (stored["customer_id"], stored["currency"]) != (self.customer_id, self.currency):
            raise ValidationError(gettext('Payments are applied to this invoice: its customer and currency cannot '
                                          'change.'))
        if self.amount is not None and self.amount < allocated:
            raise ValidationError({"amount": gettext('%(allocated)s is already paid or credited; the amount cannot '
                                                     'be lower.') % {
                'allocated': allocated}})

    def open_amount_on(self, as_of: dt.date | None = None) -> Decimal:
        """The balance as of a date (everything recorded without one), by ``receivables.balances``: one
        query. Like ``with_balances`` it does not look at the issue date (``open`` does)."""
        balances = Invoice.objects.filter(pk=self.pk).with_balances(as_of)
        value = balances.values_list("open_amount", flat=True).get()  # type: ignore[misc]  # an annotation
        return money(value)

    def days_past_due(self, as_of: dt.date, open_amount: Decimal | None = None) -> int:
        """Days after the due date with money still open; 0 when paid or not yet due
        (``receivables.balances.days_past_due``). ``open_amount``: the balance as of ``as_of`` when the
        caller has it (annotated by ``with_balances``), saving a query."""
        from .balances import days_past_due

        balance = self.open_amount_on(as_of) if open_amount is None else open_amount
        return days_past_due(self.due_date, as_of, balance)


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
    received_on = date_field()
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
            raise ValidationError(gettext('This payment is applied to invoices: its customer and currency cannot '
                                          'change.'))
        if self.amount is not None and self.amount < allocated:
            raise ValidationError({"amount": gettext('%(allocated)s of this payment is applied; the amount cannot be '
                                                     'lower.') % {
                'allocated': allocated}})


class CreditNote(TenantOwned):
    organization = tenant_fk()
    customer = customer_fk("credit_notes")
    number = models.CharField(max_length=64)
    issue_date = date_field()
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


# --- Collections: dunning, worklists, promises to pay, disputes, statements, ECL ------------------


def user_fk(related_name: str = "+", **kwargs: Any) -> models.ForeignKey:
    return models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name=related_name, **kwargs)


class DunningPolicy(TenantOwned):
    """An organization's dunning policy: levels by days relative to the due date, and its exceptions.

    One policy per organization is the default; a customer may be given another one through its
    ``CollectionProfile``. The exceptions that apply to every level: disputed invoices, invoices covered
    by an open promise to pay, invoices whose open amount (in base currency) is under ``min_amount``, and
    customers on the do-not-dun list.

    ``promise_max_days`` (default 30, at most 180) is the furthest a promised date may lie after the day
    the promise is made: a promise pauses dunning of what it covers for at most that long plus
    ``promise_grace_days``. A month is what trade creditors usually accept for a payment promise; a longer
    arrangement is a payment plan, decided by a credit manager who may raise the limit.
    """

    name = models.CharField(max_length=100, default="Standard")
    is_default = models.BooleanField(default=True)
    min_amount = money_field(
        default=Decimal("0.00"), validators=[MinValueValidator(0)],
        help_text=_("Invoices whose open amount in base currency is below this are not dunned."),
    )
    run_hour = models.PositiveSmallIntegerField(
        default=6, validators=[MaxValueValidator(23)],
        help_text=_("Local hour (organization time zone) after which the daily run starts."),
    )
    promise_grace_days = models.PositiveSmallIntegerField(
        default=2, validators=[MaxValueValidator(60)],
        help_text=_("Days after a promised date before an unpaid promise counts as broken."),
    )
    promise_max_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(PROMISE_MAX_DAYS_LIMIT)],
        help_text=_("Latest promised date a promise to pay may have, in days after the day it is made "
                    "(1 to 180): a promise pauses dunning at most this long."),
    )
    statement_day = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("Day of the month on which scheduled statements of account are sent."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="dunningpolicy_unique_name"),
            models.UniqueConstraint(fields=["organization"], condition=Q(is_default=True),
                                    name="dunningpolicy_one_default"),
        ]
        verbose_name_plural = "dunning policies"

    def __str__(self) -> str:
        return self.name


class DunningLevel(TenantOwned):
    """One step of a policy. It fires once per invoice, on the first run on or after due date + ``days``."""

    class Task(models.TextChoices):
        NONE = "", _("No task")
        CALL = "call", _("Call the customer")
        ESCALATE = "escalate", _("Escalate to a manager")
        AGENCY = "agency", _("Hand over to a collection agency")
        INSURER = "insurer", _("Notify the credit insurer")
        LEGAL = "legal", _("Start legal action")

    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="levels")
    days = models.SmallIntegerField(
        validators=[MinValueValidator(-90), MaxValueValidator(3650)],
        help_text=_("Days relative to the due date: -7 is a week before, 30 is 30 days after."),
    )
    name = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)
    send_message = models.BooleanField(default=True,
                                       help_text=_("E-mail the customer (one message per run)."))
    task = models.CharField(max_length=10, choices=Task.choices, blank=True, default="")
    credit_hold = models.BooleanField(default=False, help_text=_("Put an active customer on credit hold."))
    subject_en = models.CharField(max_length=200, blank=True, default="")
    body_en = bounded_text(TEMPLATE_MAX_CHARS, blank=True, default="")
    subject_zh = models.CharField(max_length=200, blank=True, default="")
    body_zh = bounded_text(TEMPLATE_MAX_CHARS, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "days"], name="dunninglevel_unique_days")]
        ordering = ["policy", "days"]

    def __str__(self) -> str:
        return f"{self.name} ({self.days:+d}d)"

    def template(self, language: str) -> tuple[str, str]:
        if language.startswith("zh") and (self.subject_zh or self.body_zh):
            return self.subject_zh, self.body_zh
        return self.subject_en, self.body_en


class CollectionProfile(TenantOwned):
    """Per-customer collections settings (kept here so that the customer table stays the customers app's)."""

    class Language(models.TextChoices):
        AUTO = "", _("Automatic (Chinese for CN, HK, MO, TW; else English)")
        EN = "en", _("English")
        ZH = "zh-hans", _("简体中文")

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="collection_profile")
    collector = user_fk("collection_profiles")
    policy = models.ForeignKey(DunningPolicy, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+",
                               help_text=_("Leave empty for the organization's default policy."))
    do_not_dun = models.BooleanField(default=False)
    do_not_dun_reason = models.CharField(max_length=200, blank=True, default="")
    language = models.CharField(max_length=8, choices=Language.choices, blank=True, default="")
    dunning_email = models.EmailField(blank=True, default="", help_text=_("Overrides the customer's e-mail."))
    statement_monthly = models.BooleanField(default=False,
                                            help_text=_("Send a statement of account monthly."))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"collections profile of {self.customer_id}"


class DunningRun(TenantOwned):
    """One organization's daily run for one local date: created once, resumed after a crash, never repeated.

    ``cursor`` is the last customer id whose chunk committed; a resumed run starts after it.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed (resumable)")

    run_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    attempts = models.PositiveSmallIntegerField(default=0)
    cursor = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    actions = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    tasks = models.PositiveIntegerField(default=0)
    holds = models.PositiveIntegerField(default=0)
    promises_broken = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True, help_text=_("Due items not actioned, by reason."))
    error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "run_date"], name="dunningrun_unique_date"),
        ]
        ordering = ["-run_date"]

    def __str__(self) -> str:
        return f"dunning run {self.run_date} ({self.status})"


class DunningAction(TenantOwned):
    """A level that fired for an invoice. The unique key (organization, invoice, level) is what makes every
    level fire at most once per invoice, whatever the number of runs, re-runs and crashes."""

    organization = tenant_fk()
    # No FK constraints on this high-volume table: a per-row foreign-key check costs ~5-10 us, seconds on
    # a first run of 850k actions; the run inserts only ids it just read under its own lock.
    run = models.ForeignKey(DunningRun, on_delete=models.PROTECT, related_name="+", db_index=False,
                            db_constraint=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="dunning_actions",
                                db_index=False, db_constraint=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False,
                                 db_constraint=False)
    level = models.ForeignKey(DunningLevel, on_delete=models.PROTECT, related_name="+", db_index=False,
                              db_constraint=False)
    run_date = models.DateField()
    open_amount = money_field()
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "invoice", "level"], name="dunningaction_once"),
        ]
        indexes = [models.Index(fields=["run", "customer"], name="dunningaction_run_cust_idx")]

    def __str__(self) -> str:
        return f"{self.level_id} on {self.invoice_id} ({self.run_date})"


class DunningMessage(TenantOwned):
    """The outbox: one message per customer and run, listing every invoice actioned with a message.

    Written in the transaction of the actions it reports; sent after commit and marked sent in the
    transaction of its send, so that a message marked sent is never sent again."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (will retry)")
        NO_ADDRESS = "no_address", _("No e-mail address")

    run = models.ForeignKey(DunningRun, on_delete=models.PROTECT, related_name="outbox", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False,
                                 db_constraint=False)
    level = models.ForeignKey(DunningLevel, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    language = models.CharField(max_length=8, default="en")
    to_email = models.CharField(max_length=254, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    subject = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="dunningmessage_unique_run_cust"),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], condition=Q(status__in=["pending", "failed"]),
                         name="dunningmessage_unsent_idx"),
            models.Index(fields=["customer"], name="dunningmessage_customer_idx"),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"message to {self.customer_id} ({self.status})"


class CollectionTask(TenantOwned):
    """Work for a person: a call, an escalation, a hand-over. Created by the dunning run (one per customer,
    kind and run) or by hand."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        ESCALATE = "escalate", _("Manager escalation")
        AGENCY = "agency", _("Collection agency hand-over")
        INSURER = "insurer", _("Insurer notification")
        LEGAL = "legal", _("Legal action")
        BROKEN_PROMISE = "broken_promise", _("Broken promise")
        FOLLOW_UP = "follow_up", _("Follow-up")

    # Hand-overs the dunning run gives the managers' queue (unassigned): only a credit manager (policy.edit)
    # decides that an escalation, an agency or insurer hand-over or legal action is done or dropped.
    HANDOVER_KINDS = frozenset({Kind.ESCALATE, Kind.AGENCY, Kind.LEGAL, Kind.INSURER})

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="collection_tasks")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assigned_to = user_fk("collection_tasks")
    due_date = date_field()
    run = models.ForeignKey(DunningRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    title = models.CharField(max_length=300)
    note = bounded_text(NOTE_MAX_CHARS, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = user_fk()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "customer", "kind"], name="collectiontask_once_per_run"),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "due_date"], name="collectiontask_open_idx"),
        ]
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_managers_handover(self) -> bool:
        return self.kind in self.HANDOVER_KINDS and self.assigned_to_id is None


class PromiseToPay(TenantOwned):
    """A customer's promise to pay ``amount`` by ``promised_date``. It covers the invoices it names or, when
    it names none, the customer's open invoices in its currency that its amount pays in full, oldest first
    (``PromiseInvoice``, fixed when the promise is made). While open and not past its date (+ the policy's
    grace days) it pauses dunning of the invoices it covers, never of the rest of the account. Kept when
    the customer's payments in the promise's currency received from ``made_on`` to the promised date
    (+ grace) reach the amount; otherwise broken, flagged and escalated by the daily run."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="promises")
    invoices = models.ManyToManyField(Invoice, through="PromiseInvoice", related_name="promises", blank=True)
    made_on = date_field()
    promised_date = date_field()
    amount = money_field(validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    received = money_field(null=True, blank=True, help_text=_("Received by the promised date (when closed)."))
    closed_on = models.DateField(null=True, blank=True)
    note = bounded_text(NOTE_MAX_CHARS, blank=True, default="")
    created_by = user_fk()
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(condition=Q(promised_date__gte=F("made_on")),
                                   name="promise_date_after_made",
                                   violation_error_message=_("The promised date cannot be before the day the "
                                                             "promise is made.")),
        ]
        indexes = [models.Index(fields=["organization", "status", "promised_date"], name="promise_open_idx")]
        ordering = ["-made_on", "-pk"]

    def __str__(self) -> str:
        return f"promise {self.amount} {self.currency} by {self.promised_date}"


class PromiseInvoice(TenantOwned):
    """An invoice a promise to pay covers, with its open amount when the promise was made."""

    promise = models.ForeignKey(PromiseToPay, on_delete=models.CASCADE, related_name="coverage")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="promise_coverage")
    open_amount = money_field()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["promise", "invoice"], name="promiseinvoice_unique")]
        ordering = ["promise", "invoice__due_date", "invoice__number"]

    def __str__(self) -> str:
        return f"{self.promise_id} covers {self.invoice_id}"


class Dispute(TenantOwned):
    """A customer disputes an invoice: dunning of that invoice pauses while the dispute is open."""

    class Reason(models.TextChoices):
        PRICE = "price", _("Price or discount")
        QUALITY = "quality", _("Quality or damage")
        DELIVERY = "delivery", _("Not delivered or incomplete")
        NOT_ORDERED = "not_ordered", _("Not ordered")
        DUPLICATE = "duplicate", _("Duplicate invoice")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        REJECTED = "rejected", _("Rejected")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="disputes")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="disputes")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    description = bounded_text(NOTE_MAX_CHARS, blank=True, default="")
    amount = money_field(null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))],
                         help_text=_("Disputed part; empty means the whole invoice."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField()
    opened_by = user_fk()
    resolved_on = models.DateField(null=True, blank=True)
    resolved_by = user_fk()
    resolution = bounded_text(NOTE_MAX_CHARS, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice"], condition=Q(status="open"), name="dispute_one_open"),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="dispute_status_idx")]
        ordering = ["-opened_on", "-pk"]

    def __str__(self) -> str:
        return f"dispute on {self.invoice_id} ({self.status})"


class CallNote(TenantOwned):
    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached the customer")
        NO_ANSWER = "no_answer", _("No answer")
        MESSAGE = "message", _("Left a message")
        PROMISED = "promised", _("Promised to pay")
        DISPUTED = "disputed", _("Disputed")
        REFUSED = "refused", _("Refused to pay")
        WRONG_CONTACT = "wrong_contact", _("Wrong contact")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="call_notes")
    author = user_fk()
    contacted_at = models.DateTimeField(default=timezone.now)
    contact_person = models.CharField(max_length=120, blank=True, default="")
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    note = bounded_text(LONG_NOTE_MAX_CHARS, blank=True, default="")
    next_action_on = date_field(null=True, blank=True)
    next_action = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "customer", "-contacted_at"], name="callnote_recent_idx"),
        ]
        ordering = ["-contacted_at", "-pk"]

    def __str__(self) -> str:
        return f"call {self.contacted_at:%Y-%m-%d} {self.outcome}"


class StatementDispatch(TenantOwned):
    """A statement of account e-mailed to a customer: on demand, or scheduled (once per customer and date)."""

    class Kind(models.TextChoices):
        ON_DEMAND = "on_demand", _("On demand")
        SCHEDULED = "scheduled", _("Scheduled")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    to_email = models.CharField(max_length=254, blank=True, default="")
    status = models.CharField(max_length=10, choices=DunningMessage.Status.choices,
                              default=DunningMessage.Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_by = user_fk()
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "as_of"], condition=Q(kind="scheduled"),
                                    name="statement_scheduled_once"),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"statement {self.as_of} to {self.customer_id} ({self.status})"


class EclSettings(TenantOwned):
    """How the organization's expected-credit-loss reserve is computed (IFRS 9 simplified approach, 5.5.15).

    See ``receivables.ecl`` for the method: roll rates over ``lookback_periods`` 30-day steps chained to
    the over-180-days state, times ``forward_factor``; customers in default provisioned individually at
    (1 - ``recovery_rate``) of their open balance."""

    class Segment(models.TextChoices):
        NONE = "", _("Whole portfolio")
        SECTOR = "sector", _("Sector")
        COUNTRY = "country", _("Country")

    lookback_periods = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(36)],
        help_text=_("Number of 30-day steps of history behind the roll rates."))
    segment_by = models.CharField(max_length=8, choices=Segment.choices, blank=True, default="")
    forward_factor = models.DecimalField(
        max_digits=6, decimal_places=4, default=Decimal("1.0000"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("3"))],
        help_text=_("Forward-looking adjustment: every historical loss rate is multiplied by it (max 100%)."))
    recovery_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.1000"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("Expected recovery on customers in default (individually provisioned)."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="eclsettings_one_per_org")]
        verbose_name = "ECL settings"
        verbose_name_plural = "ECL settings"

    def __str__(self) -> str:
        return "ECL settings"


class EclSnapshot(TenantOwned):
    """A recorded reserve as of a date (e.g. each month-end), with the matrix it was computed from."""

    as_of = models.DateField()
    collective = money_field()
    individual = money_field()
    total = money_field()
    base_currency = models.CharField(max_length=3)
    details = models.JSONField(default=dict)
    created_by = user_fk()
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "as_of"], name="eclsnapshot_unique_date"),
        ]
        ordering = ["-as_of"]
        verbose_name = "ECL snapshot"

    def __str__(self) -> str:
        return f"ECL {self.as_of}: {self.total}"


class BalanceSnapshot(TenantOwned):
    """The open balances of the book at a past date by ECL segment, default status, currency and bucket
    (``receivables.ecl.raw_balances``), kept so that the ECL page does not re-read two years of history
    on every view. Written by the nightly run and by a page that had to compute a date; read only while
    no change to the book dated on or before ``day`` has been committed since it was computed (see
    ``BookChange``). PostgreSQL only."""

    segment_by = models.CharField(_("segment by"), max_length=16, blank=True, default="")
    day = models.DateField(_("date"))
    # the PostgreSQL snapshot (pg_current_snapshot()) taken before the book was read: a change whose
    # transaction it does not see may be missing from the balances
    seen = models.TextField(_("database snapshot"), editable=False)
    balances = models.JSONField(_("balances"), default=list)
    computed_at = models.DateTimeField(_("computed at"), db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "segment_by", "day"], name="balancesnapshot_unique_day"),
        ]
        verbose_name = _("balance snapshot")
        verbose_name_plural = _("balance snapshots")

    def __str__(self) -> str:
        return f"{self.day} {self.segment_by}"


class BookChange(models.Model):
    """A change to the book, written by PostgreSQL triggers (migration 0009) whenever invoices or
    allocations are written, or a customer's default status, sector or country changes: the earliest
    date whose balances it can alter and the transaction that made it. A ``BalanceSnapshot`` of a date on
    or after ``earliest`` whose database snapshot does not see ``xid`` is out of date. Never written by
    the application; pruned by the nightly run."""

    organization_id = models.BigIntegerField(_("organization"), db_index=False)
    earliest = models.DateField(_("earliest date affected"))
    xid = models.BigIntegerField(_("transaction"))
    recorded_at = models.DateTimeField(_("recorded at"), db_default=Now(), editable=False)

    class Meta:
        indexes = [models.Index(fields=["organization_id", "earliest"], name="bookchange_org_earliest_idx")]
        verbose_name = _("book change")
        verbose_name_plural = _("book changes")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.earliest}"
