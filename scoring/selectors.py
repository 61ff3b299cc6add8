"""Reads of the scoring app for pages, the dashboard and the API.

Reason sentences are written here, from the stored codes and values, in English and Chinese
(``features.catalog.reason_text``), so that the stored history stays small and every reader gets the
same wording.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, Subquery

from credit_platform.models import Organization
from credit_platform.money import ZERO
from customers.models import Customer

from .features.catalog import GROUP_LABELS, reason_text
from .features.catalog import feature as catalog_feature
from .modeling.masterscale import MasterScale
from .models import (
    CurrentScore,
    GradeChange,
    MasterScaleConfig,
    MonitoringReport,
    Score,
    ScorecardFactor,
    ScoringModel,
    ScoringRun,
)

FLAG_LABELS = {
    "no_statement": ("No financial statements on file", "无财务报表"),
    "stale_statement": ("Latest statement older than 18 months", "最新财报已超过18个月"),
    "no_bureau": ("No bureau score", "无征信评分"),
    "no_payment_history": ("No invoice due in the last 12 months", "近12个月无到期发票"),
    "thin_file": ("Fewer than 3 invoices due in the last 12 months", "近12个月到期发票少于3张"),
    "new_customer": ("Customer for less than a year", "合作不满一年"),
    "no_credit_limit": ("No credit limit set", "未设信用额度"),
}
HISTORY_POINTS = 24


def scale_for(organization: Organization | int) -> MasterScale:
    row = MasterScaleConfig.objects.for_organization(organization).first()
    return MasterScale(tuple(row.upper_bounds)) if row else MasterScale()


def grade_bands(organization: Organization | int) -> dict[int, tuple[float, float]]:
    table = scale_for(organization).table()
    return {int(r.grade): (float(r.pd_lower), float(r.pd_upper)) for r in table.itertuples()}


def render_reasons(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reasons as sentences; several missing features of one kind (a new customer's 3-, 6- and 12-month
    days late) read as one sentence ("No payment history yet"), not three."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in reasons or []:
        en, zh = reason_text(r["code"], r.get("value"))
        if en in seen:
            continue
        seen.add(en)
        feature = catalog_feature(r["code"])
        group = GROUP_LABELS.get(feature.group, ("", "")) if feature else ("", "")
        out.append({"code": r["code"], "value": r.get("value"), "impact": r.get("impact"), "text_en": en,
                    "text_zh": zh, "group": group[0], "group_zh": group[1]})
    return out


def render_flags(flags: list[str]) -> list[dict[str, str]]:
    return [{"code": f, "text_en": FLAG_LABELS.get(f, (f, f))[0], "text_zh": FLAG_LABELS.get(f, (f, f))[1]}
            for f in flags or []]


def _score_dict(s: Any, bands: dict[int, tuple[float, float]]) -> dict[str, Any]:
    return {
        "as_of": s.as_of, "pd": s.pd, "grade": s.grade, "band": bands.get(s.grade), "points": s.points,
        "model_version": s.model_version, "reasons": render_reasons(s.reasons), "flags": render_flags(s.flags),
        "computed_at": s.computed_at,
    }


def customer_current_score(organization: Organization | int, customer: Customer | int) -> dict[str, Any] | None:
    current = CurrentScore.objects.for_organization(organization).filter(customer=customer).first()
    return _score_dict(current, grade_bands(organization)) if current else None


def customer_score_history(organization: Organization | int, customer: Customer | int,
                           limit: int = HISTORY_POINTS) -> list[dict[str, Any]]:
    """The customer's scores, oldest first (the last ``limit`` as-of dates)."""
    rows = list(
        Score.objects.for_organization(organization).filter(customer=customer).order_by("-as_of")
        .values("as_of", "pd", "grade", "model_version", "trigger")[:limit]
    )
    return rows[::-1]


def customer_grade_changes(organization: Organization | int, customer: Customer | int,
                           limit: int = 12) -> list[GradeChange]:
    return list(GradeChange.objects.for_organization(organization).filter(customer=customer)
                .order_by("-as_of", "-pk")[:limit])


def customer_score_card(organization: Organization | int, customer: Customer | int) -> dict[str, Any]:
    """Everything the customer page shows about the score."""
    history = customer_score_history(organization, customer)
    return {
        "current": customer_current_score(organization, customer),
        "history": history,
        "sparkline": sparkline(history),
        "changes": customer_grade_changes(organization, customer),
    }


def sparkline(history: list[dict[str, Any]], width: int = 260, height: int = 56, grades: int = 10) -> dict[str, Any]:
    """Points of an inline SVG line of the grade over time (grade 1 at the top)."""
    if len(history) < 2:
        return {"points": "", "dots": [], "width": width, "height": height}
    pad = 6
    step = (width - 2 * pad) / (len(history) - 1)
    dots = []
    for i, h in enumerate(history):
        x = pad + i * step
        y = pad + (h["grade"] - 1) / (grades - 1) * (height - 2 * pad)
        dots.append({"x": round(x, 1), "y": round(y, 1), "grade": h["grade"], "as_of": h["as_of"]})
    return {"points": " ".join(f"{d['x']},{d['y']}" for d in dots), "dots": dots, "width": width,
            "height": height}


def exposure_by_customer(organization: Organization, as_of: dt.date) -> dict[int, Decimal]:
    from limits.selectors import balances_and_exposure

    return balances_and_exposure(organization, as_of)[1]


def grade_distribution(organization: Organization, as_of: dt.date,
                       exposure: dict[int, Decimal] | None = None) -> dict[str, Any]:
    """Customers and exposure (base currency) per grade as of a date: the current grades for today (or
    later), else each customer's latest score dated on or before ``as_of`` (a customer scored only
    afterwards counts as unscored then). Pass ``exposure`` when the caller already has it (the
    dashboard) to save its two grouped queries."""
    exposure = exposure if exposure is not None else exposure_by_customer(organization, as_of)
    bands = grade_bands(organization)
    counts: dict[int, int] = defaultdict(int)
    amounts: dict[int, Decimal] = defaultdict(lambda: ZERO)
    latest = None
    if as_of >= organization.local_date():
        grades = CurrentScore.objects.for_organization(organization).values_list("customer_id", "grade", "as_of")
    else:
        last = (Score.objects.filter(customer=OuterRef("customer"), as_of__lte=as_of)
                .order_by("-as_of", "-pk").values("pk")[:1])
        grades = (Score.objects.for_organization(organization).filter(as_of__lte=as_of, pk=Subquery(last))
                  .values_list("customer_id", "grade", "as_of"))
    for cid, grade, as_of_ in grades.iterator(chunk_size=10_000):
        counts[grade] += 1
        amounts[grade] += exposure.get(cid, ZERO)
        latest = as_of_ if latest is None or as_of_ > latest else latest
    total_n = sum(counts.values())
    total_x = sum(amounts.values(), ZERO)
    unscored = Customer.objects.for_organization(organization).count() - total_n
    rows = []
    for grade, (lo, hi) in bands.items():
        n, x = counts.get(grade, 0), amounts.get(grade, ZERO)
        rows.append({
            "grade": grade, "pd_lower": lo, "pd_upper": hi, "customers": n, "exposure": x,
            "customer_share": n / total_n * 100 if total_n else 0.0,
            "exposure_share": float(x / total_x * 100) if total_x else 0.0,
        })
    return {"rows": rows, "customers": total_n, "exposure": total_x, "unscored": max(unscored, 0),
            "scored_on": latest}


def registry(organization: Organization) -> list[ScoringModel]:
    return list(ScoringModel.objects.for_organization(organization).annotate(n_scores=Count("runs"))
                .select_related("created_by", "promoted_by").order_by("-version"))


def latest_monitoring(organization: Organization) -> MonitoringReport | None:
    return (MonitoringReport.objects.for_organization(organization).select_related("model", "run")
            .order_by("-as_of", "-pk").first())


def recent_runs(organization: Organization, limit: int = 8) -> list[ScoringRun]:
    return list(ScoringRun.objects.for_organization(organization).select_related("model")
                .order_by("-started_at", "-pk")[:limit])


def expert_factors(organization: Organization) -> list[dict[str, Any]]:
    from .expert import Factor

    out = []
    for f in ScorecardFactor.objects.for_organization(organization).order_by("feature"):
        feature = catalog_feature(f.feature)
        factor = Factor(f.feature, tuple((b[0], float(b[1])) for b in f.bins), float(f.missing_points),
                        float(f.weight))
        out.append({"factor": f, "label": feature.label if feature else f.feature,
                    "label_zh": feature.label_zh if feature else f.feature, "bands": factor.describe()})
    return out


def expert_unpublished(organization: Organization) -> bool:
    """True when the factors were edited after the latest expert scorecard version was published."""
    from .expert import ExpertScorecard
    from .services import current_expert_config

    latest = (ScoringModel.objects.for_organization(organization).filter(kind=ScoringModel.Kind.EXPERT)
              .order_by("-version").first())
    if latest is None:
        return False
    try:
        published = ExpertScorecard.from_config(latest.config).config()["factors"]  # current feature names
        return current_expert_config(organization)["factors"] != sorted(published, key=lambda f: f["feature"])
    except ValueError:
        return True
