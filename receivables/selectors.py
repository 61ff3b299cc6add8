"""Reads over receivables: open items, aging and exposure, as of any date, in base currency.

One grouped SQL statement does the work, over the open items of ``receivables.balances`` (the one
definition of open balance and days past due); bucket boundaries are computed in Python as dates, so
the SQL is the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import connection
from django.utils.translation import gettext_noop

from credit_platform.models import Organization
from credit_platform.money import ZERO, FxTable, money, money_read

from .balances import days_past_due, invoice_balances
from .models import Invoice, Order, Payment

CENT_UNIT = Decimal("0.01")

# (key, label, lowest days past due, highest days past due)
AGING_BUCKETS: list[tuple[str, str, int | None, int | None]] = [
    ("current", gettext_noop("Current"), None, 0),
    ("d1_30", "1-30", 1, 30),
    ("d31_60", "31-60", 31, 60),
    ("d61_90", "61-90", 61, 90),
    ("d91_180", "91-180", 91, 180),
    ("d180_plus", gettext_noop("Over 180"), 181, None),
]


def invoices_of(organization: Organization | int) -> Any:
    """An organization's invoices; typed loosely because ``open()``/``with_balances()`` annotate balances
    that the type checker cannot see."""
    return Invoice.objects.for_organization(organization)


def payments_of(organization: Organization | int) -> Any:
    return Payment.objects.for_organization(organization)


def _bucket_case(as_of: dt.date, due_date: str = "o.due_date") -> tuple[str, list[dt.date]]:
    """SQL CASE mapping a due date to a bucket key; days past due = as_of - due_date."""
    parts, params = [], []
    for key, _label, _low, high in AGING_BUCKETS:
        if high is None:
            parts.append(f"ELSE '{key}'")
        else:
            parts.append(f"WHEN {due_date} >= %s THEN '{key}'")
            params.append(as_of - dt.timedelta(days=high))
    return "CASE " + " ".join(parts) + " END", params


def open_items_grouped(
    organization: Organization, as_of: dt.date, *, by_customer: bool,
    customer_ids: Iterable[int] | None = None,
) -> list[tuple]:
    """Rows of (customer_id?, currency, bucket, open amount, invoice count, oldest due date) of the open
    items of ``receivables.balances.invoice_balances``; for named customers only their invoices and
    allocations are read."""
    if customer_ids is not None:
        customer_ids = list(customer_ids)
        if not customer_ids:
            return []
    case, case_params = _bucket_case(as_of)
    items = invoice_balances(organization.pk, as_of, customer_ids=customer_ids)
    cust = "o.customer_id, " if by_customer else ""
    sql = f"""
        SELECT {cust}o.currency, {case} AS bucket, sum(o.open_amount), count(*), min(o.due_date)
        FROM ({items.text}) o
        GROUP BY {cust}o.currency, bucket
    """  # noqa: S608 - identifiers from model meta, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*case_params, *items.params])
        return cursor.fetchall()


@dataclass
class Aging:
    as_of: dt.date
    base_currency: str
    buckets: dict[str, Decimal] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def invoice_count(self) -> int:
        return sum(self.counts.values())

    @property
    def overdue(self) -> Decimal:
        return self.total - self.buckets.get("current", ZERO)

    def rows(self) -> list[tuple[str, str, Decimal, int, float]]:
        total = self.total or Decimal(1)
        return [
            (key, label, self.buckets.get(key, ZERO), self.counts.get(key, 0),
             float(self.buckets.get(key, ZERO) / total * 100))
            for key, label, _l, _h in AGING_BUCKETS
        ]


def convert_split(parts: dict[str, Decimal], currency: str, fx: FxTable) -> dict[str, Decimal]:
    """Convert amounts of one currency so that the converted parts add up, to the cent, to the converted
    total (converted once, as money.py converts totals): the cents lost or gained by rounding each part
    go to the parts with the largest remainders (the largest-remainder method)."""
    if not parts:
        return {}
    rate = fx.rate(currency)
    # exact without splitting: the base currency, or one part (converted once, as its total); most of a
    # large book's customers (one currency, few buckets) take these paths, 100,000 of them ~1 s faster
    if rate == 1:
        return {k: money(v) for k, v in parts.items()}
    if len(parts) == 1:
        return {k: money(v * rate) for k, v in parts.items()}
    total = fx.convert(sum(parts.values(), ZERO), currency)
    exact = {k: v * rate for k, v in parts.items()}
    floored = {k: (v / CENT_UNIT).to_integral_value(rounding=ROUND_FLOOR) * CENT_UNIT
               for k, v in exact.items()}
    left = int((total - sum(floored.values(), ZERO)) / CENT_UNIT)
    order = sorted(exact, key=lambda k: (exact[k] - floored[k], k), reverse=True)
    for k in order[:max(left, 0)]:
        floored[k] += CENT_UNIT
    return {k: money(v) for k, v in floored.items()}


def aging_from_rows(rows: Iterable[tuple], as_of: dt.date, fx: FxTable) -> Aging:
    """(currency, bucket, amount, count, ...) rows -> an Aging in base currency whose total is, to the cent,
    the sum over currencies of each currency's open total converted once."""
    aging = Aging(as_of, fx.base_currency)
    per_currency: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for currency, bucket, amount, count, *_rest in rows:
        per_currency[currency][bucket] = per_currency[currency].get(bucket, ZERO) + money_read(amount)
        aging.counts[bucket] = aging.counts.get(bucket, 0) + count
    for currency, parts in per_currency.items():
        for bucket, value in convert_split(parts, currency, fx).items():
            aging.buckets[bucket] = aging.buckets.get(bucket, ZERO) + value
    return aging


def portfolio_aging(organization: Organization, as_of: dt.date) -> Aging:
    """Open receivables by aging bucket in base currency. The total equals, to the cent, the sum of the
    open invoice balances of each currency converted once; the buckets add up to it (``convert_split``)."""
    rows = open_items_grouped(organization, as_of, by_customer=False)
    fx = FxTable.load(organization, as_of, {r[0] for r in rows})
    return aging_from_rows(rows, as_of, fx)


@dataclass
class CustomerBalance:
    open: Decimal = ZERO  # in base currency
    overdue: Decimal = ZERO
    invoices: int = 0
    oldest_due: dt.date | None = None

    def max_days_past_due(self, as_of: dt.date) -> int:
        """Days past due of the customer's oldest overdue invoice."""
        return days_past_due(self.oldest_due, as_of, self.overdue) if self.oldest_due else 0


def customer_balances(
    organization: Organization, as_of: dt.date, customer_ids: Iterable[int] | None = None
) -> dict[int, CustomerBalance]:
    """Open and overdue balance per customer in base currency. Each currency's open total of a customer
    is converted once and split over its buckets (``convert_split``), as the aging and the receivable KPIs
    do, so a customer's figures agree to the cent on every page."""
    rows = open_items_grouped(organization, as_of, by_customer=True, customer_ids=customer_ids)
    fx = FxTable.load(organization, as_of, {r[1] for r in rows})
    return balances_from_rows(rows, fx)


def balances_and_aging(organization: Organization, as_of: dt.date) -> tuple[dict[int, CustomerBalance], Aging]:
    """Every customer's balance and the portfolio's aging from one read of the book (the overview shows
    both): the aging sums the per-customer rows per currency and bucket, as ``portfolio_aging`` does."""
    rows = open_items_grouped(organization, as_of, by_customer=True)
    fx = FxTable.load(organization, as_of, {r[1] for r in rows})
    return balances_from_rows(rows, fx), aging_from_rows((r[1:] for r in rows), as_of, fx)


def balances_from_rows(rows: list[tuple], fx: FxTable) -> dict[int, CustomerBalance]:
    """(customer, currency, bucket, amount, count, oldest due) rows -> balances in base currency."""
    parts: dict[tuple[int, str], dict[str, Decimal]] = defaultdict(dict)
    out: dict[int, CustomerBalance] = defaultdict(CustomerBalance)
    for customer_id, currency, bucket, amount, count, oldest in rows:
        # exact decimals from PostgreSQL; SQLite's float sums are rounded back to the cent
        parts[(customer_id, currency)][bucket] = amount if type(amount) is Decimal else money(str(amount))
        bal = out[customer_id]
        bal.invoices += count
        if bucket != "current":
            oldest = oldest if isinstance(oldest, dt.date) else dt.date.fromisoformat(str(oldest))
            bal.oldest_due = oldest if bal.oldest_due is None else min(bal.oldest_due, oldest)
    base = fx.base_currency
    for (customer_id, currency), by_bucket in parts.items():
        bal = out[customer_id]
        for bucket, value in (by_bucket if currency == base else convert_split(by_bucket, currency, fx)).items():
            bal.open += value
            if bucket != "current":
                bal.overdue += value
    return dict(out)


def open_orders_by_customer(organization: Organization, as_of: dt.date,
                            customer_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """Open (not yet invoiced) orders per customer in base currency: the other half of exposure."""
    qs = Order.objects.for_organization(organization).filter(status=Order.Status.OPEN, order_date__lte=as_of)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=list(customer_ids))
    from django.db.models import Sum

    rows = list(qs.values_list("customer_id", "currency").annotate(total=Sum("amount")).order_by())
    fx = FxTable.load(organization, as_of, {r[1] for r in rows})
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for customer_id, currency, total in rows:
        out[customer_id] += fx.convert(money(str(total)), currency)
    return dict(out)
