"""Writes to customer data. Status and credit-limit changes are credit decisions: audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from credit_platform.audit import AuditEvent, audit_append_many

from .models import Customer

DECISION_FIELDS = ("status", "credit_limit")


@transaction.atomic
def customer_save(*, customer: Customer, actor: Any, reason: str = "") -> Customer:
    """Create or update a customer; changes of status or credit limit go to the audit ledger."""
    previous = None
    if customer.pk is not None:
        previous = Customer.objects.select_for_update().filter(pk=customer.pk).values(*DECISION_FIELDS).first()
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
    audit_append_many(organization=customer.organization_id, actor=actor, events=events)
    return customer


@transaction.atomic
def customer_set_status(*, customer: Customer, status: str, actor: Any, reason: str = "") -> Customer:
    customer.status = status
    return customer_save(customer=customer, actor=actor, reason=reason)
