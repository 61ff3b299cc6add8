"""The expert scorecard: transparent points per factor, usable before any default has been observed.

Score = ``base_points`` + sum over factors of ``weight * points(band of the value)``. The scale is
the usual one of bureau scorecards (and of ``modeling.scorecard``): at ``base_points`` (600) the
odds are ``base_odds`` (50) good to 1 bad, i.e. PD 1.96 %; every ``pdo`` (20) points fewer double
the odds of default. So a factor band worth -20 points doubles the odds, -40 quadruples them.

PD = 1 / (1 + base_odds * 2 ** ((score - base_points) / pdo)).

The default bands and points (``DEFAULT_FACTORS``) are expert judgement, written down so that they
can be argued with; the sources are standard credit-management practice:

* Payment behaviour carries most weight: amount-weighted days beyond terms over 6 months (a few
  days late is normal, 30+ days is a warning, 60+ is serious), the oldest open invoice's days past
  due (90+ is the default definition itself) and a worsening trend.
* Statements: Altman Z'' zones (< 1.10 distress, 1.10-2.60 grey, > 2.60 safe; Altman 1995),
  interest cover below 1.5x, equity under 10 % of assets, current ratio below 1; no statement on
  file costs a little (uncertainty), a stale one less.
* External: bureau score bands of a 0-100 score (below 30 very weak), litigation, negative news,
  payment defaults reported by others, and an insolvency filing, which alone sends the score to
  the bottom of the scale.
* Country (OECD 0-7) and sector (1-5) risk, a short relationship and a small company add a little.

Payment lateness, bureau score and weak statements are correlated (a struggling company shows
all three), so no single one of them is given the full weight it would deserve alone; even so, adding
points for correlated signals double-counts, and the card errs on the prudent side.

With all factors neutral (0 points) a customer has PD 1.96 %, about the yearly default rate of a
B2B trade-credit book (2-3 %); good payers with good statements reach grade 3-4, customers paying
two months late land in grade 8-9. These anchors are not calibrated on the organization's data: on
the demo book the card ranks well (AUC ~0.88) but its anchored PDs are about twice the defaults
observed. So the anchors hold only while an organization has no default history; as soon as it has
outcomes, ``scoring.calibration`` refits the card's PD scale (intercept, and slope when there are
enough defaults) to the observed default rate and publishes the recalibrated card as a new version.
The points, the bands and the ranking stay the same; only the PD each score stands for changes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .features.catalog import BY_NAME, RENAMED

BASE_POINTS = 600.0
BASE_ODDS = 50.0
PDO = 20.0

# feature: ([(upper bound (exclusive) or None, points), ...], points when missing)
DEFAULT_FACTORS: dict[str, tuple[list[tuple[float | None, float]], float]] = {
    "dbt_wavg_6m": ([(3, 10), (10, 0), (20, -15), (35, -30), (60, -50), (None, -75)], -5),
    "max_dpd_open": ([(1, 5), (30, 0), (60, -30), (90, -60), (None, -110)], 0),
    "dbt_trend": ([(5, 0), (15, -10), (30, -20), (None, -35)], 0),
    "utilisation": ([(0.8, 0), (1.0, -5), (1.2, -15), (None, -30)], 0),
    "altman_z2": ([(0, -35), (1.1, -20), (2.6, -5), (4, 0), (None, 10)], 0),
    "interest_coverage": ([(1, -15), (1.5, -10), (3, -5), (None, 5)], 0),
    "equity_ratio": ([(0, -30), (0.1, -15), (0.25, -5), (None, 5)], 0),
    "current_ratio": ([(0.8, -15), (1.0, -8), (1.5, 0), (None, 5)], 0),
    "statement_age_days": ([(550, 0), (800, -5), (None, -10)], -10),
    "bureau_score": ([(30, -40), (45, -25), (60, -10), (75, 0), (None, 10)], -5),
    "bureau_score_change": ([(-15, -20), (-8, -10), (None, 0)], 0),
    "litigation_12m": ([(1, 0), (2, -15), (None, -30)], 0),
    "negative_news_12m": ([(1, 0), (None, -15)], 0),
    "payment_default_12m": ([(1, 0), (None, -40)], 0),
    "insolvency_filing": ([(1, 0), (None, -200)], 0),
    "order_anomaly_z": ([(4, 0), (8, -8), (None, -15)], 0),
    "country_risk": ([(2, 0), (4, -8), (6, -18), (None, -30)], 0),
    "sector_risk": ([(3, 5), (4, 0), (5, -8), (None, -15)], 0),
    "relationship_years": ([(1, -10), (3, -3), (None, 5)], -10),
    "size_rank": ([(1, -8), (2, -3), (3, 0), (None, 5)], 0),
}


@dataclass(frozen=True)
class Factor:
    feature: str
    bins: tuple[tuple[float | None, float], ...]
    missing_points: float = 0.0
    weight: float = 1.0

    def points(self, values: np.ndarray) -> np.ndarray:
        uppers = np.array([b[0] for b in self.bins[:-1]], dtype=float)
        pts = np.array([b[1] for b in self.bins], dtype=float)
        idx = np.searchsorted(uppers, values, side="right")
        out = pts[np.minimum(idx, len(pts) - 1)]
        out = np.where(np.isnan(values), self.missing_points, out)
        return self.weight * out

    def describe(self) -> str:
        parts, lower = [], None
        for upper, pts in self.bins:
            band = f"< {upper:g}" if lower is None else (f"{lower:g} - {upper:g}" if upper is not None else
                                                         f">= {lower:g}")
            if upper is None and lower is None:
                band = "any"
            parts.append(f"{band}: {pts:+g}")
            lower = upper
        parts.append(f"missing: {self.missing_points:+g}")
        return " · ".join(parts)


def validate_bins(feature: str, bins: Any, missing_points: Any = 0) -> tuple[tuple[float | None, float], ...]:
    """Check a factor's bands; raises ValueError saying what is wrong."""
    if feature not in BY_NAME:
        raise ValueError(f"unknown feature '{feature}'")
    if not isinstance(bins, list | tuple) or not bins:
        raise ValueError(f"{feature}: bins must be a non-empty list of [upper, points] pairs")
    out: list[tuple[float | None, float]] = []
    for i, pair in enumerate(bins):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"{feature}: band {i + 1} is {pair!r}; expected [upper, points]")
        upper, pts = pair
        last = i == len(bins) - 1
        if last != (upper is None):
            raise ValueError(f"{feature}: only the last band has no upper bound (null), band {i + 1} is {pair!r}")
        try:
            points = float(pts)
            bound = None if upper is None else float(upper)
        except (TypeError, ValueError):
            raise ValueError(f"{feature}: band {i + 1} {pair!r} must hold numbers") from None
        if not math.isfinite(points) or (bound is not None and not math.isfinite(bound)):
            raise ValueError(f"{feature}: band {i + 1} {pair!r} must hold finite numbers")
        previous = out[-1][0] if out else None
        if bound is not None and previous is not None and bound <= previous:
            raise ValueError(f"{feature}: upper bounds must increase (band {i + 1} has {bound:g})")
        out.append((bound, points))
    try:
        float(missing_points)
    except (TypeError, ValueError):
        raise ValueError(f"{feature}: missing points must be a number") from None
    return tuple(out)


class ExpertScorecard:
    """Points per factor -> score -> PD. Follows the scikit-learn estimator shape (``fit`` checks
    the factors and returns self; learned attributes end in ``_``) so the scoring code treats it like
    a trained model: ``decision_function`` (log-odds), ``contributions`` (log-odds each factor adds
    against a neutral 0-point band), ``predict_proba``."""

    def __init__(self, factors: Sequence[Factor], *, base_points: float = BASE_POINTS,
                 base_odds: float = BASE_ODDS, pdo: float = PDO, calibration: Mapping[str, float] | None = None):
        self.factors = factors
        self.base_points = base_points
        self.base_odds = base_odds
        self.pdo = pdo
        # Recalibration to the organization's observed defaults (``scoring.calibration``): PD log-odds =
        # intercept + slope * (the anchors' log-odds). None: the documented anchors above.
        self.calibration = calibration

    def fit(self, X: Any = None, y: Any = None) -> ExpertScorecard:
        for f in self.factors:
            validate_bins(f.feature, [list(b) for b in f.bins], f.missing_points)
        self.factors_ = [f for f in self.factors if f.weight != 0]
        self.features_ = [f.feature for f in self.factors_]
        self.per_point_ = math.log(2) / self.pdo  # log-odds per point
        cal = self.calibration or {}
        self.intercept_ = float(cal.get("intercept", 0.0))
        self.slope_ = float(cal.get("slope", 1.0))
        if not (math.isfinite(self.intercept_) and math.isfinite(self.slope_) and self.slope_ > 0):
            raise ValueError(f"calibration must have a finite intercept and a positive slope, got {cal!r}")
        return self

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ExpertScorecard:
        """The card of a stored configuration; a factor stored under a feature's former name
        (``features.catalog.RENAMED``) reads the feature under its current name."""
        factors = [
            Factor(RENAMED.get(f["feature"], f["feature"]), tuple((b[0], float(b[1])) for b in f["bins"]),
                   float(f.get("missing_points", 0)), float(f.get("weight", 1)))
            for f in config["factors"]
        ]
        return cls(factors, base_points=float(config.get("base_points", BASE_POINTS)),
                   base_odds=float(config.get("base_odds", BASE_ODDS)), pdo=float(config.get("pdo", PDO)),
                   calibration=config.get("calibration")).fit()

    def config(self) -> dict[str, Any]:
        extra = {"calibration": dict(self.calibration)} if self.calibration else {}
        return {
            **extra,
            "base_points": self.base_points, "base_odds": self.base_odds, "pdo": self.pdo,
            "factors": [{"feature": f.feature, "bins": [list(b) for b in f.bins], "missing_points": f.missing_points,
                         "weight": f.weight} for f in self.factors],
        }

    def points(self, X: pd.DataFrame) -> pd.DataFrame:
        out = {f.feature: f.points(X[f.feature].to_numpy(dtype=float)) for f in self.factors_}
        return pd.DataFrame(out, index=X.index)

    def score_points(self, X: pd.DataFrame) -> np.ndarray:
        return self.base_points + self.points(X).sum(axis=1).to_numpy()

    def anchor_log_odds(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds of default by the documented anchors (600 points = 50:1, 20 points double the odds)."""
        return -math.log(self.base_odds) - (self.score_points(X) - self.base_points) * self.per_point_

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        return self.intercept_ + self.slope_ * self.anchor_log_odds(X)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        return -self.points(X) * self.per_point_ * self.slope_


def default_config() -> dict[str, Any]:
    factors = [Factor(name, tuple(bins), float(missing)) for name, (bins, missing) in DEFAULT_FACTORS.items()]
    return ExpertScorecard(factors).fit().config()
