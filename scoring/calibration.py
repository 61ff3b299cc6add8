"""Calibrating the expert scorecard's PDs to an organization's observed defaults, and the tables that
show predicted against observed default rates per grade with confidence intervals.

Without default history the expert scorecard's PDs follow its documented anchors (``expert``: 600
points = odds 50:1, 20 points double the odds). Those anchors predict about twice the defaults the
demo book shows, and limits turn PDs into money, so as soon as an organization has outcomes the card
is recalibrated:

* Sample: the training snapshots (``labels.training_table``: quarter ends whose 12-month outcome
  window has closed, features as known on each date, label = default within 12 months), scored by
  the card's anchors.
* Fewer than ``MIN_DEFAULTS`` (5) defaults: nothing to learn from; the anchors stay.
* From 5 defaults: the intercept only (calibration in the large): the log-odds are shifted so the mean
  PD equals the observed default rate of the sample (the central tendency).
* From ``MIN_DEFAULTS_SLOPE`` (30) defaults: intercept and slope (logistic recalibration, Cox 1958;
  Steyerberg, *Clinical Prediction Models*, ch. 15), which also corrects the spread between grades: a
  card that is over-confident at the bad end gets a slope below 1. A slope fitted on two grades' worth
  of defaults is noise, hence the floor. The logistic maximum-likelihood fit with an intercept makes
  the mean predicted PD equal the observed rate exactly, so both steps keep the central tendency.

The points, the bands and the ranking of the card do not change; the PD each score stands for does.

Per-grade check: the last snapshot of the sample (one row per customer, so defaults within a grade
are independent Bernoulli draws) gives per grade the observed default rate with a Wilson score
interval (Wilson 1927; Brown, Cai and DasGupta 2001 recommend it, with Jeffreys, over the Wald
interval at the small counts of good grades) and the mean PD before and after recalibration. The
Scoring page shows that table for the champion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .modeling.masterscale import MasterScale

MIN_DEFAULTS = 5
MIN_DEFAULTS_SLOPE = 30
INTERVAL_LEVEL = 0.95  # the page's intervals; the demo test uses 99 % (see tests/scoring/test_calibration.py)


def wilson_interval(defaults: int, n: int, level: float = INTERVAL_LEVEL) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (0..1); (0, 1) when ``n`` is 0."""
    if n <= 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = defaults / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def jeffreys_interval(defaults: int, n: int, level: float = INTERVAL_LEVEL) -> tuple[float, float]:
    """Jeffreys interval: quantiles of Beta(k + 1/2, n - k + 1/2), with the ends at 0 and 1 kept exact."""
    if n <= 0:
        return 0.0, 1.0
    alpha = 1 - level
    lo = 0.0 if defaults == 0 else float(stats.beta.ppf(alpha / 2, defaults + 0.5, n - defaults + 0.5))
    hi = 1.0 if defaults == n else float(stats.beta.ppf(1 - alpha / 2, defaults + 0.5, n - defaults + 0.5))
    return lo, hi


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def fit_recalibration(log_odds: Sequence[float] | np.ndarray, y: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """Intercept (and slope when the sample has enough defaults) mapping the anchors' log-odds to the
    observed default frequency. Returns ``{"method": "anchors" | "intercept" | "logistic",
    "intercept": a, "slope": b, ...}``."""
    x = np.asarray(log_odds, dtype=float)
    target = np.asarray(y, dtype=float)
    events, n = int(target.sum()), len(target)
    base = {"rows": n, "defaults": events, "observed_rate": events / n if n else None}
    if events < MIN_DEFAULTS or events == n:
        return {**base, "method": "anchors", "intercept": 0.0, "slope": 1.0}
    if events < MIN_DEFAULTS_SLOPE:
        # mean PD = observed rate: the sum of sigmoid(a + x) is increasing in a, one root
        a = optimize.brentq(lambda a: float(_sigmoid(a + x).sum()) - events, -20.0, 20.0)
        return {**base, "method": "intercept", "intercept": float(a), "slope": 1.0}

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] + theta[1] * x
        p = _sigmoid(z)
        nll = float(np.sum(np.logaddexp(0.0, z) - target * z))
        residual = p - target
        return nll, np.array([residual.sum(), (residual * x).sum()])

    result = optimize.minimize(loss, np.array([0.0, 1.0]), jac=True, method="L-BFGS-B",
                               bounds=[(-20.0, 20.0), (0.05, 5.0)])
    a, b = (float(v) for v in result.x)
    return {**base, "method": "logistic", "intercept": a, "slope": b}


def apply(log_odds: np.ndarray, calibration: dict[str, Any]) -> np.ndarray:
    return _sigmoid(float(calibration.get("intercept", 0.0)) + float(calibration.get("slope", 1.0)) * log_odds)


def grade_rows(y: np.ndarray, p: np.ndarray, scale: MasterScale, *, before: np.ndarray | None = None,
               level: float = INTERVAL_LEVEL) -> list[dict[str, Any]]:
    """Per grade (by ``p``): customers, defaults, observed rate with its Wilson and Jeffreys intervals,
    mean predicted PD (and mean PD ``before`` recalibration when given)."""
    frame = pd.DataFrame({"grade": scale.grade_for(p).astype(int), "y": np.asarray(y, dtype=int), "p": p})
    if before is not None:
        frame["before"] = before
    rows = []
    for grade in scale.grades:
        part = frame[frame["grade"] == grade]
        n, k = len(part), int(part["y"].sum())
        lo, hi = wilson_interval(k, n, level)
        jlo, jhi = jeffreys_interval(k, n, level)
        rows.append({
            "grade": grade, "count": n, "defaults": k, "observed_rate": k / n if n else None,
            "wilson_low": lo, "wilson_high": hi, "jeffreys_low": jlo, "jeffreys_high": jhi,
            "predicted_pd": float(part["p"].mean()) if n else None,
            "predicted_pd_before": float(part["before"].mean()) if n and before is not None else None,
            "within": (lo <= float(part["p"].mean()) <= hi) if n else None,
        })
    return rows
