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
from credit_platform.money import ZERO, FxTable
from customers.models import Customer

from .models import Alert


@dataclass(frozen=True)
class LimitFigures:
    """A customer's open and overdue receivables and credit limit, all in base currency."""

    open: Decimal
    overdue: Decimal
    limit: Decimal | None


def limit_figures(organization: Organization, as_of: dt.date,
                  customer_ids: Iterable[int] | None = None) -> dict[int, LimitFigures]:
    """The one place the indicators read a customer's use of its limit: the open and overdue balance of
    ``receivables.selectors.customer_balances`` (the one open-balance builder) against
    ``Customer.credit_limit``, converted to base currency at ``as_of``. Customers with no open items
    and no limit are absent. When the limits app owns exposure (open receivables plus open orders),
    this function is the one to switch to it."""
    from receivables.selectors import customer_balances

    ids = None if customer_ids is None else list(customer_ids)
    balances = customer_balances(organization, as_of, ids)
    limits = Customer.objects.for_organization(organization).filter(credit_limit__isnull=False)
    if ids is not None:
        limits = limits.filter(pk__in=ids)
    rows = list(limits.values_list("pk", "credit_limit", "currency"))
    fx = FxTable.load(organization, as_of, {r[2] for r in rows})
    converted = {pk: fx.convert(limit, currency) for pk, limit, currency in rows if fx.rate_or_none(currency)}
    out: dict[int, LimitFigures] = {}
    for pk in set(balances) | set(converted):
        bal = balances.get(pk)
        out[pk] = LimitFigures(open=bal.open if bal else ZERO, overdue=bal.overdue if bal else ZERO,
                               limit=converted.get(pk))
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
