"""Score panels for other apps' pages (customer 360, dashboard) and small formatting filters."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from scoring import selectors

register = template.Library()


@register.inclusion_tag("scoring/_customer_panel.html", takes_context=True)
def customer_score_panel(context: dict[str, Any], customer: Any) -> dict[str, Any]:
    org = context.get("current_organization")
    card = selectors.customer_score_card(org, customer) if org is not None else {"current": None}
    return {"card": card, "customer": customer, "zh_first": (get_language() or "en").startswith("zh")}


@register.filter
def pd_pct(value: Any) -> str:
    """A probability as a percentage with sensible precision: 0.00123 -> '0.12%', 0.2 -> '20.0%'."""
    if value is None:
        return "–"
    v = float(value) * 100
    if v >= 10:
        return f"{v:.1f}%"
    if v >= 1:
        return f"{v:.2f}%"
    return f"{v:.3f}%"


@register.filter
def psi_level(value: Any) -> str:
    from scoring.monitoring import PSI_ALERT, PSI_WATCH

    if value is None:
        return ""
    v = float(value)
    return "high" if v > PSI_ALERT else ("medium" if v > PSI_WATCH else "safe")


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` for a dict, the item at index ``key`` of a list; None when absent."""
    if isinstance(mapping, list | tuple):
        return mapping[key] if isinstance(key, int) and -len(mapping) <= key < len(mapping) else None
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def feature_label(name: Any) -> str:
    """A model feature by its name in the reader's language ("Average days beyond terms, 3 months"), not
    its column name; an unknown name is shown as it is."""
    from scoring.features.catalog import feature

    found = feature(str(name))
    if found is None:
        return str(name)
    return found.label_zh if (get_language() or "en").startswith("zh") else found.label


@register.filter
def in_language(pair: Any, which: str = "") -> str:
    """``{"text_en": ..., "text_zh": ...}`` (a reason or flag) in the reader's language."""
    if not hasattr(pair, "get"):
        return str(pair)
    return pair.get("text_zh") if (get_language() or "en").startswith("zh") else pair.get("text_en")
