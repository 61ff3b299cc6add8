"""Small SQL fragments that differ between PostgreSQL and SQLite (the embedded default)."""

from __future__ import annotations

from django.db import connection


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
