from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def money(value: Any, decimals: int = 2) -> str:
    """1234567.8 -> '1,234,567.80'; None -> '–'."""
    if value is None or value == "":
        return "–"
    return f"{Decimal(str(value)):,.{int(decimals)}f}"


@register.filter
def pct(value: Any, decimals: int = 1) -> str:
    if value is None:
        return "–"
    return f"{float(value):.{int(decimals)}f}%"


@register.filter
def ratio(value: Any) -> str:
    if value is None:
        return "–"
    return f"{float(value):,.2f}"


@register.filter
def percent(value: Any, decimals: int = 1) -> str:
    """A share stored as a fraction: 0.0351 -> '3.5%'."""
    if value is None:
        return "–"
    return f"{float(value) * 100:.{int(decimals)}f}%"
