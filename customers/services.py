"""Writes to customer data. Status and credit-limit changes are credit decisions: audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alerts.services import evaluate_on_commit
from credit_platform.audit import AuditEvent, audit_append_many
from credit_platform.corrections import record_correct, record_create, values_of

from . import statements
from .models import Customer, CustomerGroup, ExternalSignal, FinancialStatement

DECISION_FIELDS = ("status", "credit_limit")
# The profile's other fields: a change of any of them is recorded too (old and new values, one entry).
PROFILE_FIELDS = ("external_id", "legal_name", "registration_number", "country", "sector", "size", "group",
                  "currency", "payment_terms_days", "customer_since", "email", "phone", "address")


@transaction.atomic
def customer_save(*, customer: Customer, actor: Any, reason: str = "") -> Customer:
    """Create or update a customer; changes of status or credit limit go to the audit ledger as decisions,
    changes of other fields as one ``customer.changed`` entry with their old and new values."""
    previous = None
    if customer.pk is not None:
        stored = Customer.objects.select_for_update().filter(pk=customer.pk).first()
        previous = values_of(stored, (*DECISION_FIELDS, *PROFILE_FIELDS)) if stored else None
    refuse_credit_writes(customer, previous)
    customer.full_clean()
    customer.updated_at = timezone.now()
    customer.save()
    events = []
    if previous is None:
        events.append(AuditEvent("customer.created", customer, None,
                                 {f: getattr(customer, f) for f in DECISION_FIELDS}, reason))
    else:
        if previous["status"] != customer.status:
            events.append(AuditEvent("customer.status_changed", customer, {"status": previous["status"]},
                                     {"status": customer.status}, reason))
        if previous["credit_limit"] != customer.credit_limit:
            events.append(AuditEvent("customer.limit_changed", customer, {"credit_limit": previous["credit_limit"]},
                                     {"credit_limit": customer.credit_limit}, reason))
        now = values_of(customer, PROFILE_FIELDS)
        changed = [f for f in PROFILE_FIELDS if previous[f] != now[f]]
        if changed:
            events.append(AuditEvent("customer.changed", customer, {f: previous[f] for f in changed},
                                     {f: now[f] for f in changed}, reason))
    audit_append_many(organization=customer.organization_id, actor=actor, events=events)
    return customer


HELD_STATUSES = (Customer.Status.ON_HOLD, Customer.Status.BLOCKED)


def refuse_credit_writes(customer: Customer, previous: dict[str, Any] | None) -> None:
    """A customer's limit, terms and hold status are credit decisions (the limits app: a limit request,
    a decision, a hold): a profile save that would change them is refused, naming the field, and changes
    nothing. A new customer may start with terms; its limit starts empty."""
    errors: dict[str, str] = {}
    old = previous or {"credit_limit": None, "status": None, "payment_terms_days": customer.payment_terms_days}
    if customer.credit_limit != old["credit_limit"]:
        errors["credit_limit"] = (f"'{customer.credit_limit}': a credit limit is changed only by a decision on a "
                                  "limit request (Credit limits), not by editing the customer.")
    if previous is not None and customer.payment_terms_days != old["payment_terms_days"]:
        errors["payment_terms_days"] = (f"'{customer.payment_terms_days}': payment terms are changed only by a "
                                        "decision on a limit request, not by editing the customer.")
    if customer.status != old["status"] and (customer.status in HELD_STATUSES or old["status"] in HELD_STATUSES):
        errors["status"] = (f"'{old['status'] or '-'}' -> '{customer.status}': credit hold and block are placed "
                            "and lifted as holds (Credit limits), not by editing the customer's status.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def customer_set_status(*, customer: Customer, status: str, actor: Any, reason: str = "") -> Customer:
    customer.status = status
    return customer_save(customer=customer, actor=actor, reason=reason)


# --- groups, financial statements, external signals -----------------------------------------------

GROUP_FIELDS = ("external_id", "name", "country")
STATEMENT_IDENTITY = ("customer", "period_end")
STATEMENT_EDITABLE = ("period_months", "currency", "audited", "source", *statements.AMOUNT_FIELDS)
SIGNAL_IDENTITY = ("customer", "kind", "source", "reference")
SIGNAL_EDITABLE = ("observed_on", "value", "severity", "title")


@transaction.atomic
def customer_group_save(*, group: CustomerGroup, actor: Any, reason: str = "") -> CustomerGroup:
    """Create or rename a group (parent company); the ledger keeps old and new values."""
    if group.pk is None:
        return record_create(obj=group, fields=GROUP_FIELDS, actor=actor, action="customer_group.created",
                             reason=reason)
    changes = {f: getattr(group, f) for f in GROUP_FIELDS}
    return record_correct(obj=group, changes=changes, editable=GROUP_FIELDS, actor=actor,
                          action="customer_group.changed", reason=reason or "edited", what="customer group")


@transaction.atomic
def statement_create(*, customer: Customer, actor: Any, reason: str = "", **values: Any) -> FinancialStatement:
    """Record a customer's financial statement (balance checked: assets = liabilities + equity)."""
    statement = FinancialStatement(organization_id=customer.organization_id, customer=customer, **values)
    evaluate_on_commit(customer.organization_id, [customer.pk])  # early warnings: covenants
    return record_create(obj=statement, fields=("customer", "period_end", *STATEMENT_EDITABLE), actor=actor,
                         action="statement.created", reason=reason)


@transaction.atomic
def statement_correct(*, statement: FinancialStatement, changes: dict[str, Any], actor: Any,
                      reason: str) -> FinancialStatement:
    """Correct a recorded statement's figures (with a reason; the ledger keeps old and new values). Its
    customer and period end are its identity: another period is another statement."""
    return record_correct(obj=statement, changes=changes, editable=STATEMENT_EDITABLE, actor=actor,
                          action="statement.corrected", reason=reason, what="financial statement")


@transaction.atomic
def signal_create(*, customer: Customer, actor: Any, reason: str = "", **values: Any) -> ExternalSignal:
    """Record an external signal (bureau score, litigation, news...) about a customer."""
    signal = ExternalSignal(organization_id=customer.organization_id, customer=customer, **values)
    evaluate_on_commit(customer.organization_id, [customer.pk])  # early warnings: litigation, news
    return record_create(obj=signal, fields=(*SIGNAL_IDENTITY, *SIGNAL_EDITABLE), actor=actor,
                         action="signal.created", reason=reason)


@transaction.atomic
def signal_correct(*, signal: ExternalSignal, changes: dict[str, Any], actor: Any, reason: str) -> ExternalSignal:
    return record_correct(obj=signal, changes=changes, editable=SIGNAL_EDITABLE, actor=actor,
                          action="signal.corrected", reason=reason, what="external signal")
