"""Reads of the alerts app: the alert lists of the pages and the API, and the limit figures the
indicators compare with the credit limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from credit_platform.models import Organization
from credit_platform.money import ZERO, FxTable, money
from customers.models import Customer

from .models import Alert


@dataclass(frozen=True)
class LimitFigures:
    """A customer's exposure (open receivables + open orders), its overdue receivables and its credit
    limit, in the customer's currency (the limit's currency)."""

    open: Decimal
    overdue: Decimal
    limit: Decimal | None
    currency: str


def limit_figures(organization: Organization, as_of: dt.date,
                  customer_ids: Iterable[int] | None = None) -> dict[int, LimitFigures]:
    """The one place the indicators read a customer's use of its limit. Exposure as the limits app defines
    it (``limits.selectors.exposure_by_customer``): the open items of the one open-balance builder plus
    open (not yet invoiced) orders, here against ``Customer.credit_limit`` in the customer's currency, so
    that FX moves no ratio; items in another currency are converted through base currency at ``as_of``,
    and a customer with such items and no rate for them is left out (no decision on a total that lacks
    amounts)."""
    from receivables.selectors import open_items_grouped, open_orders_by_customer

    ids = None if customer_ids is None else list(customer_ids)
    rows = open_items_grouped(organization, as_of, by_customer=True, customer_ids=ids)
    customers = Customer.objects.for_organization(organization)
    if ids is not None:
        customers = customers.filter(pk__in=ids)
    info = {pk: (limit, currency) for pk, limit, currency in customers.values_list("pk", "credit_limit", "currency")}
    fx = FxTable.load(organization, as_of)
    totals: dict[int, list[Decimal]] = {}
    undecidable: set[int] = set()
    for customer_id, currency, bucket, amount, _count, _oldest in rows:
        own = info.get(customer_id, (None, currency))[1]
        value = amount if isinstance(amount, Decimal) else money(str(amount))
        if currency != own:
            rate, own_rate = fx.rates.get(currency), fx.rates.get(own)
            if rate is None or own_rate is None:
                undecidable.add(customer_id)
                continue
            value = money(value * rate / own_rate)
        total = totals.setdefault(customer_id, [ZERO, ZERO])
        total[0] += value
        if bucket != "current":
            total[1] += value
    for customer_id, amount_base in open_orders_by_customer(organization, as_of, ids).items():
        own = info.get(customer_id, (None, fx.base_currency))[1]
        own_rate = fx.rates.get(own)
        if own_rate is None:
            undecidable.add(customer_id)
            continue
        totals.setdefault(customer_id, [ZERO, ZERO])[0] += money(amount_base / own_rate)
    out: dict[int, LimitFigures] = {}
    for pk, (limit, currency) in info.items():
        if pk in undecidable or (pk not in totals and limit is None):
            continue
        open_, overdue = totals.get(pk, [ZERO, ZERO])
        out[pk] = LimitFigures(open=open_, overdue=overdue, limit=limit, currency=currency)
    return out


@dataclass(frozen=True)
class AlertFilters:
    severity: str = ""
    indicator: str = ""
    assignee: str = ""  # a user id, "me" or "none"
    customer: str = ""  # a customer id or a name fragment
    status: str = "active"  # "active" (open or acknowledged, not snoozed), a status, or "all"


def alerts_for(organization: Organization, filters: AlertFilters, *, user: Any = None,
               today: dt.date | None = None) -> QuerySet[Alert]:
    qs = Alert.objects.for_organization(organization).select_related("customer", "assignee")
    today = today or organization.local_date()
    if filters.status == "active":
        qs = qs.filter(status__in=Alert.ACTIVE).filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lt=today))
    elif filters.status == "snoozed":
        qs = qs.filter(status__in=Alert.ACTIVE, snoozed_until__gte=today)
    elif filters.status in Alert.Status.values:
        qs = qs.filter(status=filters.status)
    if filters.severity in Alert.Severity.values:
        qs = qs.filter(severity=filters.severity)
    if filters.indicator:
        qs = qs.filter(kind=filters.indicator)
    if filters.assignee == "me" and user is not None:
        qs = qs.filter(assignee=user)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        qs = qs.filter(assignee_id=int(filters.assignee))
    if filters.customer.isdigit():
        qs = qs.filter(customer_id=int(filters.customer))
    elif filters.customer:
        qs = qs.filter(Q(customer__legal_name__icontains=filters.customer)
                       | Q(customer__external_id__iexact=filters.customer))
    return qs


def active_count(organization: Organization, today: dt.date | None = None) -> int:
    """Open or acknowledged alerts that are not snoozed: the count in the navigation."""
    return alerts_for(organization, AlertFilters(), today=today).count()


def customer_alerts(organization: Organization, customer_id: int, limit: int = 10) -> list[Alert]:
    return list(Alert.objects.for_organization(organization).filter(customer_id=customer_id, status__in=Alert.ACTIVE)
                .select_related("assignee")[:limit])
