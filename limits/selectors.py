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
from credit_platform.money import ZERO, FxTable, money_read
from credit_platform.sql import fetch_prepared
from customers.models import Customer
from receivables.balances import Sql, invoice_balances
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


# The bucket of the open-order rows of ``position_sql`` (the others are aging bucket keys).
ORDER_ROWS = "order"


def position_sql(organization_id: int, customer_ids: list[int], as_of: dt.date,
                 exclude_order_id: int | None = None) -> Sql:
    """Rows ``(customer_id, currency, bucket, amount, count, oldest due date)`` of the customers' open
    position: their open items by currency and age bucket (``receivables.balances.invoice_balances``, the
    one open-balance rule, reading only their invoices and those invoices' allocations), as
    ``receivables.selectors.open_items_grouped`` groups them, and their open orders by currency (bucket
    ``ORDER_ROWS``; ``exclude_order_id``: the order being checked, not counted twice). One statement."""
    from receivables.models import Order
    from receivables.selectors import _bucket_case

    case, case_params = _bucket_case(as_of)
    items = invoice_balances(organization_id, as_of, customer_ids=customer_ids)
    orders = connection.ops.quote_name(Order._meta.db_table)
    ids = ", ".join(["%s"] * len(customer_ids)) or "NULL"
    skip = "AND r.id <> %s" if exclude_order_id is not None else ""
    text = f"""
        SELECT o.customer_id, o.currency, {case} AS bucket, sum(o.open_amount) AS amount, count(*) AS n,
               min(o.due_date) AS oldest
        FROM ({items.text}) o GROUP BY o.customer_id, o.currency, bucket
        UNION ALL
        SELECT r.customer_id, r.currency, '{ORDER_ROWS}', sum(r.amount), count(*), NULL FROM {orders} r
        WHERE r.organization_id = %s AND r.customer_id IN ({ids}) AND r.status = 'open' AND r.order_date <= %s
              {skip}
        GROUP BY r.customer_id, r.currency"""  # noqa: S608 - identifiers from model meta, values as parameters
    params = [*case_params, *items.params, organization_id, *customer_ids, as_of]
    if exclude_order_id is not None:
        params.append(exclude_order_id)
    return Sql(text, tuple(params))


def position_currencies(rows: Iterable[tuple[Any, ...]]) -> set[str]:
    return {r[1] for r in rows}


def standing_from_rows(rows: Iterable[tuple[Any, ...]], fx: FxTable) -> Standing:
    """One customer's ``position_sql`` rows -> its Standing in base currency, by the rule of
    ``exposure_from``: each currency's open items converted once and split over their buckets
    (``receivables.selectors.convert_split``, as ``customer_balances`` does), each currency's open orders
    converted once (as ``open_orders_by_customer``), so the exposure equals, to the cent, what every page
    shows for the customer."""
    from receivables.selectors import convert_split

    standing = Standing()
    parts: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for _customer_id, currency, bucket, amount, *_rest in rows:
        if bucket == ORDER_ROWS:
            standing.orders += fx.convert(money_read(amount), currency)
        else:
            parts[currency][bucket] = money_read(amount)
    for currency, by_bucket in parts.items():
        for bucket, value in (by_bucket if currency == fx.base_currency
                              else convert_split(by_bucket, currency, fx)).items():
            standing.receivables += value
            standing.by_bucket[bucket] = standing.by_bucket.get(bucket, ZERO) + value
            if bucket != "current":
                standing.overdue += value
                standing.weighted_overdue += value * AGE_WEIGHTS[bucket]
    return standing


def fx_for(organization: Organization, as_of: dt.date, currencies: Iterable[str]) -> FxTable:
    """The rates of ``currencies``, read only when one of them is not the base currency."""
    foreign = set(currencies) - {organization.base_currency}
    return FxTable.load(organization, as_of, foreign) if foreign else FxTable(organization.base_currency, as_of, {})


def customer_standing(organization: Organization, customer_id: int, as_of: dt.date,
                      exclude_order_id: int | None = None) -> Standing:
    """Exposure and overdue of one customer in one statement (``position_sql``, planned once per
    connection); the rates are read only when a currency is not the base currency."""
    rows = fetch_prepared(*_statement(position_sql(organization.pk, [customer_id], as_of, exclude_order_id)))
    return standing_from_rows(rows, fx_for(organization, as_of, position_currencies(rows)))


def _statement(sql: Sql) -> tuple[str, tuple[Any, ...]]:
    return sql.text, sql.params


@dataclass
class CheckRead:
    """What the order check reads of a customer: its state (status, currency and limit, group, active
    holds by kind, the latest limit decision, an overdue open review, the grade, the group's shared limit),
    its ``position_sql`` rows and, when its group has a shared limit, the group's members."""

    state: dict[str, Any]
    rows: list[tuple[Any, ...]]
    members: list[int]


_STATE_COLUMNS = ("status", "currency", "credit_limit", "group_id", "block", "hold", "warn", "decision_kind",
                  "valid_until", "review_due", "grade", "group_limit")


def check_read(organization: Organization, customer_id: int, as_of: dt.date,
               exclude_order_id: int | None = None) -> CheckRead | None:
    """Everything the order check needs of one customer in ONE statement, planned once per connection
    (``fetch_prepared``): the state as scalar subqueries of the customer's row, each served by an index
    (active holds: ``hold_active_idx``; the latest decision: the decision's customer index; the open review:
    ``review_one_open``; the score and the group limit: their one-to-one keys), joined to the rows of its
    open position (``position_sql``) and of its group's members. None when the customer is not the
    organization's."""
    from customers.models import Customer
    from scoring.models import CurrentScore

    from .models import GroupLimit, LimitDecision

    t = {m.__name__: connection.ops.quote_name(m._meta.db_table)
         for m in (Customer, Hold, LimitDecision, Review, CurrentScore, GroupLimit)}
    position = position_sql(organization.pk, [customer_id], as_of, exclude_order_id)
    held = f"SELECT 1 FROM {t['Hold']} h WHERE h.customer_id = c.id AND h.released_at IS NULL AND h.kind = %s"  # noqa: S608
    decision = f"FROM {t['LimitDecision']} d WHERE d.customer_id = c.id ORDER BY d.valid_from DESC, d.id DESC LIMIT 1"
    # The state is a one-row subquery (LIMIT 1: planned apart, so that its subqueries run once, each through
    # its index, not once per row of the position joined to it).
    sql = f"""
        WITH p AS ({position.text})
        SELECT st.*, x.customer_id, x.currency, x.bucket, x.amount, x.n, x.oldest, x.member
        FROM (
            SELECT c.status, c.currency, c.credit_limit, c.group_id,
                   EXISTS ({held}) AS block, EXISTS ({held}) AS hold, EXISTS ({held}) AS warn,
                   (SELECT d.kind {decision}) AS decision_kind, (SELECT d.valid_until {decision}) AS valid_until,
                   (SELECT r.due_on FROM {t['Review']} r
                    WHERE r.customer_id = c.id AND r.status = %s AND r.due_on < %s ORDER BY r.due_on, r.id LIMIT 1
                   ) AS review_due,
                   (SELECT s.grade FROM {t['CurrentScore']} s WHERE s.customer_id = c.id) AS grade,
                   (SELECT g."limit" FROM {t['GroupLimit']} g WHERE g.group_id = c.group_id) AS group_limit
            FROM {t['Customer']} c WHERE c.id = %s AND c.organization_id = %s LIMIT 1
        ) st LEFT JOIN (
            SELECT p.customer_id, p.currency, p.bucket, p.amount, p.n, p.oldest, NULL AS member FROM p
            UNION ALL
            SELECT NULL, NULL, NULL, NULL, NULL, NULL, m.id FROM {t['Customer']} m
            WHERE m.organization_id = %s AND m.group_id = (SELECT k.group_id FROM {t['Customer']} k WHERE k.id = %s)
              AND EXISTS (SELECT 1 FROM {t['GroupLimit']} gl WHERE gl.group_id = m.group_id)
        ) x ON 1 = 1"""  # noqa: S608 - identifiers from model meta, values as parameters
    params = [*position.params, Hold.Kind.BLOCK, Hold.Kind.HOLD, Hold.Kind.WARN, Review.Status.OPEN, as_of,
              customer_id, organization.pk, organization.pk, customer_id]
    rows = fetch_prepared(sql, params)
    if not rows:
        return None
    first = rows[0]
    state = dict(zip(_STATE_COLUMNS, first[:12], strict=True))
    for key in ("valid_until", "review_due"):  # SQLite answers an expression's date as text
        value = state[key]
        state[key] = value if value is None or isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    for key in ("credit_limit", "group_limit"):
        state[key] = None if state[key] is None else money_read(state[key])
    state["id"] = customer_id
    position_rows = [r[12:18] for r in rows if r[14] is not None]
    members = sorted(int(r[18]) for r in rows if r[18] is not None)
    return CheckRead(state, position_rows, members)


def group_exposure(organization: Organization, member_ids: list[int], as_of: dt.date) -> Decimal:
    """The exposure of a group (the sum of its members' ``exposure_from``, as ``exposure_by_group``) in
    one statement planned once per connection (``position_sql`` of the members)."""
    from receivables.selectors import balances_from_rows

    if not member_ids:
        return ZERO
    rows = fetch_prepared(*_statement(position_sql(organization.pk, member_ids, as_of)))
    fx = fx_for(organization, as_of, position_currencies(rows))
    items = [r for r in rows if r[2] != ORDER_ROWS]
    orders: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for customer_id, currency, _bucket, amount, *_rest in (r for r in rows if r[2] == ORDER_ROWS):
        orders[customer_id] += fx.convert(money_read(amount), currency)
    return sum(exposure_from(balances_from_rows(items, fx), orders).values(), ZERO)


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
