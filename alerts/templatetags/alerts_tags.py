"""Template helpers of the alerts app: reasons in the reader's language, the count in the navigation."""

from __future__ import annotations

from typing import Any

from django import template

from ..explain import explain, indicator_name

register = template.Library()


@register.filter
def reasons(alert: Any) -> list[str]:
    return explain(alert.details or {})


@register.filter
def indicator_label(alert: Any) -> str:
    if alert.kind.startswith("ews."):
        return indicator_name(alert.kind.removeprefix("ews."))
    return alert.title


@register.simple_tag(takes_context=True)
def alerts_active_count(context: Any) -> int:
    """Active, not snoozed alerts of the request's organization (one COUNT query), 0 without one."""
    request = context.get("request")
    organization = getattr(request, "organization", None)
    if organization is None:
        return 0
    from ..selectors import active_count

    if not hasattr(request, "_alerts_active_count"):  # the nav and the overview's include share one COUNT
        request._alerts_active_count = active_count(organization)
    return request._alerts_active_count


@register.filter
def get_item(mapping: dict, key: str) -> Any:
    return mapping.get(key)


@register.inclusion_tag("alerts/_summary.html", takes_context=True)
def alerts_summary(context: Any, customer: Any = None, limit: int = 8) -> dict[str, Any]:
    """The active alerts of a customer (its 360 page) or of the organization, most severe first: a small
    include for the customer page and the overview (three queries)."""
    from django.db.models import Case, IntegerField, Value, When

    from ..models import SEVERITY_RANK
    from ..selectors import AlertFilters, alerts_for

    request = context.get("request")
    organization = getattr(request, "organization", None)
    if organization is None:
        return {"alerts": [], "total": 0}
    filters = AlertFilters(customer=str(customer.pk) if customer is not None else "")
    qs = alerts_for(organization, filters)
    rank = Case(*[When(severity=s, then=Value(r)) for s, r in SEVERITY_RANK.items()], output_field=IntegerField())
    items = list(qs.annotate(rank=rank).order_by("-rank", "-last_raised_at")[:limit])
    short = len(items) < limit
    total = alerts_active_count(context) if customer is None else (len(items) if short else qs.count())
    return {"alerts": [(a, explain(a.details or {})) for a in items], "total": total,
            "show_customer": customer is None, "customer_id": customer.pk if customer is not None else None}
