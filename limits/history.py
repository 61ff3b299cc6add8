"""Limits as they stood on a date, from the dated decisions (no look-ahead: scoring's training snapshots
read the limit a customer had then, not the one it has now)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from credit_platform.models import Organization

from .models import LimitDecision


def limits_as_of(organization: Organization, as_of: dt.date, *, in_base: bool = True) -> dict[int, Decimal]:
    """Customer id -> the limit of its latest decision taken on or before ``as_of``: in base currency at
    the decision's rate, or with ``in_base=False`` in the decision's own currency (the customer's, as
    ``Customer.credit_limit``). An expired decision counts 0. Customers without a decision by then are
    absent."""
    rows = (
        LimitDecision.objects.for_organization(organization)
        .filter(valid_from__lte=as_of)
        .order_by("customer_id", "-valid_from", "-pk")
        .values_list("customer_id", "limit_base" if in_base else "limit", "valid_until")
    )
    out: dict[int, Decimal] = {}
    for customer_id, limit_base, valid_until in rows:
        if customer_id in out:
            continue
        out[customer_id] = Decimal(0) if valid_until is not None and valid_until < as_of else limit_base
    return out
