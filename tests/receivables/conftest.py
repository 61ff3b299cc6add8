"""Helpers for receivables tests: a tiny book built invoice by invoice, payments applied explicitly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from receivables.allocation import Source, allocate
from receivables.models import CreditNote
from tests.factories import InvoiceFactory, PaymentFactory

D = dt.date


def pay(invoice: Any, amount: str, on: dt.date, *, reference: str | None = None) -> Any:
    """A payment of ``amount`` received ``on``, applied to ``invoice``."""
    kwargs = {"reference": reference} if reference else {}
    payment = PaymentFactory(
        customer=invoice.customer,
        organization=invoice.organization,
        amount=Decimal(amount),
        received_on=on,
        currency=invoice.currency,
        **kwargs,
    )
    allocate(
        invoice.organization_id,
        [
            Source(
                "payment", payment.pk, invoice.customer_id, invoice.currency, on, Decimal(amount), invoice.pk
            )
        ],
    )
    return payment


def credit(invoice: Any, amount: str, on: dt.date, number: str) -> Any:
    note = CreditNote.objects.create(
        organization=invoice.organization,
        customer=invoice.customer,
        number=number,
        issue_date=on,
        amount=Decimal(amount),
        currency=invoice.currency,
    )
    allocate(
        invoice.organization_id,
        [
            Source(
                "credit_note", note.pk, invoice.customer_id, invoice.currency, on, Decimal(amount), invoice.pk
            )
        ],
    )
    return note


def invoice(customer: Any, amount: str, issued: dt.date, due: dt.date, **kw: Any) -> Any:
    return InvoiceFactory(
        customer=customer,
        organization=customer.organization,
        amount=Decimal(amount),
        issue_date=issued,
        due_date=due,
        currency=kw.pop("currency", customer.currency),
        **kw,
    )


@pytest.fixture
def policy(org: Any) -> Any:
    from receivables.dunning.policy import dunning_policy_ensure_default

    return dunning_policy_ensure_default(org)
