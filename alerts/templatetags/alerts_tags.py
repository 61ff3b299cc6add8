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

    return active_count(organization)
