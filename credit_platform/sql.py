"""Small SQL fragments that differ between PostgreSQL and SQLite (the embedded default)."""

from __future__ import annotations

from django.db import connection


def days_between(later: str, earlier: str) -> str:
    """SQL for the whole days from ``earlier`` to ``later`` (two date expressions)."""
    if connection.vendor == "postgresql":
        return f"(CAST({later} AS date) - CAST({earlier} AS date))"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
