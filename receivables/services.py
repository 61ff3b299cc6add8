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

from credit_platform.audit import AuditEvent, audit_append, audit_append_many
from credit_platform.errors import AppError, ErrorCode
from customers.models import Customer

from .allocation import Source, allocate
from .models import (
    CallNote,
    CollectionProfile,
    CollectionTask,
    CreditNote,
    Dispute,
    Invoice,
    Payment,
    PromiseToPay,
)

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
        raise AppError(ErrorCode.NOT_FOUND, "No such object in your organization.", status=404)


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
            "The invoice belongs to another customer or currency.",
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
        raise AppError(ErrorCode.CONFLICT, f"Payment {reference} already exists.", status=409) from None
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
    return payment, result


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


@transaction.atomic
def promise_create(
    *,
    customer: Customer,
    amount: Decimal,
    promised_date: dt.date,
    actor: Any,
    currency: str | None = None,
    invoice: Invoice | None = None,
    note: str = "",
    made_on: dt.date | None = None,
) -> PromiseToPay:
    """Record a promise to pay. While open it pauses dunning of its invoice (or of the whole account);
    the daily run closes it as kept or broken after its date plus the policy's grace days."""
    _same_org(customer, invoice)
    if invoice is not None and invoice.customer_id != customer.pk:
        raise AppError(ErrorCode.VALIDATION, f"Invoice {invoice.number} belongs to another customer.")
    currency = currency or (invoice.currency if invoice else customer.currency)
    promise = PromiseToPay(
        organization_id=customer.organization_id,
        customer=customer,
        invoice=invoice,
        made_on=made_on or customer.organization.local_date(),
        promised_date=promised_date,
        amount=amount,
        currency=currency,
        note=note,
        created_by=_user(actor),
    )
    promise.full_clean(exclude=["organization", "customer", "invoice", "created_by"])
    if promise.promised_date < promise.made_on:
        raise ValidationError(
            {"promised_date": "The promised date cannot be before the day the promise was made."}
        )
    promise.save()
    audit_append(
        organization=customer.organization_id,
        actor=actor,
        action="promise.created",
        obj=promise,
        after={
            "amount": amount,
            "currency": currency,
            "promised_date": promised_date,
            "invoice": invoice.number if invoice else None,
        },
        reason=note,
    )
    return promise


@transaction.atomic
def promise_cancel(*, promise: PromiseToPay, actor: Any, reason: str = "") -> PromiseToPay:
    if promise.status != PromiseToPay.Status.OPEN:
        raise AppError(ErrorCode.CONFLICT, f"The promise is already {promise.status}.", status=409)
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
            ErrorCode.CONFLICT, f"Invoice {invoice.number} already has an open dispute.", status=409
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
        raise ValidationError({"amount": f"{amount} is more than the invoice's {invoice.amount}."})
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
        raise AppError(ErrorCode.VALIDATION, f"status must be 'resolved' or 'rejected', not {status!r}.")
    if dispute.status != Dispute.Status.OPEN:
        raise AppError(ErrorCode.CONFLICT, f"The dispute is already {dispute.status}.", status=409)
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
    if task.status != CollectionTask.Status.OPEN:
        raise AppError(ErrorCode.CONFLICT, f"The task is already {task.status}.", status=409)
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
