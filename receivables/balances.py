"""Open balance and days past due: the one definition, in the three forms its readers need.

The rule, as of a date t:

* An invoice is on the book at t when it was issued on or before t.
* Its **allocated** amount at t is the sum of its allocations (payments and credit notes applied to it)
  dated on or before t: a payment received after t is unknown at t.
* Its **open amount** at t is ``round(amount - allocated, 2)``, and never below zero. Rounded to the cent
  *before* it is compared with zero, because SQLite sums NUMERIC as binary floats
  (3445.53 - 1879.37 - 1566.16 = 4.5e-13 there; PostgreSQL is exact either way). An invoice allocated
  beyond its amount (possible only through a manual correction) counts 0, never a negative balance that
  would offset another invoice.
* It is an **open item** at t when it is on the book and its open amount is above zero.
* Its **days past due** at t are ``t - due date`` when it is open and t is after the due date, else 0
  (an invoice due today is current). It is **overdue** when its days past due are above zero.
* It was **settled on** the date of its last allocation dated on or before t when it is on the book and
  its open amount is zero.

Without a date (``as_of=None``) the rule reads everything recorded: every invoice and every allocation.
Allocating a new payment reads balances that way.

The forms:

* ``invoice_balances``: SQL of a derived table, one row per invoice, for the raw-SQL batch paths (aging,
  customer balances, receivable KPIs, the dunning run, scoring features and default labels, allocation).
  It joins allocations in one of two shapes (see ``invoice_balances``) so that a customer's page reads
  only that customer's allocations while a whole-book read aggregates them once.
* ``open_amount_expression`` and ``InvoiceQuerySet.with_balances/open/overdue``: the ORM form for
  querysets (customer pages, statements, the admin, the API).
* ``open_balance_history``: open balances at many dates from one compressed read of the book, for the
  ECL provision matrix (26 dates per page view), with the same rule in integer cents.

``open_amount`` and ``days_past_due`` are the rule on Python values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, Greatest, Round

from credit_platform.money import CENT, ZERO
from credit_platform.sql import cents, epoch_days

MONEY = DecimalField(max_digits=18, decimal_places=2)
EPOCH = dt.date(1970, 1, 1)


# --- the rule on Python values ----------------------------------------------------------------------


def open_amount(amount: Decimal, allocated: Decimal) -> Decimal:
    """``max(round(amount - allocated, 2), 0)``."""
    value = (Decimal(amount) - Decimal(allocated)).quantize(CENT, rounding=ROUND_HALF_UP)
    return value if value > 0 else ZERO


def days_past_due(due_date: dt.date, as_of: dt.date, open_: Decimal) -> int:
    """Days after the due date with money still open; 0 when settled or not yet past due."""
    return max((as_of - due_date).days, 0) if open_ > 0 else 0


# --- SQL ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sql:
    """A SQL fragment with positional ``%s`` parameters, to be embedded in a larger statement."""

    text: str
    params: tuple[Any, ...]

    def named(self, prefix: str) -> tuple[str, dict[str, Any]]:
        """The same fragment with named parameters ``%(<prefix><n>)s``, for statements written in the
        pyformat style (the scoring features). The fragment's only ``%`` signs are its placeholders."""
        names: dict[str, Any] = {}

        def name(_match: re.Match[str]) -> str:
            key = f"{prefix}{len(names)}"
            names[key] = self.params[len(names)]
            return f"%({key})s"

        text = re.sub(r"%s", name, self.text)
        return text, names


def open_amount_sql(amount: str, allocated: str) -> str:
    """SQL of ``round(amount - allocated, 2)`` with no allocation counting 0 (not yet clamped at 0)."""
    return f"round({amount} - coalesce({allocated}, 0), 2)"


def invoice_balances(
    organization_id: int,
    as_of: dt.date | None,
    *,
    customer_ids: Iterable[int] | None = None,
    customer_range: tuple[int, int] | None = None,
    customer_table: str | None = None,
    open_only: bool = True,
    due_by: dt.date | None = None,
    settled_on: bool = False,
    per_invoice: bool | None = None,
) -> Sql:
    """A SELECT with one row per invoice of the organization on the book at ``as_of``: ``invoice_id,
    customer_id, currency, issue_date, due_date, amount, open_amount`` (and ``settled_on`` if asked),
    by the rule of this module. Use it as a derived table: ``FROM (<sql>) o``.

    ``open_only`` keeps the open items (open amount above zero); otherwise every invoice on the book
    comes with its open amount, 0 when settled. ``due_by`` keeps the invoices due on or before a date.
    The customers read: all (default), ``customer_ids``, ``customer_range`` (first id, last id: a keyset
    chunk) or the ``customer_id`` column of ``customer_table`` (a stage, for more ids than a statement
    takes parameters).

    Open items only (``open_only``) on PostgreSQL: the invoices settled for good by the date
    (``Invoice.cleared_on``, kept by database triggers from the allocations) are left out before the
    rule is applied to the rest, so a read costs what is open (and what was settled after the date),
    not the book's whole history: the demo book's open items at today are 11,076 of 200,000 invoices.
    Those reads take the per-invoice shape. On SQLite ``cleared_on`` is not kept and every invoice is read.

    Two shapes join the allocations, with the same result:

    * **aggregated** (the default for the whole book): allocations summed per invoice once, hash-joined
      to the invoices. On the benchmark's 1,000,000-invoice book it reads the book in 1.3 s, against
      2.3 s for the per-invoice shape (which groups a million invoices instead of 200,000 allocations).
    * **per invoice** (the default when customers are named): the invoices read first, their allocations
      joined to them and grouped per invoice. A customer's page then reads that customer's allocations
      through the allocation's invoice index, whatever the size of the book: the aggregated shape summed
      the organization's 208,000 allocations of the demo book to show one customer's invoices (332 ms on
      a busy machine, 1.8 ms this way); on the 1,000,000-invoice benchmark book 112 ms against 0.45 ms
      (``bench/customer_page.py``). Its cost stays linear under any plan, even when planner statistics
      are stale (just after a bulk load), which is why the scoring features ask for it for the whole
      book too.
    """
    scoped = customer_ids is not None or customer_range is not None or customer_table is not None
    narrowed = open_only and connection.vendor == "postgresql"
    per_invoice = (scoped or narrowed) if per_invoice is None else per_invoice
    where = ["i.organization_id = %s"]
    where_params: list[Any] = [organization_id]
    if as_of is not None:
        where.append("i.issue_date <= %s")
        where_params.append(as_of)
    if narrowed:
        # open at t only if not settled for good by t (Invoice.cleared_on, kept by the database)
        if as_of is None:
            where.append("i.cleared_on IS NULL")
        else:
            where.append("(i.cleared_on IS NULL OR i.cleared_on > %s)")
            where_params.append(as_of)
    if due_by is not None:
        where.append("i.due_date <= %s")
        where_params.append(due_by)
    if customer_ids is not None:
        ids = [int(c) for c in customer_ids]
        if ids:
            where.append(f"i.customer_id IN ({', '.join(['%s'] * len(ids))})")
            where_params += ids
        else:
            where.append("1 = 0")
    if customer_range is not None:
        where.append("i.customer_id BETWEEN %s AND %s")
        where_params += [int(customer_range[0]), int(customer_range[1])]
    if customer_table is not None:
        stage = connection.ops.quote_name(customer_table)
        where.append(f"i.customer_id IN (SELECT customer_id FROM {stage})")  # noqa: S608 - a stage's name
    inv, alloc = _tables()
    columns = "i.id AS invoice_id, i.customer_id, i.currency, i.issue_date, i.due_date, i.amount"
    dated = " AND a.allocated_on <= %s" if as_of is not None else ""
    dated_params = [as_of] if as_of is not None else []
    if narrowed and not settled_on:
        # a few invoices: each one's allocations summed through the allocation's invoice index, no grouping
        raw = open_amount_sql("i.amount", "p.paid")
        sql = f"""SELECT {columns}, {raw} AS open_amount
            FROM {inv} i CROSS JOIN LATERAL (SELECT sum(a.amount) AS paid FROM {alloc} a
                                             WHERE a.invoice_id = i.id{dated}) p
            WHERE {" AND ".join(where)} AND {raw} > 0"""  # noqa: S608
        return Sql(sql, (*dated_params, *where_params))
    if per_invoice:
        raw = open_amount_sql("i.amount", "sum(a.amount)")
        having = f"HAVING {raw} > 0" if open_only else ""
        settled = _settled(raw, "max(a.allocated_on)", settled_on)
        sql = f"""SELECT {columns}, {_shown(raw, open_only)} AS open_amount{settled}
            FROM {inv} i LEFT JOIN {alloc} a ON a.invoice_id = i.id{dated}
            WHERE {" AND ".join(where)}
            GROUP BY i.id, i.customer_id, i.currency, i.issue_date, i.due_date, i.amount {having}"""  # noqa: S608
        return Sql(sql, (*dated_params, *where_params))
    raw = open_amount_sql("i.amount", "p.paid")
    last_col = ", max(a.allocated_on) AS last_on" if settled_on else ""
    only_open = f"AND {raw} > 0" if open_only else ""
    sql = f"""SELECT {columns}, {_shown(raw, open_only)} AS open_amount{_settled(raw, "p.last_on", settled_on)}
        FROM {inv} i LEFT JOIN (SELECT a.invoice_id, sum(a.amount) AS paid{last_col} FROM {alloc} a
                                WHERE a.organization_id = %s{dated} GROUP BY a.invoice_id) p ON p.invoice_id = i.id
        WHERE {" AND ".join(where)} {only_open}"""  # noqa: S608 - identifiers from model meta, values as parameters
    return Sql(sql, (organization_id, *dated_params, *where_params))


def _shown(raw: str, open_only: bool) -> str:
    return raw if open_only else f"CASE WHEN {raw} > 0 THEN {raw} ELSE 0 END"


def _settled(raw: str, last: str, wanted: bool) -> str:
    return f", CASE WHEN {raw} > 0 THEN NULL ELSE {last} END AS settled_on" if wanted else ""


def _tables() -> tuple[str, str]:
    from .models import Allocation, Invoice

    return connection.ops.quote_name(Invoice._meta.db_table), connection.ops.quote_name(Allocation._meta.db_table)


def days_past_due_sql(as_of: str, due_date: str = "o.due_date", open_amount: str = "o.open_amount") -> str:
    """SQL of the days past due of a row of ``invoice_balances`` at ``as_of`` (a SQL date expression)."""
    from credit_platform.sql import days_between

    return f"CASE WHEN {open_amount} > 0 AND {due_date} < {as_of} THEN {days_between(as_of, due_date)} ELSE 0 END"


# --- ORM ----------------------------------------------------------------------------------------------


def allocated_expression(as_of: dt.date | None) -> Expression:
    """The allocations of the row's invoice dated on or before ``as_of`` (all without a date), summed: a
    correlated subquery, so a queryset of a few invoices reads only their allocations."""
    from .models import Allocation

    allocations = Allocation.objects.filter(invoice=OuterRef("pk"))
    if as_of is not None:
        allocations = allocations.filter(allocated_on__lte=as_of)
    total = allocations.order_by().values("invoice").annotate(total=Sum("amount")).values("total")
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def open_amount_expression(as_of: dt.date | None) -> Expression:
    """``max(round(amount - allocated, 2), 0)`` of the row's invoice as an ORM expression. The allocations'
    subquery appears once in it (GREATEST rather than a CASE that would repeat it): a queryset filtering
    on the open amount and selecting it evaluates it twice per invoice, through the allocation's invoice
    index."""
    raw = Round(F("amount") - allocated_expression(as_of), 2, output_field=MONEY)
    return Greatest(raw, Value(0), output_field=MONEY)


# --- many dates at once (ECL history) -----------------------------------------------------------------

# {date: {key: {bucket index: open amount in the key's currency}}}
History = dict[dt.date, dict[tuple[Any, ...], dict[int, Decimal]]]


def open_balance_history(
    organization_id: int,
    dates: Sequence[dt.date],
    *,
    key_sql: str,
    key_params: Sequence[Any],
    key_size: int,
    highs: Sequence[int],
    joins: str = "",
) -> History:
    """Open balances by key and days-past-due bucket at each of ``dates``, from one compressed read.

    ``key_sql`` is a comma-separated list of ``key_size`` SQL expressions over the invoice ``i`` (and
    whatever ``joins`` brings in, e.g. its customer ``c``) whose last one is the currency; bucket b holds
    the invoices whose days past due at the date are at most ``highs[b]``, the last bucket the rest.

    The rule of this module is linear until its floor at zero: the open total of a group of invoices at
    t is what was issued by t less what was allocated by t. An invoice settled for good on a date
    (``Invoice.cleared_on``) counts nothing from that date on, so each invoice is open over an interval
    of dates, [issue date, settled-for-good date), and only its allocations dated inside it matter. So the
    book is read compressed: invoice amounts summed per (key, issue date, due date, settled date),
    allocation amounts per the same key and allocation date, leaving out the invoices settled for good
    before the first date (PostgreSQL keeps ``cleared_on``; on SQLite it is NULL and every invoice is
    read); each row is then spread over the dates of its interval with numpy and summed per (key, date,
    bucket) in integer cents. The floor is applied afterwards: the invoices allocated beyond their amount
    before they were settled for good (a manual correction; only where ``cleared_on`` is not kept) are
    read one by one and their excess at each date added back, so that each counts ``max(open, 0)``. A
    test checks the result against ``invoice_balances`` at every date.
    """
    days = sorted(set(dates))
    out: History = {d: {} for d in days}
    if not days:
        return out
    first, last = days[0], days[-1]
    inv, alloc = _tables()
    issue, due, on = epoch_days("i.issue_date"), epoch_days("i.due_date"), epoch_days("al.allocated_on")
    cleared = epoch_days("i.cleared_on")
    keys = ", ".join(str(k + 1) for k in range(key_size))
    live = "(i.cleared_on IS NULL OR i.cleared_on > %s)"  # open at some date of the range
    before_cleared = "(i.cleared_on IS NULL OR al.allocated_on < i.cleared_on)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT {key_sql}, {issue}, {due}, {cleared}, {cents("sum(i.amount)")} FROM {inv} i {joins}
                WHERE i.organization_id = %s AND i.issue_date <= %s AND {live}
                GROUP BY {keys}, {key_size + 1}, {key_size + 2}, {key_size + 3}""",  # noqa: S608
            [*key_params, organization_id, last, first],
        )
        issued = cursor.fetchall()
        cursor.execute(
            f"""SELECT {key_sql}, {issue}, {due}, {cleared}, {on}, {cents("sum(al.amount)")}
                FROM {alloc} al JOIN {inv} i ON i.id = al.invoice_id {joins}
                WHERE al.organization_id = %s AND al.allocated_on <= %s AND i.issue_date <= %s AND {live}
                  AND {before_cleared}
                GROUP BY {keys}, {key_size + 1}, {key_size + 2}, {key_size + 3}, {key_size + 4}""",  # noqa: S608
            [*key_params, organization_id, last, last, first],
        )
        allocated = cursor.fetchall()
        # allocated beyond the amount before being settled for good: compared in cents (SQLite's float
        # sums put 1e-12 above the amount). Allocations are positive, so an invoice whose allocations
        # reach its amount is settled for good from then on: only one not known to be (cleared_on NULL:
        # open on PostgreSQL, every invoice on SQLite) can have been over-allocated before.
        cursor.execute(
            f"""SELECT {key_sql}, {issue}, {due}, {cleared}, i.amount, {on}, al.amount, al.invoice_id
                FROM {alloc} al JOIN {inv} i ON i.id = al.invoice_id {joins}
                WHERE al.organization_id = %s AND al.allocated_on <= %s AND {before_cleared}
                  AND al.invoice_id IN (
                    SELECT a.invoice_id FROM {alloc} a JOIN {inv} x ON x.id = a.invoice_id
                    WHERE a.organization_id = %s AND a.allocated_on <= %s AND x.cleared_on IS NULL
                    GROUP BY a.invoice_id, x.amount HAVING {cents("sum(a.amount) - x.amount")} > 0)""",  # noqa: S608
            [*key_params, organization_id, last, organization_id, last],
        )
        excess = cursor.fetchall()

    key_cols = [f"k{n}" for n in range(key_size)]
    grid = np.array([(d - EPOCH).days for d in days], dtype=np.int64)
    bounds = np.array(list(highs))

    def spread(rows: list[tuple], dated: bool, sign: int) -> pd.DataFrame:
        """Each row over the dates of its open interval: (key..., date index, bucket, cents)."""
        columns = [*key_cols, "issue", "due", "cleared", *(["on"] if dated else []), "cents"]
        f = pd.DataFrame(rows, columns=columns)
        begin = f["issue"].to_numpy(dtype=np.int64)
        if dated:
            begin = np.maximum(begin, f["on"].to_numpy(dtype=np.int64))
        never = f["cleared"].isna().to_numpy()
        until = np.where(never, NEVER, f["cleared"].fillna(0).to_numpy(dtype=np.int64))
        lo, hi = np.searchsorted(grid, begin, side="left"), np.searchsorted(grid, until, side="left")
        counts = np.maximum(hi - lo, 0)
        row = np.repeat(np.arange(len(f)), counts)
        date_index = lo[row] + (np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts))
        age = grid[date_index] - f["due"].to_numpy(dtype=np.int64)[row]
        frame = {c: f[c].to_numpy()[row] for c in key_cols}
        frame["date"] = date_index
        frame["bucket"] = np.searchsorted(bounds, age, side="left")
        frame["cents"] = f["cents"].to_numpy(dtype=np.int64)[row] * sign
        return pd.DataFrame(frame)

    parts = [spread(issued, False, 1)]
    if allocated:
        parts.append(spread(allocated, True, -1))
    net = pd.concat(parts).groupby([*key_cols, "date", "bucket"], sort=False, dropna=False)["cents"].sum()
    for index, amount in net.items():
        if amount:
            *key, date_index, bucket = index
            out[days[int(date_index)]].setdefault(tuple(key), {})[int(bucket)] = Decimal(int(amount)) / 100
    # the floor at zero: add back, at each date before it is settled for good, what an over-allocated
    # invoice has below zero
    by_invoice: dict[int, list[tuple]] = defaultdict(list)
    for r in excess:
        by_invoice[r[-1]].append(r)
    for rows in by_invoice.values():
        key = tuple(rows[0][:key_size])
        issued_on, due_on = int(rows[0][key_size]), int(rows[0][key_size + 1])
        settled = rows[0][key_size + 2]
        amount_cents = round(Decimal(str(rows[0][key_size + 3])) * 100)
        for day in days:
            n = (day - EPOCH).days
            if settled is not None and n >= int(settled):
                continue
            paid = sum(round(Decimal(str(r[-2])) * 100) for r in rows if int(r[key_size + 4]) <= n)
            below = paid - amount_cents
            if issued_on > n or below <= 0:
                continue
            bucket = int(np.searchsorted(bounds, n - due_on, side="left"))
            balances = out[day].setdefault(key, {})
            balances[bucket] = balances.get(bucket, ZERO) + Decimal(below) / 100
            if not balances[bucket]:
                del balances[bucket]
            if not balances:
                del out[day][key]
    return out


# An invoice never settled for good is open up to this epoch day (year 5,000,000: after any date).
NEVER = 2**31 - 1
