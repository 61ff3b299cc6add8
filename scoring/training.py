"""Training a PD model on an organization's own history (read-only; ``services.model_train`` registers
the result).

1. Snapshots and labels (``labels.training_table``): quarter ends with a complete 12-month outcome
   window; features as known on each date; label = default within the next 12 months.
2. ``modeling.train`` on all snapshots: scorecard, GBM and their blend cross-validated (5 folds),
   champion by CV AUC (ties by calibration), calibrated. Features with no value at all in the sample
   are left out (e.g. statement changes when only one statement per customer exists yet).
3. Out-of-time validation: the same procedure trained on the snapshots before the cut (the 80 %
   quantile of observation dates, as ``modeling.train`` does) scores the later snapshots; AUC, Gini,
   KS, Brier, calibration error and the observed vs predicted default rate per grade are reported.
   The later snapshots' labels were never seen by that model; its features may differ from the
   final model's when a feature only exists in the later period.
4. The monitoring reference: the final model's PDs and its most informative features on the
   training sample, binned (see ``monitoring``).

Rows of one customer appear in several snapshots, so cross-validation folds share customers and
the CV figures lean optimistic; the out-of-time figures are the honest ones and are reported first.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from credit_platform.models import Organization

from . import monitoring
from .features import FEATURE_NAMES, MONOTONE
from .labels import OUTCOME_DAYS, TARGET, training_table
from .modeling import metrics as M
from .modeling.binning import MonotoneWOEBinner
from .modeling.masterscale import MasterScale
from .modeling.schema import DataError
from .modeling.trainer import TrainedModel, train

OOT_FRACTION = 0.2
MIN_EVENTS = 20  # below this the CV and out-of-time figures are noise


@dataclass
class TrainingOutcome:
    model: TrainedModel
    report: dict[str, Any]
    reference: dict[str, Any]
    window: tuple[dt.date, dt.date]
    features: list[str]
    seconds: float


def json_safe(value: Any) -> Any:
    """Plain JSON (no NaN/inf, no numpy scalars): what a JSON column on PostgreSQL accepts."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, float | np.floating):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()
    return value


def _fit(frame: pd.DataFrame, random_state: int, log: Callable[[str], None]) -> TrainedModel:
    features = [c for c in FEATURE_NAMES if c in frame and frame[c].notna().any()]
    data = frame[["as_of", "customer_id", *features, TARGET]]
    return train(
        data, TARGET, 1, {k: v for k, v in MONOTONE.items() if k in features},
        id_column="customer_id", exclude=["as_of"], gbm_grid=None, random_state=random_state, log=log,
    )


def grade_rows(y: np.ndarray, p: np.ndarray, scale: MasterScale) -> list[dict[str, Any]]:
    table = M.grade_table(y, p, scale.grade_for(p), scale.grades)
    return json_safe(table.to_dict(orient="records"))


def _champion_metrics(champion: Any, rows: pd.DataFrame, y: np.ndarray) -> dict[str, Any] | None:
    if champion is None:
        return None
    from .features.catalog import with_renamed

    p = np.clip(np.asarray(champion.predict_pd(with_renamed(rows, champion.features)), dtype=float), 0.0, 1.0)
    return json_safe(M.summary(y, p))


def train_on_history(organization: Organization, as_of: dt.date, scale: MasterScale, *, months: int = 3,
                     random_state: int = 0, log: Callable[[str], None] | None = None,
                     champion: Any = None) -> TrainingOutcome:
    """``champion``: the current champion's scorer (``registry.Scorer``); it is scored on the same
    out-of-time snapshots, so the report says whether the new model beats it there."""
    emit = log or (lambda _m: None)
    started = time.perf_counter()
    emit("building snapshots (features as known on each date, 12-month default label)")
    table = training_table(organization, as_of, months=months, log=emit)
    if table.empty:
        raise DataError(
            "no observation date has both 6 months of invoices before it and a complete 12-month outcome "
            f"window before {as_of}; training needs at least 18 months of history"
        )
    events = int(table[TARGET].sum())
    if events < MIN_EVENTS:
        raise DataError(
            f"only {events} defaults within 12 months of an observation date in {len(table)} snapshot rows; "
            f"at least {MIN_EVENTS} are needed to train and validate a model. Keep the expert scorecard."
        )
    emit(f"training on {len(table)} rows ({events} defaults)")
    model = _fit(table, random_state, emit)

    dates = table["as_of"].astype("datetime64[ns]")
    cut = pd.Timestamp(int(np.quantile(dates.astype("int64"), 1 - OOT_FRACTION)))
    before = (dates < cut).to_numpy()
    oot: dict[str, Any] = {"cut": cut.date().isoformat(), "rows_before": int(before.sum()),
                           "rows_after": int((~before).sum())}
    y_before, y_after = table.loc[before, TARGET], table.loc[~before, TARGET]
    if min(y_before.sum(), y_after.sum()) < 10 or before.sum() == 0:
        oot["skipped"] = "too few defaults on one side of the out-of-time cut"
    else:
        emit(f"out-of-time check: training on snapshots before {oot['cut']}")
        early = _fit(table[before], random_state, emit)
        later = table[~before]
        p = early.predict_proba(later)
        y = later[TARGET].to_numpy()
        day = later["as_of"].dt.date.to_numpy()
        oot.update(champion=early.champion, features=early.features, metrics=json_safe(M.summary(y, p)),
                   grade_table=grade_rows(y, p, scale),
                   champion_metrics=_champion_metrics(champion, later, y),
                   dates=sorted({d.isoformat() for d in day}),
                   # one row per customer within a date: the independent samples a binomial test needs
                   grade_table_by_date={d.isoformat(): grade_rows(y[day == d], p[day == d], scale)
                                        for d in sorted(set(day))})

    # monitoring reference: the final model's PDs and most informative features on its sample
    y_all = table[TARGET].to_numpy()
    X = table[model.features]
    iv = MonotoneWOEBinner({k: v for k, v in MONOTONE.items() if k in model.features}).fit(X, y_all).iv_
    monitored = [str(c) for c in iv.sort_values(ascending=False).index[: monitoring.MONITORED_FEATURES]]
    reference = monitoring.reference_from_sample(X, model.predict_proba(table), monitored,
                                                 source=f"training sample of {len(table)} rows")
    snapshots = table.groupby("as_of")[TARGET].agg(["size", "sum"])
    report = json_safe({
        **model.report,
        "out_of_time_by_snapshot": oot,
        "label": (f"default (status in_default, dated by insolvency filing or first 90+ days past due) within "
                  f"{OUTCOME_DAYS} days after the observation date"),
        "snapshots": [{"as_of": d.date().isoformat(), "rows": int(r["size"]), "defaults": int(r["sum"])}
                      for d, r in snapshots.iterrows()],
        "information_value_all": {str(k): float(v) for k, v in iv.sort_values(ascending=False).items()},
        "in_sample_grade_table": grade_rows(y_all, model.predict_proba(table), scale),
    })
    window = (dates.min().date(), dates.max().date())
    return TrainingOutcome(model=model, report=report, reference=reference, window=window,
                           features=list(model.features), seconds=time.perf_counter() - started)
