"""From features to scores: PD, grade on the organization's master scale, reason codes, flags.

Pure pandas/numpy over a ``FeatureSet``; no database writes (``services`` persists the result).

Reasons: per customer the ``MAX_REASONS`` (4) factors that raise its log-odds of default the most
against the model's reference (expert scorecard: a neutral 0-point band; trained scorecard: the
population-average WOE; GBM: the training median), only those adding more than ``MIN_IMPACT``
(0.01 log-odds, ~0.3 points). A customer with nothing adverse gets fewer, possibly none. Each reason
is stored as its feature code, the feature's value and the log-odds it adds; the sentence is written
when read (``features.catalog.reason_text``), in English and Chinese.

A customer in default on the as-of date (status in_default and its default date on or before that
date, see ``labels.default_dates``) gets PD 1 and the default grade, with reason ``in_default``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .features import FeatureSet
from .features.catalog import with_renamed
from .modeling.masterscale import MasterScale
from .modeling.reasons import top_reasons
from .registry import Scorer

MAX_REASONS = 4
MIN_IMPACT = 0.01


@dataclass
class Scored:
    as_of: dt.date
    frame: pd.DataFrame  # index customer_id: pd, grade, points, reasons, flags
    features: pd.DataFrame  # the FeatureSet's values (for monitoring counts)


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        v = float(value)
        return None if math.isnan(v) else round(v, 4)
    return value


def evaluate(fs: FeatureSet, scorer: Scorer, scale: MasterScale, default_dates: pd.Series) -> Scored:
    X = with_renamed(fs.table, scorer.features)  # a model trained before a feature was renamed
    if not len(X):
        empty = pd.DataFrame(columns=["pd", "grade", "points", "reasons", "flags"], index=X.index)
        return Scored(fs.as_of, empty, X)
    p = np.clip(np.asarray(scorer.predict_pd(X), dtype=float), 0.0, 1.0)
    contrib = scorer.contributions(X)
    chosen = top_reasons(contrib, X[list(contrib.columns)], max_reasons=MAX_REASONS, min_contribution=MIN_IMPACT)
    reasons = [
        [{"code": r.feature, "value": _clean(r.value), "impact": round(r.contribution, 4)} for r in row]
        for row in chosen
    ]
    points = scorer.points(X)
    dd = default_dates.reindex(X.index)
    in_default = (dd.notna() & (dd <= pd.Timestamp(fs.as_of))).to_numpy()
    p = np.where(in_default, 1.0, p)
    if points is not None:
        points = np.where(in_default, np.nan, points)
    grades = scale.grade_for(p)
    for i in np.flatnonzero(in_default):
        reasons[i] = [{"code": "in_default", "value": dd.iloc[i].date().isoformat(), "impact": None}]
    frame = pd.DataFrame({
        "pd": p,
        "grade": grades.astype(int),
        "points": np.round(points, 1) if points is not None else np.nan,
        "reasons": reasons,
        "flags": fs.flags(),
    }, index=X.index)
    return Scored(fs.as_of, frame, X)
