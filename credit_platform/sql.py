"""Small SQL fragments that differ between PostgreSQL and SQLite (the embedded default)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection

# psycopg prepares a statement once it has run this many times on a connection. Django turns psycopg's
# preparing off (prepare_threshold None, so that transaction-mode poolers keep working); ``fetch_prepared``
# switches it on for its own statement only, with a threshold no other statement reaches.
_ONLY_WHEN_ASKED = 2**31 - 1


def days_between(later: str, earlier: str) -> str:
    """SQL for the whole days from ``earlier`` to ``later`` (two date expressions)."""
    if connection.vendor == "postgresql":
        return f"(CAST({later} AS date) - CAST({earlier} AS date))"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def epoch_days(expr: str) -> str:
    """SQL for a date expression as whole days since 1970-01-01 (an integer: no date parsing when read)."""
    if connection.vendor == "postgresql":
        return f"(CAST({expr} AS date) - DATE '1970-01-01')"
    return f"CAST(julianday({expr}) - 2440587.5 AS INTEGER)"


def cents(expr: str) -> str:
    """SQL for a money expression as integer cents (exact on PostgreSQL; on SQLite, whose sums of
    NUMERIC are binary floats, rounded to the nearest cent)."""
    kind = "bigint" if connection.vendor == "postgresql" else "INTEGER"
    return f"CAST(round(({expr}) * 100) AS {kind})"


def fetch_prepared(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` (``%s`` placeholders), planned once per database connection on PostgreSQL.

    For a hot path that runs the same statement on every call and whose planning costs more than running
    it: the order credit check's one read planned in ~0.5 ms and ran in ~0.15 ms (EXPLAIN ANALYZE on the
    benchmark's book, docs/benchmarks.md). The statement is bound on the server and prepared by psycopg:
    one named statement per connection, statement text and parameter types; psycopg deallocates them
    after a rollback and prepares again on the next use. ``DATABASE_PREPARED_STATEMENTS=false`` (behind
    a transaction-mode pooler that does not keep named statements, e.g. PgBouncer before 1.21) and SQLite
    run it through an ordinary cursor. Logged in ``connection.queries`` like any query, so query counts
    (``CaptureQueriesContext``) see it."""
    if connection.vendor != "postgresql" or not getattr(settings, "DATABASE_PREPARED_STATEMENTS", True):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    import psycopg

    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    raw = connection.connection
    threshold = raw.prepare_threshold
    start = time.monotonic()
    try:
        if threshold is None:
            raw.prepare_threshold = _ONLY_WHEN_ASKED
        with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params, prepare=True)
            rows = cursor.fetchall()
    finally:
        raw.prepare_threshold = threshold
    if connection.queries_logged:
        connection.queries_log.append({"sql": f"{sql} -- prepared, parameters {list(params)!r}",
                                       "time": f"{time.monotonic() - start:.3f}"})
    return rows
