"""Reads of the limits app: exposure (the one definition), the approval queue, the held-order queue, the
review worklist, a customer's credit summary."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from credit_platform.models import Organization
from credit_platform.money import ZERO, FxTable, money
from customers.models import Customer
from receivables.selectors import customer_balances, open_orders_by_customer

from .models import Hold, LimitRequest, OrderCheck, RecommendedLimit, Review

# Weight of an overdue amount by how late it is (bucket keys of receivables.selectors.AGING_BUCKETS): an
# invoice a few days late is mostly paperwork, one past 90 days is the usual default definition, so it
# weighs four times as much. Multiplied by the grade's overdue weight (limits.policy) in the order check.
AGE_WEIGHTS = {"current": Decimal(0), "d1_30": Decimal("0.5"), "d31_60": Decimal("1.0"),
               "d61_90": Decimal("1.5"), "d91_180": Decimal("2.0"), "d180_plus": Decimal("2.0")}


def exposure_from(balances: Mapping[int, Any], orders: Mapping[int, Decimal]) -> dict[int, Decimal]:
    """THE rule of exposure, in base currency per customer: open receivables (``balances``, from
    ``receivables.selectors.customer_balances``: partial payments and credit notes allocated by the date
    count) + open, not yet invoiced orders (``orders``, from ``open_orders_by_customer``). Every page,
    the order credit check, the overview and the lists read exposure through this function."""
    exposure: dict[int, Decimal] = {cid: b.open for cid, b in balances.items()}
    for cid, amount in orders.items():
        exposure[cid] = exposure.get(cid, ZERO) + amount
    return exposure


def balances_and_exposure(organization: Organization, as_of: dt.date, customer_ids: Iterable[int] | None = None
                          ) -> tuple[dict[int, Any], dict[int, Decimal]]:
    """Each customer's balance (open, overdue, oldest due) and its exposure: two grouped reads."""
    ids = None if customer_ids is None else list(customer_ids)
    balances = customer_balances(organization, as_of, ids)
    return balances, exposure_from(balances, open_orders_by_customer(organization, as_of, ids))


def exposure_by_customer(organization: Organization, customer_ids: Iterable[int] | None = None, *,
                         as_of: dt.date | None = None) -> dict[int, Decimal]:
    """Exposure (``exposure_from``) per customer as of ``as_of`` (default: the organization's business
    date). Customers with nothing open are absent."""
    _balances, exposure = balances_and_exposure(organization, as_of or organization.local_date(), customer_ids)
    return {k: v for k, v in exposure.items() if v}


def exposure_by_group(organization: Organization, group_ids: Iterable[int] | None = None, *,
                      as_of: dt.date | None = None) -> dict[int, Decimal]:
    members = Customer.objects.for_organization(organization).filter(group__isnull=False)
    if group_ids is not None:
        members = members.filter(group_id__in=list(group_ids))
    group_of = dict(members.values_list("id", "group_id"))
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for customer_id, amount in exposure_by_customer(organization, list(group_of), as_of=as_of).items():
        out[group_of[customer_id]] += amount
    return dict(out)


@dataclass
class Standing:
    """One customer's open position for the order check: exposure and age-weighted overdue (base)."""

    receivables: Decimal = ZERO
    orders: Decimal = ZERO
    overdue: Decimal = ZERO
    weighted_overdue: Decimal = ZERO
    by_bucket: dict[str, Decimal] = field(default_factory=dict)

    @property
    def exposure(self) -> Decimal:
        return self.receivables + self.orders


def customer_standing(organization: Organization, customer_id: int, as_of: dt.date,
                      exclude_order_id: int | None = None) -> Standing:
    """Exposure and overdue of one customer in one statement: its open items by currency and age bucket
    (``receivables.balances`` through ``invoice_balances``, its own invoices and their allocations only)
    and, in the same round trip, its open orders by currency; the rates are read only when a currency is
    not the base currency. The hot path of the order check."""
    from receivables.balances import invoice_balances
    from receivables.models import Order
    from receivables.selectors import _bucket_case

    case, case_params = _bucket_case(as_of)
    items = invoice_balances(organization.pk, as_of, customer_ids=[customer_id])
    orders = connection.ops.quote_name(Order._meta.db_table)
    skip = "AND r.id <> %s" if exclude_order_id is not None else ""
    sql = f"""
        SELECT o.currency, {case} AS bucket, sum(o.open_amount) FROM ({items.text}) o GROUP BY o.currency, bucket
        UNION ALL
        SELECT r.currency, 'order', sum(r.amount) FROM {orders} r
        WHERE r.organization_id = %s AND r.customer_id = %s AND r.status = 'open' AND r.order_date <= %s {skip}
        GROUP BY r.currency"""  # noqa: S608 - identifiers from model meta, values as parameters
    params = [*case_params, *items.params, organization.pk, customer_id, as_of]
    if exclude_order_id is not None:
        params.append(exclude_order_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    currencies = {r[0] for r in rows}
    fx = FxTable.load(organization, as_of, currencies) if currencies - {organization.base_currency} else \
        FxTable(organization.base_currency, as_of, {})
    standing = Standing()
    for currency, bucket, amount in rows:
        value = fx.convert(amount if type(amount) is Decimal else money(str(amount)), currency)
        if bucket == "order":
            standing.orders += value
            continue
        standing.receivables += value
        standing.by_bucket[bucket] = standing.by_bucket.get(bucket, ZERO) + value
        if bucket != "current":
            standing.overdue += value
            standing.weighted_overdue += value * AGE_WEIGHTS[bucket]
    return standing


def pending_requests(organization: Organization) -> QuerySet[LimitRequest]:
    return LimitRequest.objects.for_organization(organization).filter(
        status=LimitRequest.Status.PENDING).select_related("customer", "requested_by").order_by("expires_on", "pk")


def held_orders(organization: Organization) -> QuerySet[OrderCheck]:
    return OrderCheck.objects.for_organization(organization).filter(
        queue=OrderCheck.Queue.HELD).select_related("customer").order_by("created_at", "pk")


def review_worklist(organization: Organization, as_of: dt.date, *, horizon_days: int = 30) -> QuerySet[Review]:
    """Open reviews due within the horizon (overdue first)."""
    return Review.objects.for_organization(organization).filter(
        status=Review.Status.OPEN, due_on__lte=as_of + dt.timedelta(days=horizon_days),
    ).select_related("customer").order_by("due_on", "pk")


def active_holds(organization: Organization, customer_ids: Iterable[int] | None = None) -> QuerySet[Hold]:
    qs = Hold.objects.for_organization(organization).filter(released_at__isnull=True)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=list(customer_ids))
    return qs.select_related("customer")


def risk_summary(organization: Organization, customer: Customer, as_of: dt.date) -> dict[str, Any]:
    """What an approver reads beside a request: grade and PD, exposure, overdue, holds, recommendation."""
    from scoring.models import CurrentScore

    score = CurrentScore.objects.filter(organization=organization, customer=customer).first()
    standing = customer_standing(organization, customer.pk, as_of)
    recommended = RecommendedLimit.objects.filter(organization=organization, customer=customer).first()
    return {
        "grade": score.grade if score else None,
        "pd": score.pd if score else None,
        "reasons": (score.reasons or [])[:3] if score else [],
        "exposure": standing.exposure,
        "receivables": standing.receivables,
        "orders": standing.orders,
        "overdue": standing.overdue,
        "holds": list(active_holds(organization, [customer.pk])),
        "recommended": recommended,
        "open_reviews": list(Review.objects.for_organization(organization).filter(
            Q(customer=customer) & Q(status=Review.Status.OPEN))),
    }
