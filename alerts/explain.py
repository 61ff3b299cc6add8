"""Alerts explained in words: each finding stores a message code and its figures, and is rendered in the
reader's language (English or Simplified Chinese) when shown, e-mailed or sent by webhook."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Any] = {
    "overdue_frequency": _("%(count)s payments at least %(late_days)s days late in the last %(days)s days "
                           "(threshold %(threshold)s)"),
    "dbt_deterioration": _("paid %(recent).1f days beyond terms in the last %(days)s days against %(prior).1f "
                           "days in the period before (up %(increase).1f days; threshold %(threshold)s)"),
    "overdue_over_limit": _("overdue %(overdue)s %(currency)s is %(share).0f%% of the credit limit "
                            "(threshold %(threshold).0f%%)"),
    "limit_utilisation": _("exposure %(open)s %(currency)s (open receivables and orders) uses %(share).0f%% "
                           "of the credit limit (threshold %(threshold).0f%%)"),
    "order_vs_median": _("order %(number)s is %(ratio).1fx the customer's 12-month median order "
                         "(%(median)s %(currency)s; robust z-score %(z).1f)"),
    "order_surge_amount": _("orders of the last %(days)s days total %(ratio).1fx the customer's median "
                            "%(days)s-day total of the past year"),
    "order_surge_count": _("%(count)s orders in the last %(days)s days against a median of %(median).1f per "
                           "%(days)s days in the past year"),
    "order_pattern": _("the last %(days)s days of orders (%(count)s orders, %(total)s %(currency)s) are unlike "
                       "the customer's previous %(months)s months (isolation forest score %(score).2f)"),
    "downgrade_notches": _("grade worsened from %(old)s to %(new)s in %(days)s days (threshold %(threshold)s "
                           "notches)"),
    "downgrade_pd": _("probability of default rose from %(old).2f%% to %(new).2f%% in %(days)s days "
                      "(up %(increase).0f%%; threshold %(threshold).0f%%)"),
    "covenant_current_ratio": _("current ratio %(value).2f is under %(threshold).2f (statement of %(period)s)"),
    "covenant_equity": _("negative equity of %(value)s %(currency)s (statement of %(period)s)"),
    "covenant_interest_cover": _("interest cover %(value).2f is under %(threshold).2f (statement of "
                                 "%(period)s)"),
    "stale_statement": _("latest financial statement is of %(period)s, %(months)s months old or older"),
    "signal": _("%(kind)s on %(date)s: %(title)s"),
    "broken_promise": _("promise to pay %(amount)s %(currency)s by %(date)s was broken"),
    "concentration": _("%(what)s holds %(share).1f%% of open receivables (threshold %(threshold).0f%%)"),
}

# Names of indicators, as shown in filters and titles.
INDICATOR_NAMES: dict[str, Any] = {
    "overdue_frequency": _("Overdue frequency"),
    "dbt_deterioration": _("Days beyond terms deterioration"),
    "overdue_over_limit": _("Overdue over a share of the limit"),
    "limit_utilisation": _("Limit utilisation"),
    "order_anomaly": _("Order anomaly"),
    "downgrade": _("Downgrade"),
    "covenant": _("Covenant breach"),
    "stale_statement": _("Stale financial statement"),
    "adverse_signal": _("Litigation, insolvency or negative news"),
    "broken_promise": _("Broken promise to pay"),
    "concentration": _("Concentration"),
}

SIGNAL_NAMES: dict[str, Any] = {
    "litigation": _("Litigation"),
    "insolvency_filing": _("Insolvency filing"),
    "negative_news": _("Negative news"),
    "payment_default": _("Payment default reported"),
}


def render(code: str, params: dict[str, Any]) -> str:
    """One reason in the active language. Figures that name a kind of signal are translated too."""
    template = MESSAGES.get(code)
    if template is None:
        return code
    values = dict(params)
    if "kind" in values:
        values["kind"] = str(SIGNAL_NAMES.get(values["kind"], values["kind"]))
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return f"{code} {params}"


def explain(details: dict[str, Any], language: str | None = None) -> list[str]:
    """The reasons of an alert's details in ``language`` (default: the active one)."""
    reasons = details.get("reasons") or []
    if language is None:
        return [render(r["code"], r.get("params", {})) for r in reasons]
    with translation.override(language):
        return [render(r["code"], r.get("params", {})) for r in reasons]


def indicator_name(indicator: str) -> str:
    return str(INDICATOR_NAMES.get(indicator, indicator))
