"""Tags the long lists share: a sortable column header and export links that keep the filters."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context: Any, key: str, label: str, numeric: bool = False) -> str:
    """``<th>`` whose link sorts by ``key``; a second click reverses. Needs ``sort_base`` (the query string
    without sort and page) and ``current_sort`` (e.g. ``-pd``) in the context."""
    current = str(context.get("current_sort", ""))
    base = context.get("sort_base", "")
    descending_now = current == f"-{key}"
    active = current.lstrip("-") == key
    # figures read best from the largest; names from A
    default_desc = numeric
    wanted = (key if descending_now else f"-{key}") if active else (f"-{key}" if default_desc else key)
    arrow = ("▼" if descending_now else "▲") if active else ""
    href = f"?{base}&sort={wanted}" if base else f"?sort={wanted}"
    return format_html('<th class="{}{}" aria-sort="{}"><a href="{}">{}</a> {}</th>', "num" if numeric else "",
                       " sorted" if active else "",
                       ("descending" if descending_now else "ascending") if active else "none",
                       href, label, arrow)


@register.simple_tag(takes_context=True)
def export_url(context: Any, fmt: str) -> str:
    """The current page's query string with ``format=<fmt>`` and without page: the whole filtered list."""
    params = context["request"].GET.copy()
    params.pop("page", None)
    params["format"] = fmt
    return "?" + params.urlencode()


@register.simple_tag(takes_context=True)
def page_url(context: Any, number: int) -> str:
    params = context["request"].GET.copy()
    params["page"] = str(number)
    return "?" + params.urlencode()
