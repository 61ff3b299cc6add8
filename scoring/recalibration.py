"""The write that recalibrates an organization's expert scorecard to its observed defaults (the method is
in ``calibration``): a new expert version with the fitted PD scale, its before/after table per grade
in the report, promoted in place of the current expert champion and recorded in the ledger.

When: the nightly run (``tasks.run_organization``) calls ``expert_recalibrate_if_due``: the champion
is the expert card and its calibration is missing or older than ``RECALIBRATE_EVERY_DAYS`` (a
quarter, the spacing of the training snapshots: before that no new snapshot has a closed outcome
window). The demo seed calls it before back-filling scores, so the demo ends with calibrated PDs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction

from credit_platform.audit import audit_append
from credit_platform.models import Organization

from . import calibration
from .expert import ExpertScorecard
from .features.catalog import with_renamed
from .labels import TARGET, training_table
from .models import ScoringModel

RECALIBRATE_EVERY_DAYS = 91


def calibration_sample(organization: Organization, as_of: dt.date) -> pd.DataFrame:
    """The snapshots with closed outcome windows (features as known on each date)."""
    return training_table(organization, as_of)


def _fit_report(card: ExpertScorecard, table: pd.DataFrame, scale: Any, as_of: dt.date) -> dict[str, Any]:
    X = with_renamed(table, card.features_)
    x = card.anchor_log_odds(X)
    y = table[TARGET].to_numpy(dtype=int)
    fit = calibration.fit_recalibration(x, y)
    last = (table["as_of"] == table["as_of"].max()).to_numpy()
    before, after = calibration.apply(x, {}), calibration.apply(x, fit)
    return {
        **fit,
        "as_of": as_of.isoformat(),
        "snapshots": sorted({pd.Timestamp(d).date().isoformat() for d in table["as_of"].unique()}),
        "mean_pd_before": float(before.mean()),
        "mean_pd_after": float(after.mean()),
        "check_snapshot": pd.Timestamp(table["as_of"].max()).date().isoformat(),
        "level": calibration.INTERVAL_LEVEL,
        "grades": calibration.grade_rows(y[last], after[last], scale, before=before[last]),
        "grades_before": calibration.grade_rows(y[last], before[last], scale),
    }


def expert_recalibrate(*, organization: Organization, as_of: dt.date | None = None, actor: Any = None,
                       table: pd.DataFrame | None = None) -> ScoringModel | None:
    """Fit the expert champion's PD scale to the observed defaults and make the recalibrated card the
    champion. Returns it, or None when the champion is not the expert card or there are too few
    outcomes (the documented anchors stay)."""
    from .services import _next_version, champion, master_scale, model_promote

    as_of = as_of or organization.local_date()
    current = champion(organization)
    if current.kind != ScoringModel.Kind.EXPERT:
        return None
    sample = calibration_sample(organization, as_of) if table is None else table
    if sample.empty:
        return None
    config = {k: v for k, v in current.config.items() if k != "calibration"}
    card = ExpertScorecard.from_config(config)
    report = _fit_report(card, sample, master_scale(organization), as_of)
    if report["method"] == "anchors":
        return None
    config["calibration"] = {"intercept": report["intercept"], "slope": report["slope"],
                             "method": report["method"], "as_of": as_of.isoformat()}
    with transaction.atomic():
        model = ScoringModel.objects.create(
            organization=organization, version=_next_version(organization), kind=ScoringModel.Kind.EXPERT,
            name="Expert scorecard (recalibrated)", algorithm="expert", config=config,
            features=list(current.features), report={**current.report, "calibration": report},
        )
        audit_append(organization=organization, actor=actor, action="scoring.model_recalibrated", obj=model,
                     before={"version": current.version, "calibration": current.config.get("calibration")},
                     after={"version": model.version, "calibration": config["calibration"],
                            "rows": report["rows"], "defaults": report["defaults"],
                            "mean_pd_before": report["mean_pd_before"], "mean_pd_after": report["mean_pd_after"]},
                     reason=f"observed default rate {report['observed_rate']:.4f} on {report['rows']} snapshot rows")
        return model_promote(model=model, actor=actor, reason="expert scorecard recalibrated to observed defaults")


def recalibration_due(model: ScoringModel, as_of: dt.date) -> bool:
    if model.kind != ScoringModel.Kind.EXPERT:
        return False
    done = (model.config.get("calibration") or {}).get("as_of")
    return done is None or (as_of - dt.date.fromisoformat(done)).days >= RECALIBRATE_EVERY_DAYS


def expert_recalibrate_if_due(*, organization: Organization, as_of: dt.date | None = None) -> ScoringModel | None:
    from .services import champion

    as_of = as_of or organization.local_date()
    if not recalibration_due(champion(organization), as_of):
        return None
    return expert_recalibrate(organization=organization, as_of=as_of)


def predicted_vs_observed(model: ScoringModel) -> dict[str, Any] | None:
    """The champion's calibration table for the page (None for a card still on its anchors)."""
    report = (model.report or {}).get("calibration")
    if not report:
        return None
    return {**report, "grades": [g for g in report["grades"] if g["count"]],
            "level_pct": round(100 * float(report.get("level", calibration.INTERVAL_LEVEL))),
            "anchors_within": sum(bool(g["within"]) for g in report["grades_before"] if g["count"]),
            "within": sum(bool(g["within"]) for g in report["grades"] if g["count"]),
            "populated": int(np.sum([1 for g in report["grades"] if g["count"]]))}
