"""Writes of the receivables app outside the dunning run: payments and credit notes, collection
profiles and assignment, promises to pay, disputes, call notes and tasks.

Every function is atomic and appends its decision to the audit ledger in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from alerts.services import evaluate_on_commit
from credit_platform.audit import AuditEvent, audit_append, audit_append_many
from credit_platform.corrections import record_correct, record_create
from credit_platform.errors import AppError, ErrorCode
from credit_platform.models import Membership
from credit_platform.permissions import actor_has_capability
from credit_platform.roles import Cap
from customers.models import Customer

from .allocation import Source, allocate
from .models import (
    CallNote,
    CollectionProfile,
    CollectionTask,
    CreditNote,
    Dispute,
    DunningPolicy,
    Invoice,
    Order,
    Payment,
    PromiseInvoice,
    PromiseToPay,
)
from .selectors import invoices_of

# What may be corrected on a recorded document (with a reason; old and new values in the ledger). The rest
# is the document: a wrong amount, customer or currency is corrected by a new document (credit note,
# reversal), never by rewriting the posted one. Orders are not posted yet: they may be amended.
ORDER_EDITABLE = ("order_date", "amount", "status")
INVOICE_EDITABLE = ("due_date", "order")
PAYMENT_EDITABLE = ("method",)
CREDIT_NOTE_EDITABLE = ("reason",)
TASK_EDITABLE = ("assigned_to", "due_date", "title", "note")

PROFILE_FIELDS = (
    "collector",
    "policy",
    "do_not_dun",
    "do_not_dun_reason",
    "language",
    "dunning_email",
    "statement_monthly",
)


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _same_org(*objs: Any) -> None:
    orgs = {o.organization_id for o in objs if o is not None}
    if len(orgs) > 1:
        raise AppError(ErrorCode.NOT_FOUND, gettext('No such object in your organization.'), status=404)


def _member(organization_id: int, user: Any, field: str) -> None:
    """A collector or assignee is a member of the organization, never a user of another tenant."""
    if user is None:
        return
    if not Membership.objects.filter(organization_id=organization_id, user=user, is_active=True).exists():
        raise AppError(ErrorCode.VALIDATION,
                       gettext('%(field)s: %(username)s is not a member of this organization.') % {
                           'field': field, 'username': user.get_username()},
                       details={"field": field})


# --- orders and invoices --------------------------------------------------------------------------


@transaction.atomic
def order_create(*, customer: Customer, number: str, order_date: dt.date, amount: Decimal, currency: str,
                 status: str = Order.Status.OPEN, actor: Any = None) -> Order:
    order = Order(organization_id=customer.organization_id, customer=customer, number=number,
                  order_date=order_date, amount=amount, currency=currency, status=status)
    evaluate_on_commit(customer.organization_id, [customer.pk])  # early warnings: order anomalies
    return record_create(obj=order, fields=("customer", "number", "order_date", "amount", "currency", "status"),
                         actor=actor, action="order.created")


@transaction.atomic
def order_correct(*, order: Order, changes: dict[str, Any], actor: Any, reason: str) -> Order:
    """Amend an order's date, amount or status (e.g. cancel it): with a reason, old and new values audited."""
    return record_correct(obj=order, changes=changes, editable=ORDER_EDITABLE, actor=actor,
                          action="order.corrected", reason=reason, what="order")


@transaction.atomic
def invoice_create(*, customer: Customer, number: str, issue_date: dt.date, amount: Decimal, currency: str,
                   due_date: dt.date | None = None, order: Order | None = None, actor: Any = None) -> Invoice:
    """Post an invoice. The due date defaults to the issue date plus the customer's payment terms (as the
    import does); an order it names counts as invoiced from now on."""
    _same_org(customer, order)
    if order is not None and order.customer_id != customer.pk:
        raise AppError(ErrorCode.VALIDATION, gettext('Order %(number)s belongs to another customer.') % {
            'number': order.number},
                       details={"order": order.number})
    invoice = Invoice(organization_id=customer.organization_id, customer=customer, number=number,
                      issue_date=issue_date, amount=amount, currency=currency, order=order,
                      due_date=due_date or issue_date + dt.timedelta(days=customer.payment_terms_days))
    record_create(obj=invoice, fields=("customer", "number", "issue_date", "due_date", "amount", "currency", "order"),
                  actor=actor, action="invoice.posted")
    if order is not None and order.status == Order.Status.OPEN:
        Order.objects.filter(pk=order.pk).update(status=Order.Status.INVOICED)
    return invoice


@transaction.atomic
def invoice_correct(*, invoice: Invoice, changes: dict[str, Any], actor: Any, reason: str) -> Invoice:
    """Correct a posted invoice's due date or order link, with a reason; the ledger keeps the old and new
    values (a due date moved from 2023 to 2030 takes the invoice out of dunning: that is on record).
    Amount, customer, currency and dates of issue are the document: a credit note corrects them."""
    order = changes.get("order")
    if order is not None:
        _same_org(invoice, order)
        if order.customer_id != invoice.customer_id:
            raise AppError(ErrorCode.VALIDATION, gettext('Order %(number)s belongs to another customer.') % {
                'number': order.number},
                           details={"order": order.number})
    return record_correct(obj=invoice, changes=changes, editable=INVOICE_EDITABLE, actor=actor,
                          action="invoice.corrected", reason=reason, what="invoice")


# --- payments and credit notes --------------------------------------------------------------------


@transaction.atomic
def payment_record(
    *,
    customer: Customer,
    reference: str,
    received_on: dt.date,
    amount: Decimal,
    currency: str,
    method: str = Payment.Method.TRANSFER,
    invoice: Invoice | None = None,
    actor: Any = None,
) -> tuple[Payment, Any]:
    """Record a payment and apply it: to ``invoice`` when given (the excess stays on account), else to the
    customer's oldest open invoices in the same currency. Overpayment stays on account (unapplied)."""
    _same_org(customer, invoice)
    if invoice is not None and (invoice.customer_id != customer.pk or invoice.currency != currency):
        raise AppError(
            ErrorCode.VALIDATION,
            gettext('The invoice belongs to another customer or currency.'),
            details={"invoice": invoice.number},
        )
    payment = Payment(
        organization_id=customer.organization_id,
        customer=customer,
        reference=reference,
        received_on=received_on,
        amount=amount,
        currency=currency,
        method=method,
    )
    payment.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError:
        raise AppError(ErrorCode.CONFLICT, gettext('Payment %(reference)s already exists.') % {
            'reference': reference}, status=409) from None
    result = allocate(
        customer.organization_id,
        [
            Source(
                "payment",
                payment.pk,
                customer.pk,
                currency,
                received_on,
                amount,
                invoice.pk if invoice else None,
            )
        ],
    )
    audit_append(
        organization=customer.organization_id,
        actor=actor,
        action="payment.recorded",
        obj=payment,
        after={
            "amount": amount,
            "currency": currency,
            "applied": result.allocated,
            "on_account": result.unapplied,
            "invoice": invoice.number if invoice else None,
        },
    )
    evaluate_on_commit(customer.organization_id, [customer.pk])  # early warnings after the payment
    return payment, result


@transaction.atomic
def payment_correct(*, payment: Payment, changes: dict[str, Any], actor: Any, reason: str) -> Payment:
    """Correct how a payment was received (its method). Its amount, date, customer and currency are what
    was applied to invoices: a wrong payment is reversed by a new document, not rewritten."""
    return record_correct(obj=payment, changes=changes, editable=PAYMENT_EDITABLE, actor=actor,
                          action="payment.corrected", reason=reason, what="payment")


@transaction.atomic
def payment_apply_on_account(*, payment: Payment, actor: Any = None) -> Any:
    """Apply what is left of a payment (cash on account) to the customer's oldest open invoices, dated
    as the payment (or the invoice's issue date, if later), as the importers date allocations."""
    left = payment.unapplied
    if left <= 0:
        return None
    result = allocate(
        payment.organization_id,
        [Source("payment", payment.pk, payment.customer_id, payment.currency, payment.received_on, left)],
    )
    audit_append(
        organization=payment.organization_id,
        actor=actor,
        action="payment.applied",
        obj=payment,
        after={"applied": result.allocated, "on_account": result.unapplied},
    )
    return result


@transaction.atomic
def credit_note_record(
    *,
    customer: Customer,
    number: str,
    issue_date: dt.date,
    amount: Decimal,
    currency: str,
    reason: str = "",
    invoice: Invoice | None = None,
    actor: Any = None,
) -> CreditNote:
    _same_org(customer, invoice)
    note = CreditNote(
        organization_id=customer.organization_id,
        customer=customer,
        number=number,
        issue_date=issue_date,
        amount=amount,
        currency=currency,
        reason=reason,
    )
    note.full_clean(validate_unique=False)
    note.save()
    result = allocate(
        customer.organization_id,
        [
            Source(
                "credit_note",
                note.pk,
                customer.pk,
                currency,
                issue_date,
                amount,
                invoice.pk if invoice else None,
            )
        ],
    )
    audit_append(
        organization=customer.organization_id,
        actor=actor,
        action="credit_note.recorded",
        obj=note,
        after={
            "amount": amount,
            "currency": currency,
            "applied": result.allocated,
            "customer_credit": result.unapplied,
        },
    )
    return note


@transaction.atomic
def credit_note_correct(*, note: CreditNote, changes: dict[str, Any], actor: Any, reason: str) -> CreditNote:
    """Correct a credit note's stated reason (text); what it credited is the document."""
    return record_correct(obj=note, changes=changes, editable=CREDIT_NOTE_EDITABLE, actor=actor,
                          action="credit_note.corrected", reason=reason, what="credit note")


# --- collection profiles and assignment -----------------------------------------------------------


def collection_profile_get(customer: Customer) -> CollectionProfile:
    profile = CollectionProfile.objects.filter(customer=customer).first()
    return profile or CollectionProfile(organization_id=customer.organization_id, customer=customer)


@transaction.atomic
def collection_profile_update(
    *, customer: Customer, actor: Any, reason: str = "", **changes: Any
) -> CollectionProfile:
    """Change a customer's collections settings (do-not-dun, collector, policy, language, e-mail)."""
    profile = collection_profile_get(customer)
    before = (
        {f: getattr(profile, f"{f}_id" if f in ("collector", "policy") else f) for f in PROFILE_FIELDS}
        if profile.pk
        else None
    )
    for key, value in changes.items():
        if key not in PROFILE_FIELDS:
            raise ValueError(f"{key} is not a collection profile field")
        setattr(profile, key, value)
    if profile.policy is not None:
        _same_org(customer, profile.policy)
    _member(customer.organization_id, profile.collector, "collector")
    profile.full_clean(exclude=["organization", "customer"])
    profile.save()
    after = {f: getattr(profile, f"{f}_id" if f in ("collector", "policy") else f) for f in PROFILE_FIELDS}
    if after != before:
        audit_append(
            organization=customer.organization_id,
            actor=actor,
            action="collections.profile_changed",
            obj=customer,
            before=before,
            after=after,
            reason=reason,
        )
    return profile


@transaction.atomic
def collection_assign(*, organization: Any, customer_ids: list[int], collector: Any, actor: Any) -> int:
    """Assign customers to a collector (None: unassign); set-based for a whole selection."""
    _member(organization.pk if hasattr(organization, "pk") else organization, collector, "collector")
    ids = list(
        Customer.objects.for_organization(organization)
        .filter(pk__in=customer_ids)
        .values_list("pk", flat=True)
    )
    existing = set(
        CollectionProfile.objects.for_organization(organization)
        .filter(customer_id__in=ids)
        .values_list("customer_id", flat=True)
    )
    CollectionProfile.objects.bulk_create(
        [CollectionProfile(organization=organization, customer_id=cid) for cid in ids if cid not in existing]
    )
    CollectionProfile.objects.for_organization(organization).filter(customer_id__in=ids).update(
        collector=collector, updated_at=timezone.now()
    )
    CollectionTask.objects.for_organization(organization).filter(
        customer_id__in=ids, status=CollectionTask.Status.OPEN, kind=CollectionTask.Kind.CALL
    ).update(assigned_to=collector)
    audit_append_many(
        organization=organization,
        actor=actor,
        events=[
            AuditEvent(
                "collections.assigned",
                ("customers.customer", cid),
                None,
                {"collector": collector.get_username() if collector else None},
            )
            for cid in ids
        ],
    )
    return len(ids)


# --- promises, disputes, notes, tasks -------------------------------------------------------------


def promise_horizon(customer: Customer) -> int:
    """Days after the day a promise is made within which its promised date must lie: the customer's
    dunning policy's ``promise_max_days`` (its own policy, else the organization's default)."""
    profile = CollectionProfile.objects.filter(customer=customer).select_related("policy").first()
    policy = profile.policy if profile and profile.policy_id else None
    if policy is None:
        policy = DunningPolicy.objects.for_organization(customer.organization_id).filter(is_default=True).first()
    if policy is not None:
        return int(policy.promise_max_days)
    return int(DunningPolicy._meta.get_field("promise_max_days").get_default())


def promise_coverage(
    customer: Customer, amount: Decimal, currency: str, made_on: dt.date, named: list[Invoice]
) -> list[tuple[Invoice, Decimal]]:
    """The invoices a promise covers, with their open amounts on the day it is made: the named ones (each
    must be open, in the promise's currency), else the open invoices in its currency that the amount
    pays in full, oldest due first, stopping at the first one it cannot pay in full (a promise never
    skips the oldest debt to cover a younger, smaller invoice)."""
    org = customer.organization_id
    if named:
        balances = {
            i.pk: i.open_amount for i in invoices_of(org).filter(pk__in=[n.pk for n in named]).open(made_on)
        }
        errors = []
        for inv in named:
            if inv.currency != currency:
                errors.append(f"Invoice {inv.number} is in {inv.currency}, the promise in {currency}.")
            elif inv.pk not in balances:
                errors.append(f"Invoice {inv.number} has nothing open on {made_on.isoformat()}.")
        if errors:
            raise ValidationError({"invoices": errors})
        return [(inv, balances[inv.pk]) for inv in named]
    covered, left = [], amount
    for inv in (
        invoices_of(org)
        .filter(customer=customer, currency=currency)
        .open(made_on)
        .order_by("due_date", "number")
    ):
        if inv.open_amount > left:
            break
        covered.append((inv, inv.open_amount))
        left -= inv.open_amount
    return covered


@transaction.atomic
def promise_create(
    *,
    customer: Customer,
    amount: Decimal,
    promised_date: dt.date,
    actor: Any,
    currency: str | None = None,
    invoice: Invoice | None = None,
    invoices: list[Invoice] | None = None,
    note: str = "",
    made_on: dt.date | None = None,
) -> PromiseToPay:
    """Record a promise to pay. While open it pauses dunning of the invoices it covers (see
    ``promise_coverage``), never of the whole account; the daily run closes it as kept or broken after
    its date plus the policy's grace days. The promised date lies between the day the promise is made
    and the policy's ``promise_max_days`` after it."""
    named = list(dict.fromkeys([*(invoices or []), *([invoice] if invoice else [])]))
    _same_org(customer, *named)
    for inv in named:
        if inv.customer_id != customer.pk:
            raise ValidationError({"invoices": gettext('Invoice %(number)s belongs to another customer.') % {
                'number': inv.number}})
    named_currencies = {inv.currency for inv in named}
    if len(named_currencies) > 1:
        raise ValidationError({"invoices": gettext('The invoices of one promise must share a currency.')})
    currency = currency or (named[0].currency if named else customer.currency)
    made_on = made_on or customer.organization.local_date()
    horizon = promise_horizon(customer)
    latest = made_on + dt.timedelta(days=horizon)
    if promised_date < made_on:
        raise ValidationError({"promised_date": (
            gettext('%(isoformat)s is before %(isoformat2)s, the day the promise is made.') % {
                'isoformat': promised_date.isoformat(), 'isoformat2': made_on.isoformat()})})
    if promised_date > latest:
        raise ValidationError({"promised_date": (
            gettext('%(isoformat)s is more than %(horizon)s days after %(isoformat2)s; the dunning policy accepts '
                    'promised dates up to %(isoformat3)s.') % {
                'isoformat': promised_date.isoformat(), 'horizon': horizon, 'isoformat2': made_on.isoformat(),
                'isoformat3': latest.isoformat()})})
    promise = PromiseToPay(
        organization_id=customer.organization_id,
        customer=customer,
        made_on=made_on,
        promised_date=promised_date,
        amount=amount,
        currency=currency,
        note=note,
        created_by=_user(actor),
    )
    promise.full_clean(exclude=["organization", "customer", "created_by"])
    coverage = promise_coverage(customer, amount, currency, made_on, named)
    promise.save()
    PromiseInvoice.objects.bulk_create(
        [PromiseInvoice(organization_id=customer.organization_id, promise=promise, invoice=inv, open_amount=open_)
         for inv, open_ in coverage]
    )
    audit_append(
        organization=customer.organization_id,
        actor=actor,
        action="promise.created",
        obj=promise,
        after={
            "amount": amount,
            "currency": currency,
            "promised_date": promised_date,
            "named": bool(named),
            "invoices": [inv.number for inv, _open in coverage],
            "covered": sum((o for _inv, o in coverage), Decimal("0.00")),
        },
        reason=note,
    )
    return promise


@transaction.atomic
def promise_cancel(*, promise: PromiseToPay, actor: Any, reason: str = "") -> PromiseToPay:
    if promise.status != PromiseToPay.Status.OPEN:
        raise AppError(ErrorCode.CONFLICT, gettext('The promise is already %(status)s.') % {
            'status': promise.status}, status=409)
    promise.status, promise.closed_on = PromiseToPay.Status.CANCELLED, promise.organization.local_date()
    promise.save(update_fields=["status", "closed_on"])
    audit_append(
        organization=promise.organization_id,
        actor=actor,
        action="promise.cancelled",
        obj=promise,
        before={"status": "open"},
        after={"status": "cancelled"},
        reason=reason,
    )
    return promise


@transaction.atomic
def dispute_open(
    *, invoice: Invoice, reason: str, actor: Any, description: str = "", amount: Decimal | None = None
) -> Dispute:
    """Open a dispute on an invoice: its dunning pauses until the dispute is resolved or rejected."""
    if Dispute.objects.filter(invoice=invoice, status=Dispute.Status.OPEN).exists():
        raise AppError(
            ErrorCode.CONFLICT, gettext('Invoice %(number)s already has an open dispute.') % {
                'number': invoice.number}, status=409
        )
    dispute = Dispute(
        organization_id=invoice.organization_id,
        invoice=invoice,
        customer_id=invoice.customer_id,
        reason=reason,
        description=description,
        amount=amount,
        opened_on=invoice.organization.local_date(),
        opened_by=_user(actor),
    )
    dispute.full_clean(exclude=["organization", "invoice", "customer", "opened_by", "resolved_by"])
    if amount is not None and amount > invoice.amount:
        raise ValidationError({"amount": gettext("%(amount)s is more than the invoice's %(amount2)s.") % {
            'amount': amount, 'amount2': invoice.amount}})
    dispute.save()
    audit_append(
        organization=invoice.organization_id,
        actor=actor,
        action="dispute.opened",
        obj=dispute,
        after={"invoice": invoice.number, "reason": reason, "amount": amount},
        reason=description,
    )
    return dispute


@transaction.atomic
def dispute_resolve(*, dispute: Dispute, status: str, actor: Any, resolution: str = "") -> Dispute:
    if status not in (Dispute.Status.RESOLVED, Dispute.Status.REJECTED):
        raise AppError(ErrorCode.VALIDATION, gettext("status must be 'resolved' or 'rejected', not %(status)s.") % {
            'status': repr(status)})
    if dispute.status != Dispute.Status.OPEN:
        raise AppError(ErrorCode.CONFLICT, gettext('The dispute is already %(status)s.') % {
            'status': dispute.status}, status=409)
    dispute.status, dispute.resolution = status, resolution
    dispute.resolved_on, dispute.resolved_by = dispute.organization.local_date(), _user(actor)
    dispute.save(update_fields=["status", "resolution", "resolved_on", "resolved_by"])
    audit_append(
        organization=dispute.organization_id,
        actor=actor,
        action=f"dispute.{status}",
        obj=dispute,
        before={"status": "open"},
        after={"status": status},
        reason=resolution,
    )
    return dispute


@transaction.atomic
def call_note_add(
    *,
    customer: Customer,
    outcome: str,
    actor: Any,
    note: str = "",
    contact_person: str = "",
    next_action_on: dt.date | None = None,
    next_action: str = "",
) -> CallNote:
    """Record a call; a next action with a date becomes a follow-up task for the caller."""
    call = CallNote(
        organization_id=customer.organization_id,
        customer=customer,
        author=_user(actor),
        outcome=outcome,
        note=note,
        contact_person=contact_person,
        next_action_on=next_action_on,
        next_action=next_action,
    )
    call.full_clean(exclude=["organization", "customer", "author"])
    call.save()
    if next_action_on is not None:
        CollectionTask.objects.create(
            organization_id=customer.organization_id,
            customer=customer,
            kind=CollectionTask.Kind.FOLLOW_UP,
            assigned_to=_user(actor),
            due_date=next_action_on,
            title=next_action or "Follow up on the call",
            note=note[:500],
        )
    audit_append(
        organization=customer.organization_id,
        actor=actor,
        action="collections.call_logged",
        obj=call,
        after={"outcome": outcome, "next_action_on": next_action_on},
    )
    return call


@transaction.atomic
def task_complete(
    *, task: CollectionTask, actor: Any, note: str = "", cancel: bool = False
) -> CollectionTask:
    if task.is_managers_handover and not actor_has_capability(actor, task.organization_id, Cap.POLICY_EDIT):
        raise AppError(
            ErrorCode.PERMISSION_DENIED,
            _("Only a credit manager may close a hand-over task (%(kind)s) from the managers' queue.")
            % {"kind": task.get_kind_display()},
            status=403,
        )
    if task.status != CollectionTask.Status.OPEN:
        raise AppError(ErrorCode.CONFLICT, gettext('The task is already %(status)s.') % {
            'status': task.status}, status=409)
    task.status = CollectionTask.Status.CANCELLED if cancel else CollectionTask.Status.DONE
    task.completed_at, task.completed_by = timezone.now(), _user(actor)
    if note:
        task.note = (task.note + "\n" + note).strip()
    task.save(update_fields=["status", "completed_at", "completed_by", "note"])
    audit_append(
        organization=task.organization_id,
        actor=actor,
        action=f"collections.task_{task.status}",
        obj=task,
        after={"kind": task.kind, "status": task.status},
        reason=note,
    )
    return task


@transaction.atomic
def collection_task_create(*, customer: Customer, kind: str, title: str, due_date: dt.date, actor: Any,
                           assigned_to: Any = None, note: str = "") -> CollectionTask:
    """A task on a customer's file (a call, an escalation...), for a member of the organization."""
    _member(customer.organization_id, assigned_to, "assigned_to")
    task = CollectionTask(organization_id=customer.organization_id, customer=customer, kind=kind, title=title,
                          due_date=due_date, assigned_to=assigned_to, note=note)
    return record_create(obj=task, fields=("customer", "kind", "title", "due_date", "assigned_to"), actor=actor,
                         action="collections.task_created")


@transaction.atomic
def collection_task_update(*, task: CollectionTask, changes: dict[str, Any], actor: Any,
                           reason: str = "") -> CollectionTask:
    """Re-assign, re-date or re-word an open task (done and cancelled tasks are records: ``task_complete``)."""
    if task.status != CollectionTask.Status.OPEN:
        raise AppError(ErrorCode.CONFLICT, gettext('The task is already %(status)s.') % {
            'status': task.status}, status=409)
    if task.is_managers_handover and not actor_has_capability(actor, task.organization_id, Cap.POLICY_EDIT):
        raise AppError(ErrorCode.PERMISSION_DENIED,
                       _("Only a credit manager may change a hand-over task (%(kind)s) of the managers' queue.")
                       % {"kind": task.get_kind_display()}, status=403)
    if "assigned_to" in changes:
        _member(task.organization_id, changes["assigned_to"], "assigned_to")
    return record_correct(obj=task, changes=changes, editable=TASK_EDITABLE, actor=actor,
                          action="collections.task_changed", reason=reason or "edited", what="task")
