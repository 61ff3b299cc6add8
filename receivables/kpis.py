"""Receivable figures as of any date, for the portfolio or by customer, group, sector, country or
collector: open balance and aging in base currency, DSO, best possible DSO, average days delinquent and
the collection effectiveness index.

Definitions (all amounts in base currency at the as-of date's FX rates, so that a rate move never looks
like a collection; sales are invoices by issue date, gross of credit notes):

* **Month windows.** DSO, BPDSO and CEI work in months counted back from the as-of date: month k is
  (``month_back(as_of, k + 1)``, ``month_back(as_of, k)``]. At a month end these are the calendar
  months (as of 30 April: April, March, ...; the month before 30 April ends on 31 March, not 30 March),
  so the figures of a month-end close use each month's own sales and CEI's beginning receivables are
  the previous month-end's closing balance, the date the ECL movement opens with. On any other day
  they are rolling months ending on the as-of date's day of the month (as of 15 March: 16 February to
  15 March, then 16 January to 15 February, ...), clamped to the shorter month's last day: the figure
  moves with each day's sales and collections instead of resting on a calendar month that has only
  just begun. Each window's length in days is its true length (28-31), which the countback adds up.
* **DSO, countback method.** Walk back month by month from the as-of date. While the receivable
  balance left exceeds the window's credit sales, consume them and add the window's days; in the window
  where it no longer does, add ``days x balance left / sales`` and stop. E.g. AR 3,500, March sales
  3,000 (31 days), February 2,000 (28 days): 31 + 500 / 2,000 x 28 = 38.0 days. The walk stops after
  24 months (``dso_capped``). This is the one figure named DSO in the product: the Aging page shows it
  per customer, group, sector, country and collector. (Scoring's ``open_to_sales_days_3m`` is another
  figure, open receivables over the last 91 days' sales, and is not called DSO.)
* **BPDSO (best possible DSO)** is the same countback applied to current (not yet due) receivables:
  ``current AR / credit sales x days`` within the first window, as in the classic formula, and
  consistent with DSO beyond it.
* **ADD (average days delinquent)** = DSO - BPDSO.
* **CEI (collection effectiveness index)** over the last month window (``month_back(as_of, 1)``,
  as_of] = (beginning receivables + credit sales - ending total receivables)
  / (beginning receivables + credit sales - ending current receivables) x 100; beginning receivables
  are the open balance at ``month_back(as_of, 1)``.

Open balances are those of ``receivables.balances``.

Each figure is a handful of grouped SQL statements (open items at the as-of date and at the start of
the CEI period, sales by month window), whatever the number of invoices or customers. Sales are read in
two statements: the last ``FIRST_WINDOWS`` months for every key, then the older windows only for the keys
(or the portfolio) whose open balance those months do not cover; the countback never looks past the
window that covers a balance, so the result is the same as reading 24 months for every key.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from credit_platform.models import Organization
from credit_platform.money import ZERO, FxTable, money_read
from customers.models import Country, Customer, CustomerGroup, Sector

from .balances import invoice_balances
from .models import CollectionProfile, Invoice
from .selectors import AGING_BUCKETS, Aging, _bucket_case, aging_from_rows

MAX_COUNTBACK_MONTHS = 24

# dimension -> SQL expression of its key (customers c, collection profiles cp)
DIMENSIONS: dict[str, str] = {
    "portfolio": "0",
    "customer": "c.id",
    "group": "c.group_id",
    "sector": "c.sector_id",
    "country": "c.country_id",
    "collector": "cp.collector_id",
}


def month_back(day: dt.date, months: int) -> dt.date:
    """The end of the month window ``months`` before ``day`` (see the module docstring): the last day of
    the month when ``day`` is the last day of its month, else the same day of the month, clamped to
    that month's last day."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    month_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return dt.date(year, month + 1, last if month_end else min(day.day, last))


def countback(balance: Decimal, windows: list[tuple[Decimal, int]]) -> tuple[float, bool]:
    """Days of sales that ``balance`` represents: windows are (sales, days), newest first. Returns the
    days and whether the walk ran out of windows before covering the balance."""
    left, days = balance, Decimal(0)
    if left <= 0:
        return 0.0, False
    for sales, length in windows:
        if sales > 0 and left <= sales:
            return float(days + left / sales * length), False
        left -= max(sales, ZERO)
        days += length
    return float(days), True


@dataclass
class Figures:
    key: Any
    label: str
    aging: Aging
    dso: float = 0.0
    bpdso: float = 0.0
    dso_capped: bool = False
    sales_month: Decimal = ZERO
    beginning: Decimal = ZERO
    cei: float | None = None

    @property
    def total(self) -> Decimal:
        return self.aging.total

    @property
    def buckets(self) -> list[tuple[str, str, Decimal]]:
        """(key, label, amount) of every aging bucket, in order (zero where nothing is open)."""
        return [(key, label, self.aging.buckets.get(key, ZERO)) for key, label, _l, _h in AGING_BUCKETS]

    @property
    def current(self) -> Decimal:
        return self.aging.buckets.get("current", ZERO)

    @property
    def overdue(self) -> Decimal:
        return self.aging.overdue

    @property
    def add(self) -> float:
        return self.dso - self.bpdso


def _open_rows(organization: Organization, as_of: dt.date, key_sql: str) -> list[tuple]:
    """Open items of ``receivables.balances`` by (key, currency, aging bucket)."""
    case, case_params = _bucket_case(as_of)
    items = invoice_balances(organization.pk, as_of)
    sql = f"""
        SELECT {key_sql} AS k, o.currency, {case} AS bucket, sum(o.open_amount), count(*)
        FROM ({items.text}) o
        JOIN {Customer._meta.db_table} c ON c.id = o.customer_id
        LEFT JOIN {CollectionProfile._meta.db_table} cp ON cp.customer_id = o.customer_id
        GROUP BY 1, 2, 3
    """  # noqa: S608 - identifiers from model meta and DIMENSIONS, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*case_params, *items.params])
        return cursor.fetchall()


def _sales_rows(organization: Organization, bounds: list[dt.date], key_sql: str, *, first: int = 0,
                keys: list[Any] | None = None) -> list[tuple]:
    """Sales by (key, currency, window): window k covers (bounds[k+1], bounds[k]]. Only the windows from
    ``first`` on, and only the values ``keys`` of the key (all without), are read."""
    if first >= len(bounds) - 1:
        return []
    parts, params = [], []
    for k in range(first + 1, len(bounds)):
        parts.append(f"WHEN i.issue_date > %s THEN {k - 1}")
        params.append(bounds[k])
    only, only_params = "", []
    if keys is not None:
        listed = [k for k in keys if k is not None]
        column = "i.customer_id" if key_sql == "c.id" else key_sql  # the invoice's own column: its index
        if connection.vendor == "postgresql":  # one array parameter, however many keys, as a hashed set
            kind = "text" if key_sql in (DIMENSIONS["sector"], DIMENSIONS["country"]) else "bigint"
            only, only_params = f"AND ({column} IN (SELECT unnest(%s::{kind}[]))", [listed]
        else:
            only = f"AND ({column} IN ({', '.join(['%s'] * len(listed))})" if listed else "AND (1 = 0"
            only_params = listed
        only += f" OR {key_sql} IS NULL)" if None in keys else ")"
    sql = f"""
        SELECT {key_sql} AS k, i.currency, CASE {" ".join(parts)} END AS w, sum(i.amount)
        FROM {Invoice._meta.db_table} i
        JOIN {Customer._meta.db_table} c ON c.id = i.customer_id
        LEFT JOIN {CollectionProfile._meta.db_table} cp ON cp.customer_id = i.customer_id
        WHERE i.organization_id = %s AND i.issue_date > %s AND i.issue_date <= %s {only}
        GROUP BY 1, 2, 3
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, organization.pk, bounds[-1], bounds[first], *only_params])
        return cursor.fetchall()


# The sales windows read for every key; a key (and the portfolio) whose open balance these do not cover
# has its older windows read in a second statement. Most balances are covered within three months, so
# the page reads three months of sales for the whole book instead of two years.
FIRST_WINDOWS = 3


def _open_by_key(now_rows: list[tuple], fx: FxTable) -> tuple[dict[Any, Decimal], dict[str, Decimal]]:
    """Each key's open balance in base currency (each of its currencies converted once, as
    ``Aging.total``) and the portfolio's open balance per currency, from ``_open_rows``."""
    open_by: dict[tuple[Any, str], Decimal] = defaultdict(lambda: ZERO)
    for k, currency, _bucket, amount, _count in now_rows:
        open_by[(k, currency)] += money_read(amount)
    balance: dict[Any, Decimal] = defaultdict(lambda: ZERO)
    portfolio: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (k, currency), amount in open_by.items():
        balance[k] += fx.convert(amount, currency)
        portfolio[currency] += amount
    return dict(balance), dict(portfolio)


def _uncovered(organization: Organization, as_of: dt.date, now_rows: list[tuple],
               sales_rows: list[tuple]) -> tuple[set[Any], bool]:
    """The keys whose open balance at ``as_of`` the first sales windows do not cover by the countback,
    and whether the portfolio's is not covered either (both in base currency, as ``_figures``)."""
    fx = FxTable.load(organization, as_of, {r[1] for r in now_rows} | {r[1] for r in sales_rows})
    balance, portfolio_open = _open_by_key(now_rows, fx)
    sold_by: dict[tuple[Any, int, str], Decimal] = defaultdict(lambda: ZERO)
    for k, currency, window, amount in sales_rows:
        sold_by[(k, int(window), currency)] += money_read(amount)
    sold: dict[Any, list[Decimal]] = defaultdict(lambda: [ZERO] * FIRST_WINDOWS)
    portfolio_sold: list[dict[str, Decimal]] = [defaultdict(lambda: ZERO) for _ in range(FIRST_WINDOWS)]
    for (k, window, currency), amount in sold_by.items():
        sold[k][window] += fx.convert(amount, currency)
        portfolio_sold[window][currency] += amount
    bounds = _bounds(as_of)
    days = [(bounds[k] - bounds[k + 1]).days for k in range(FIRST_WINDOWS)]
    keys = {k for k, total in balance.items() if countback(total, list(zip(sold[k], days, strict=True)))[1]}
    whole = countback(fx.total(portfolio_open), [(fx.total(w), n) for w, n in zip(portfolio_sold, days, strict=True)])
    return keys, whole[1]


def _labels(organization: Organization, dimension: str, keys: set[Any]) -> dict[Any, str]:
    keys = {k for k in keys if k is not None}
    if dimension == "portfolio":
        return {0: organization.name}
    if dimension == "customer":
        return dict(
            Customer.objects.for_organization(organization)
            .filter(pk__in=keys)
            .values_list("pk", "legal_name")
        )
    if dimension == "group":
        return dict(
            CustomerGroup.objects.for_organization(organization).filter(pk__in=keys).values_list("pk", "name")
        )
    if dimension == "sector":
        return {
            code: f"{code} {name}"
            for code, name in Sector.objects.filter(pk__in=keys).values_list("code", "name")
        }
    if dimension == "country":
        return dict(Country.objects.filter(pk__in=keys).values_list("code", "name"))
    users = get_user_model().objects.filter(pk__in=keys)
    return {u.pk: u.get_full_name() or u.get_username() for u in users}


NONE_LABEL = {"group": "No group", "collector": "Unassigned"}


def receivable_figures(
    organization: Organization, as_of: dt.date, dimension: str = "portfolio"
) -> list[Figures]:
    """Figures per value of ``dimension`` (one row for the portfolio), largest open balance first."""
    return _figures(organization, as_of, dimension, _read(organization, as_of, dimension))


def receivable_figures_and_portfolio(
    organization: Organization, as_of: dt.date, dimension: str
) -> tuple[list[Figures], Figures]:
    """Figures per value of ``dimension`` and for the portfolio, from one read of the book: every
    dimension partitions the invoices, so the portfolio's rows are the sums of the dimension's."""
    book = ByDimension.read(organization, as_of, dimension)
    return book.figures(), book.portfolio


@dataclass
class ByDimension:
    """One read of the book by a dimension: every key in the order of ``receivable_figures`` (largest open
    balance first) with its open balance and label, the portfolio's figures, and each key's figures when
    asked for (``figures``): a page that shows 50 of 1,700 customers, sorted by balance or name, computes
    DSO, CEI and the rest for those 50 only."""

    organization: Organization
    as_of: dt.date
    dimension: str
    rows: _Rows
    keys: list[Any]
    totals: dict[Any, Decimal]
    labels: dict[Any, str]
    portfolio: Figures

    @classmethod
    def read(cls, organization: Organization, as_of: dt.date, dimension: str) -> ByDimension:
        rows = _read(organization, as_of, dimension)
        now, start, sales = rows
        whole = _figures(organization, as_of, "portfolio", (_summed(now, 3), _summed(start, 3), _summed(sales, 3)))
        fx = FxTable.load(organization, as_of, {r[1] for r in now})
        totals, _portfolio = _open_by_key(now, fx)
        keys = set(totals) | {r[0] for r in start} | {r[0] for r in sales}
        ordered = sorted(keys, key=lambda k: (totals.get(k, ZERO), str(k)), reverse=True)
        return cls(organization, as_of, dimension, rows, ordered, totals,
                   _labels(organization, dimension, keys),
                   whole[0] if whole else _empty_portfolio(organization, as_of))

    def label(self, key: Any) -> str:
        return self.labels.get(key) or NONE_LABEL.get(self.dimension, str(key))

    def figures(self, keys: Iterable[Any] | None = None) -> list[Figures]:
        """The figures of ``keys`` (every key without), in the order asked."""
        wanted = self.keys if keys is None else list(keys)
        by_key = {f.key: f for f in _figures(self.organization, self.as_of, self.dimension, self.rows,
                                             only=set(wanted), labels=self.labels)}
        return [by_key[k] for k in wanted if k in by_key]


_Rows = tuple[list[tuple], list[tuple], list[tuple]]


def _summed(rows: list[tuple], width: int) -> list[tuple]:
    """The portfolio's rows: ``rows`` (key, *group, amount[, count]) summed over the keys, per group of
    the ``width - 1`` columns after the key, each amount to the cent first as ``_figures`` takes it."""
    totals: dict[tuple, list[Any]] = {}
    for row in rows:
        group = row[1:width]
        acc = totals.get(group)
        if acc is None:
            totals[group] = [money_read(row[width]), *row[width + 1:]]
        else:
            acc[0] += money_read(row[width])
            for i, extra in enumerate(row[width + 1:], start=1):
                acc[i] += extra
    return [(0, *group, *acc) for group, acc in totals.items()]


def _read(organization: Organization, as_of: dt.date, dimension: str) -> _Rows:
    """Open items now and a month ago, and sales per countback window, by the dimension's key."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {sorted(DIMENSIONS)}, not {dimension!r}")
    key_sql = DIMENSIONS[dimension]
    bounds = _bounds(as_of)
    now = _open_rows(organization, as_of, key_sql)
    start = _open_rows(organization, month_back(as_of, 1), key_sql)
    recent = _sales_rows(organization, bounds[: FIRST_WINDOWS + 1], key_sql)
    keys, whole = _uncovered(organization, as_of, now, recent)
    # always the same statements, whatever the data: the older windows of the keys that need them (of
    # every key when the portfolio needs them, since its rows are the keys' sums)
    older = _sales_rows(organization, bounds, key_sql, first=FIRST_WINDOWS,
                        keys=None if whole else sorted(keys, key=lambda k: (k is None, k if k is not None else 0)))
    return now, start, recent + older


def _bounds(as_of: dt.date) -> list[dt.date]:
    return [month_back(as_of, k) for k in range(MAX_COUNTBACK_MONTHS + 1)]


def _figures(organization: Organization, as_of: dt.date, dimension: str, rows: _Rows, *,
             only: set[Any] | None = None, labels: dict[Any, str] | None = None) -> list[Figures]:
    now_rows, start_rows, sales_rows = rows
    if only is not None:
        now_rows = [r for r in now_rows if r[0] in only]
        start_rows = [r for r in start_rows if r[0] in only]
        sales_rows = [r for r in sales_rows if r[0] in only]
    bounds = _bounds(as_of)
    days = [(bounds[k] - bounds[k + 1]).days for k in range(MAX_COUNTBACK_MONTHS)]
    fx = FxTable.load(
        organization,
        as_of,
        {r[1] for r in now_rows} | {r[1] for r in start_rows} | {r[1] for r in sales_rows},
    )

    by_key: dict[Any, list[tuple]] = defaultdict(list)
    for k, currency, bucket, amount, count in now_rows:
        by_key[k].append((currency, bucket, amount, count))
    beginning: dict[Any, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for k, currency, _bucket, amount, _count in start_rows:
        beginning[k][currency] += money_read(amount)
    # each key's sales per window in base currency: every currency's total converted once (FxTable.total)
    per_currency: dict[tuple[Any, int, str], Decimal] = defaultdict(lambda: ZERO)
    for k, currency, window, amount in sales_rows:
        per_currency[(k, int(window), currency)] += money_read(amount)
    sales: dict[Any, list[Decimal]] = {}
    for (k, window, currency), amount in per_currency.items():
        if amount:
            sales.setdefault(k, [ZERO] * MAX_COUNTBACK_MONTHS)[window] += fx.convert(amount, currency)
    no_sales = [ZERO] * MAX_COUNTBACK_MONTHS

    keys = set(by_key) | set(beginning) | {k for k, *_ in sales_rows}
    labels = _labels(organization, dimension, keys) if labels is None else labels
    out = []
    for k in keys:
        aging = aging_from_rows(by_key.get(k, []), as_of, fx)
        windows = list(zip(sales.get(k, no_sales), days, strict=True))
        dso, capped = countback(aging.total, windows)
        bpdso, _ = countback(aging.buckets.get("current", ZERO), windows)
        begin = fx.total(beginning.get(k, {}))
        fig = Figures(
            key=k,
            label=labels.get(k) or NONE_LABEL.get(dimension, str(k)),
            aging=aging,
            dso=dso,
            bpdso=bpdso,
            dso_capped=capped,
            sales_month=windows[0][0],
            beginning=begin,
        )
        denominator = begin + fig.sales_month - fig.current
        if denominator > 0:
            fig.cei = float((begin + fig.sales_month - fig.total) / denominator * 100)
        out.append(fig)
    out.sort(key=lambda f: (f.total, str(f.key)), reverse=True)
    return out


def portfolio_figures(organization: Organization, as_of: dt.date) -> Figures:
    rows = receivable_figures(organization, as_of)
    return rows[0] if rows else _empty_portfolio(organization, as_of)


def _empty_portfolio(organization: Organization, as_of: dt.date) -> Figures:
    return Figures(key=0, label=organization.name, aging=Aging(as_of, organization.base_currency))
