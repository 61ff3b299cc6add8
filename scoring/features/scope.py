"""Which customers a feature computation covers, and the SQL that works on both databases.

A computation runs for one organization and one as-of date over a *scope*: all its customers, a
range of customer ids (one chunk of the nightly run: keyset chunks are ranges, so a chunk is two
numbers in a task message) or an explicit list (an event refresh of a few customers). The same SQL
serves all three; only the WHERE fragment differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from credit_platform.sql import days_between  # noqa: F401 - re-exported for the feature modules

# Dates are compared as ISO text on SQLite and as dates on PostgreSQL; the as-of windows below are
# computed in Python and passed as parameters, so the SQL is the same on both.
WINDOW_DAYS = {"1m": 30, "3m": 91, "6m": 182, "12m": 365, "13m": 395}


@dataclass(frozen=True)
class Scope:
    ids: tuple[int, ...] | None = None
    first_id: int | None = None
    last_id: int | None = None

    @classmethod
    def all(cls) -> Scope:
        return cls()

    @classmethod
    def of(cls, ids: Sequence[int]) -> Scope:
        return cls(ids=tuple(sorted({int(i) for i in ids})))

    @classmethod
    def between(cls, first_id: int, last_id: int) -> Scope:
        return cls(first_id=int(first_id), last_id=int(last_id))

    @property
    def is_all(self) -> bool:
        return self.ids is None and self.first_id is None

    def sql(self, column: str) -> tuple[str, dict[str, Any]]:
        """' AND <column> ...' and its named parameters."""
        if self.ids is not None:
            if not self.ids:
                return " AND 1 = 0", {}
            names = {f"scope_{k}": v for k, v in enumerate(self.ids)}
            return f" AND {column} IN ({', '.join(f'%({n})s' for n in names)})", names
        if self.first_id is not None:
            return f" AND {column} BETWEEN %(scope_lo)s AND %(scope_hi)s", {
                "scope_lo": self.first_id, "scope_hi": self.last_id}
        return "", {}

    def balance_kwargs(self) -> dict[str, Any]:
        """The same scope as the customer arguments of ``receivables.balances.invoice_balances``."""
        if self.ids is not None:
            return {"customer_ids": self.ids}
        if self.first_id is not None and self.last_id is not None:
            return {"customer_range": (self.first_id, self.last_id)}
        return {}

    def filter_kwargs(self, field: str = "customer_id") -> dict[str, Any]:
        """The same scope as ORM filter arguments."""
        if self.ids is not None:
            return {f"{field}__in": list(self.ids)}
        if self.first_id is not None:
            return {f"{field}__gte": self.first_id, f"{field}__lte": self.last_id}
        return {}


def windows(as_of: dt.date) -> dict[str, dt.date]:
    """Window start dates (exclusive): 'd3m' = as_of - 91 days, etc., plus 't' = as_of."""
    out = {f"d{k}": as_of - dt.timedelta(days=v) for k, v in WINDOW_DAYS.items()}
    out["t"] = as_of
    return out


def fetch(sql: str, params: dict[str, Any]) -> tuple[list[str], list[tuple]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return columns, cursor.fetchall()


# PostgreSQL's own trigger for re-analysing a table (autovacuum_analyze_scale_factor = 0.1).
STALE_SHARE = 0.1


def ensure_statistics(tables: Sequence[str]) -> list[str]:
    """Analyse the tables whose planner statistics are missing or stale; returns their names.

    PostgreSQL plans the feature statements from table statistics. Right after a bulk load (an import
    committed seconds before autovacuum gets to it) a new tenant's rows are unknown to them and the
    planner expects one invoice where there are 200,000. The statements are written so that even
    then their cost stays linear (measured on the demo: 0.7 s with misleading statistics; an earlier
    form that joined an aggregated subquery took over 20 minutes), and this check gives the planner
    true numbers when it can: a never-analysed table, or one with more than 10 % of its rows changed
    since its last analysis, is analysed first (~0.1 s per table: ANALYZE samples 30,000 rows).
    Rows written by the current, uncommitted transaction are not counted by PostgreSQL's change
    counters, so they are not detected here. One catalogue query when nothing is stale.
    """
    if connection.vendor != "postgresql" or not tables:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reltuples, COALESCE(s.n_mod_since_analyze, 0) FROM pg_class c "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.relname = ANY(%s) AND c.relkind = 'r'",
            [list(tables)],
        )
        stale = [name for name, tuples, changed in cursor.fetchall()
                 if tuples < 0 or changed > STALE_SHARE * max(tuples, 1000)]
        if stale:
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in sorted(stale)))
    return stale
