"""Early-warning indicators: documented defaults, per-organization thresholds, one set-based evaluation.

``evaluate(organization, as_of, customer_ids)`` reads the book with a handful of SQL aggregates (never a
query per customer) and returns the findings: which indicator fires for which customer, how severe, and
why, in figures. The nightly sweep calls it for every customer and the event task for one; both then
reconcile the alerts with ``alerts.services.alerts_sync``, so that an event and the next sweep give the
same answer for the same data. Concentration compares a customer with the whole portfolio and is
evaluated by the sweep only.

Defaults (``DEFAULTS``) and why:

* ``overdue_frequency``: 3 payments at least 15 days late within 90 days. One late payment is noise
  (disputes, holidays); three in a quarter is a habit. 15 days keeps the customers who pay a few days
  late by routine out.
* ``dbt_deterioration``: average days beyond terms (amount-weighted, of the payments of the last 90
  days) up 10 days against the 90 days before, with at least 2 payments in each period: the classic
  "payments slipping" signal, measured against the customer's own habit.
* ``overdue_over_limit``: overdue receivables at 25% of the credit limit or more.
* ``limit_utilisation``: open receivables at 90% of the credit limit or more.
* ``order_anomaly``: see ``alerts.anomalies`` (order 3x the 12-month median and 3.5 robust z-scores; a
  30-day surge of 3x the median window and above every earlier one; an isolation forest from 12 months
  of history).
* ``downgrade``: 2 notches worse, or PD up 100% (doubled), against the score 90 days earlier.
* ``covenant``: current ratio under 1.0, negative equity, interest cover (EBIT / interest) under 1.5 on
  the latest statement.
* ``stale_statement``: the latest statement's period ended 18 months ago or earlier.
* ``adverse_signal``: litigation, insolvency filing, negative news or a reported payment default
  observed in the last 90 days; an insolvency filing is critical.
* ``broken_promise``: a promise to pay broken in the last 60 days.
* ``concentration``: one customer over 10% of the organization's open receivables.

"At the threshold" fires: a count or share equal to its threshold fires; for the "under" thresholds
(current ratio, interest cover) a value equal to the threshold does not.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection

from credit_platform.models import Organization

logger = logging.getLogger(__name__)

SEVERITIES = ("info", "low", "medium", "high", "critical")

DEFAULTS: dict[str, dict[str, Any]] = {
    "overdue_frequency": {"enabled": True, "severity": "medium", "count": 3, "days": 90, "late_days": 15},
    "dbt_deterioration": {"enabled": True, "severity": "medium", "days": 90, "increase_days": 10,
                          "min_payments": 2},
    "overdue_over_limit": {"enabled": True, "severity": "high", "share": 0.25},
    "limit_utilisation": {"enabled": True, "severity": "medium", "share": 0.90},
    "order_anomaly": {"enabled": True, "severity": "medium", "ratio": 3.0, "robust_z": 3.5, "min_orders": 6,
                      "history_days": 365, "recent_days": 14, "surge_days": 30, "surge_ratio": 3.0,
                      "isolation_min_months": 12},
    "downgrade": {"enabled": True, "severity": "high", "notches": 2, "pd_increase": 1.0, "lookback_days": 90},
    "covenant": {"enabled": True, "severity": "medium", "current_ratio": 1.0, "interest_cover": 1.5,
                 "statement_lag_days": 0},
    "stale_statement": {"enabled": True, "severity": "low", "months": 18},
    "adverse_signal": {"enabled": True, "severity": "high", "days": 90},
    "broken_promise": {"enabled": True, "severity": "medium", "days": 60},
    "concentration": {"enabled": True, "severity": "medium", "customer_share": 0.10},
}
# Bounds of every number a credit manager may set (inclusive): a threshold outside them is refused.
BOUNDS: dict[str, tuple[float, float]] = {
    "count": (1, 100), "days": (7, 730), "late_days": (1, 365), "increase_days": (1, 365),
    "min_payments": (1, 100), "share": (0.01, 10.0), "ratio": (1.1, 100.0), "robust_z": (1.0, 50.0),
    "min_orders": (3, 1000), "history_days": (60, 1460), "recent_days": (1, 90), "surge_days": (7, 180),
    "surge_ratio": (1.1, 100.0), "isolation_min_months": (6, 120), "notches": (1, 10), "pd_increase": (0.05, 100.0),
    "lookback_days": (7, 730), "current_ratio": (0.0, 10.0), "interest_cover": (0.0, 100.0),
    "statement_lag_days": (0, 365), "months": (1, 120), "customer_share": (0.01, 1.0),
}
SWEEP_ONLY = frozenset({"concentration"})
# The indicators a customer-level event re-evaluates: all but those that compare with the portfolio.
CUSTOMER_INDICATORS = tuple(k for k in DEFAULTS if k not in SWEEP_ONLY)


def merged(overrides: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """The defaults with an organization's overrides laid over them."""
    out = copy.deepcopy(DEFAULTS)
    for name, values in (overrides or {}).items():
        if name in out:
            out[name].update(values)
    return out


def thresholds_for(organization: Organization | int) -> dict[str, dict[str, Any]]:
    from .models import AlertPolicy

    org_id = organization if isinstance(organization, int) else organization.pk
    policy = AlertPolicy.objects.filter(organization_id=org_id).values_list("thresholds", flat=True).first()
    return merged(policy)


@dataclass
class Finding:
    indicator: str
    customer_id: int | None
    severity: str
    reasons: list[dict[str, Any]]
    value: float
    key: str = ""  # what the alert is about when not a customer (concentration of a group)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        about = self.key or f"customer-{self.customer_id}"
        return f"ews.{self.indicator}:{about}"


def reason(code: str, **params: Any) -> dict[str, Any]:
    return {"code": code, "params": {k: _plain(v) for k, v in params.items()}}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


class Scope:
    """Which customers to read: all of the organization (the sweep) or the ids given (an event)."""

    def __init__(self, organization: Organization, customer_ids: Iterable[int] | None):
        self.organization = organization
        self.ids = None if customer_ids is None else sorted({int(c) for c in customer_ids})

    def where(self, column: str) -> tuple[str, list[Any]]:
        if self.ids is None:
            return "", []
        if not self.ids:
            return " AND 1 = 0", []
        return f" AND {column} IN ({', '.join(['%s'] * len(self.ids))})", list(self.ids)


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _table(model_label: str) -> str:
    from django.apps import apps

    return connection.ops.quote_name(apps.get_model(model_label)._meta.db_table)


def payment_figures(organization_id: int, as_of: dt.date, late_days: int, late_window: int, dbt_window: int,
                    scope_sql: str = "", scope_params: list[Any] | None = None) -> list[tuple]:
    """Per customer, from the payments applied to its invoices: ``(customer_id, late payments in the late
    window, amount-weighted days beyond terms of the recent and prior DBT periods, payments in each)``.
    One GROUP BY over the allocations of the last ``max(late_window, 2 x dbt_window)`` days."""
    from credit_platform.sql import days_between

    alloc, inv = _table("receivables.Allocation"), _table("receivables.Invoice")
    late = days_between("a.allocated_on", "i.due_date")
    beyond = f"CASE WHEN {late} > 0 THEN {late} ELSE 0 END"
    late_from = as_of - dt.timedelta(days=late_window)
    recent_from = as_of - dt.timedelta(days=dbt_window)
    prior_from = as_of - dt.timedelta(days=2 * dbt_window)
    start = min(late_from, prior_from)
    sql = f"""
        SELECT i.customer_id,
               count(DISTINCT CASE WHEN a.allocated_on > %s AND {late} >= %s THEN i.id END),
               sum(CASE WHEN a.allocated_on > %s THEN a.amount * {beyond} END)
                   / NULLIF(sum(CASE WHEN a.allocated_on > %s THEN a.amount END), 0),
               sum(CASE WHEN a.allocated_on <= %s THEN a.amount * {beyond} END)
                   / NULLIF(sum(CASE WHEN a.allocated_on > %s AND a.allocated_on <= %s THEN a.amount END), 0),
               count(DISTINCT CASE WHEN a.allocated_on > %s THEN a.payment_id END),
               count(DISTINCT CASE WHEN a.allocated_on > %s AND a.allocated_on <= %s THEN a.payment_id END)
        FROM {alloc} a JOIN {inv} i ON i.id = a.invoice_id
        WHERE a.organization_id = %s AND a.payment_id IS NOT NULL AND a.allocated_on > %s
          AND a.allocated_on <= %s{scope_sql}
        GROUP BY i.customer_id
    """  # noqa: S608 - identifiers from model meta, values as parameters
    params = [late_from, late_days, recent_from, recent_from, recent_from, prior_from, recent_from, recent_from,
              prior_from, recent_from, organization_id, start, as_of, *(scope_params or [])]
    return _rows(sql, params)


def _payments(scope: Scope, as_of: dt.date, t: dict[str, dict[str, Any]]) -> list[Finding]:
    freq, dbt = t["overdue_frequency"], t["dbt_deterioration"]
    if not (freq["enabled"] or dbt["enabled"]):
        return []
    where, params = scope.where("i.customer_id")
    rows = payment_figures(scope.organization.pk, as_of, int(freq["late_days"]), int(freq["days"]),
                           int(dbt["days"]), where, params)
    out = []
    for cid, late_count, recent, prior, n_recent, n_prior in rows:
        if freq["enabled"] and late_count >= freq["count"]:
            out.append(Finding("overdue_frequency", cid, freq["severity"], [reason(
                "overdue_frequency", count=late_count, late_days=freq["late_days"], days=freq["days"],
                threshold=freq["count"])], float(late_count)))
        if (dbt["enabled"] and recent is not None and prior is not None and n_recent >= dbt["min_payments"]
                and n_prior >= dbt["min_payments"]):
            increase = float(recent) - float(prior)
            if increase >= dbt["increase_days"]:
                out.append(Finding("dbt_deterioration", cid, dbt["severity"], [reason(
                    "dbt_deterioration", recent=float(recent), prior=float(prior), increase=increase,
                    days=dbt["days"], threshold=dbt["increase_days"])], increase))
    return out


def _limits(scope: Scope, as_of: dt.date, t: dict[str, dict[str, Any]]) -> list[Finding]:
    over, util = t["overdue_over_limit"], t["limit_utilisation"]
    if not (over["enabled"] or util["enabled"]):
        return []
    from .selectors import limit_figures

    out = []
    for cid, fig in limit_figures(scope.organization, as_of, scope.ids).items():
        if not fig.limit:
            continue
        currency = fig.currency
        overdue_share, open_share = float(fig.overdue / fig.limit), float(fig.open / fig.limit)
        if over["enabled"] and fig.overdue > 0 and overdue_share >= over["share"]:
            out.append(Finding("overdue_over_limit", cid, over["severity"], [reason(
                "overdue_over_limit", overdue=fig.overdue, currency=currency, share=100 * overdue_share,
                threshold=100 * over["share"])], overdue_share))
        if util["enabled"] and fig.open > 0 and open_share >= util["share"]:
            out.append(Finding("limit_utilisation", cid, util["severity"], [reason(
                "limit_utilisation", open=fig.open, currency=currency, share=100 * open_share,
                threshold=100 * util["share"])], open_share))
    return out


def _downgrades(scope: Scope, as_of: dt.date, t: dict[str, dict[str, Any]]) -> list[Finding]:
    """The latest score on or before ``as_of`` against the latest one on or before ``as_of`` minus the
    lookback: two DISTINCT ON reads of the score history (one row per customer each)."""
    cfg = t["downgrade"]
    if not cfg["enabled"]:
        return []
    score = _table("scoring.Score")
    where, params = scope.where("s.customer_id")
    before = as_of - dt.timedelta(days=int(cfg["lookback_days"]))

    def latest(day: dt.date) -> dict[int, tuple[int, float]]:
        if connection.vendor == "postgresql":
            sql = f"""SELECT DISTINCT ON (s.customer_id) s.customer_id, s.grade, s.pd FROM {score} s
                      WHERE s.organization_id = %s AND s.as_of <= %s{where}
                      ORDER BY s.customer_id, s.as_of DESC"""  # noqa: S608
        else:
            sql = f"""SELECT s.customer_id, s.grade, s.pd FROM {score} s
                      WHERE s.organization_id = %s AND s.as_of = (SELECT max(x.as_of) FROM {score} x
                      WHERE x.customer_id = s.customer_id AND x.as_of <= %s){where}"""  # noqa: S608
        return {r[0]: (int(r[1]), float(r[2])) for r in _rows(sql, [scope.organization.pk, day, *params])}

    now, then = latest(as_of), latest(before)
    out = []
    for cid, (grade, pd_now) in now.items():
        old = then.get(cid)
        if old is None:
            continue
        reasons, value = [], 0.0
        if grade - old[0] >= cfg["notches"]:
            reasons.append(reason("downgrade_notches", old=old[0], new=grade, days=cfg["lookback_days"],
                                  threshold=cfg["notches"]))
            value = float(grade - old[0])
        if old[1] > 0 and pd_now / old[1] - 1 >= cfg["pd_increase"]:
            increase = pd_now / old[1] - 1
            reasons.append(reason("downgrade_pd", old=100 * old[1], new=100 * pd_now, days=cfg["lookback_days"],
                                  increase=100 * increase, threshold=100 * cfg["pd_increase"]))
            value = value or increase
        if reasons:
            out.append(Finding("downgrade", cid, cfg["severity"], reasons, value))
    return out


def _statements(scope: Scope, as_of: dt.date, t: dict[str, dict[str, Any]]) -> list[Finding]:
    cov, stale = t["covenant"], t["stale_statement"]
    if not (cov["enabled"] or stale["enabled"]):
        return []
    table = _table("customers.FinancialStatement")
    where, params = scope.where("f.customer_id")
    known_by = as_of - dt.timedelta(days=int(cov["statement_lag_days"]))
    cols = ("f.customer_id, f.period_end, f.currency, f.current_assets, f.current_liabilities, f.equity, f.ebit, "
            "f.interest_expense")
    if connection.vendor == "postgresql":
        sql = f"""SELECT DISTINCT ON (f.customer_id) {cols} FROM {table} f
                  WHERE f.organization_id = %s AND f.period_end <= %s{where}
                  ORDER BY f.customer_id, f.period_end DESC"""  # noqa: S608
    else:
        sql = f"""SELECT {cols} FROM {table} f WHERE f.organization_id = %s AND f.period_end = (
                  SELECT max(x.period_end) FROM {table} x WHERE x.customer_id = f.customer_id
                  AND x.period_end <= %s){where}"""  # noqa: S608
    out = []
    stale_before = _months_back(as_of, int(stale["months"]))
    for cid, period, currency, ca, cl, equity, ebit, interest in _rows(sql, [scope.organization.pk, known_by,
                                                                             *params]):
        period = period if isinstance(period, dt.date) else dt.date.fromisoformat(str(period))
        ca, cl, equity, ebit, interest = (Decimal(str(v)) for v in (ca, cl, equity, ebit, interest))
        if stale["enabled"] and period <= stale_before:
            out.append(Finding("stale_statement", cid, stale["severity"], [reason(
                "stale_statement", period=period, months=stale["months"])], float((as_of - period).days)))
            continue  # an outdated statement's ratios are not read as a breach of today
        if not cov["enabled"]:
            continue
        reasons = []
        if cl > 0 and float(ca / cl) < cov["current_ratio"]:
            reasons.append(reason("covenant_current_ratio", value=float(ca / cl), threshold=cov["current_ratio"],
                                  period=period))
        if equity < 0:
            reasons.append(reason("covenant_equity", value=equity, currency=currency, period=period))
        if interest > 0 and float(ebit / interest) < cov["interest_cover"]:
            reasons.append(reason("covenant_interest_cover", value=float(ebit / interest),
                                  threshold=cov["interest_cover"], period=period))
        if reasons:
            out.append(Finding("covenant", cid, cov["severity"], reasons, float(len(reasons))))
    return out


def _months_back(day: dt.date, months: int) -> dt.date:
    from receivables.kpis import month_back

    return month_back(day, months)


ADVERSE_KINDS = ("litigation", "insolvency_filing", "negative_news", "payment_default")


def _signals(scope: Scope, as_of: dt.date, t: dict[str, dict[str, Any]]) -> list[Finding]:
    cfg = t["adverse_signal"]
    if not cfg["enabled"]:
        return []
    table = _table("customers.ExternalSignal")
    where, params = scope.where("s.customer_id")
    kinds = ", ".join(["%s"] * len(ADVERSE_KINDS))
    sql = f"""SELECT s.customer_id, s.kind, s.observed_on, s.title FROM {table} s
              WHERE s.organization_id = %s AND s.kind IN ({kinds}) AND s.observed_on > %s
              AND s.observed_on <= %s{where} ORDER BY s.customer_id, s.observed_on DESC, s.id"""  # noqa: S608
    rows = _rows(sql, [scope.organization.pk, *ADVERSE_KINDS, as_of - dt.timedelta(days=int(cfg["days"])), as_of,
                       *params])
    by_customer: dict[int, list[tuple]] = {}
    for row in rows:
        by_customer.setdefault(row[0], []).append(row)
    out = []
    for cid, items in by_customer.items():
        critical = any(r[1] in ("insolvency_filing", "payment_default") for r in items)
        reasons = [reason("signal", kind=r[1], date=r[2], title=r[3] or "") for r in items[:5]]
        out.append(Finding("adverse_signal", cid, "critical" if critical else cfg["severity"], reasons,
                           float(len(items))))
    return out


def _promises(scope: Scope, as_of: dt.date, t: dict[str, dict[str, Any]]) -> list[Finding]:
    cfg = t["broken_promise"]
    if not cfg["enabled"]:
        return []
    table = _table("receivables.PromiseToPay")
    where, params = scope.where("p.customer_id")
    sql = f"""SELECT p.customer_id, p.amount, p.currency, p.promised_date FROM {table} p
              WHERE p.organization_id = %s AND p.status = 'broken' AND p.closed_on > %s AND p.closed_on <= %s{where}
              ORDER BY p.customer_id, p.promised_date DESC"""  # noqa: S608
    rows = _rows(sql, [scope.organization.pk, as_of - dt.timedelta(days=int(cfg["days"])), as_of, *params])
    by_customer: dict[int, list[tuple]] = {}
    for row in rows:
        by_customer.setdefault(row[0], []).append(row)
    return [
        Finding("broken_promise", cid, cfg["severity"],
                [reason("broken_promise", amount=Decimal(str(r[1])), currency=r[2], date=r[3]) for r in items[:5]],
                float(len(items)))
        for cid, items in by_customer.items()
    ]


def _concentration(scope: Scope, as_of: dt.date, t: dict[str, dict[str, Any]]) -> list[Finding]:
    """A customer's share of the organization's open receivables in base currency. Without a rate for
    some currency the shares cannot be decided: the indicator is skipped (logged), the others run."""
    cfg = t["concentration"]
    if not cfg["enabled"] or scope.ids is not None:
        return []
    from credit_platform.errors import AppError
    from receivables.selectors import customer_balances

    try:
        balances = customer_balances(scope.organization, as_of)
    except AppError as exc:
        logger.warning("concentration of organization %s skipped: %s", scope.organization.pk, exc.message)
        return []
    total = sum((b.open for b in balances.values()), Decimal(0))
    if total <= 0:
        return []
    names = dict(_rows(f"SELECT id, legal_name FROM {_table('customers.Customer')} WHERE organization_id = %s",  # noqa: S608
                       [scope.organization.pk]))
    out = []
    for cid, bal in balances.items():
        share = float(bal.open / total)
        if share >= cfg["customer_share"]:
            out.append(Finding("concentration", cid, cfg["severity"], [reason(
                "concentration", what=names.get(cid, str(cid)), share=100 * share,
                threshold=100 * cfg["customer_share"])], share))
    return out


def evaluate(organization: Organization, as_of: dt.date, customer_ids: Iterable[int] | None = None,
             thresholds: dict[str, dict[str, Any]] | None = None) -> list[Finding]:
    """Every indicator's findings for the customers of the scope (all when ``customer_ids`` is None), as
    of ``as_of``, sorted by (indicator, customer)."""
    from .anomalies import order_findings

    t = thresholds or thresholds_for(organization)
    scope = Scope(organization, customer_ids)
    findings: list[Finding] = []
    for rule in (_payments, _limits, order_findings, _downgrades, _statements, _signals, _promises,
                 _concentration):
        findings.extend(rule(scope, as_of, t))
    findings.sort(key=lambda f: (f.indicator, f.customer_id or 0, f.key))
    return findings
