"""Builders of small books for the early-warning tests: a customer's invoices paid n days late, scores,
orders. Everything is dated relative to ``AS_OF``, the suite's business date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from alerts.indicators import DEFAULTS, evaluate, merged
from receivables.allocation import Source, allocate
from tests.conftest import SUITE_TODAY
from tests.factories import InvoiceFactory, PaymentFactory

AS_OF = SUITE_TODAY


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def paid_late(customer: Any, *, paid_days_ago: int, late: int, amount: str = "100.00") -> Any:
    """An invoice due ``late`` days before it was paid, paid in full ``paid_days_ago`` days ago."""
    paid_on = days_ago(paid_days_ago)
    due = paid_on - dt.timedelta(days=late)
    invoice = InvoiceFactory(customer=customer, organization=customer.organization, issue_date=due - dt.timedelta(
        days=30), due_date=due, amount=Decimal(amount))
    payment = PaymentFactory(customer=customer, organization=customer.organization, amount=Decimal(amount),
                             received_on=paid_on)
    with transaction.atomic():  # the allocation's stage table lives in a transaction
        allocate(customer.organization_id, [Source("payment", payment.pk, customer.pk, customer.currency, paid_on,
                                                   Decimal(amount), invoice.pk)])
    return invoice


def fired(organization: Any, indicator: str, *, as_of: dt.date = AS_OF, only: dict[str, Any] | None = None,
          customer_ids: Any = None) -> dict[int | None, Any]:
    """{customer id: finding} of one indicator, the others switched off."""
    t = merged({name: {"enabled": name == indicator} for name in DEFAULTS})
    if only:
        t[indicator].update(only)
    return {f.customer_id: f for f in evaluate(organization, as_of, customer_ids, t) if f.indicator == indicator}
