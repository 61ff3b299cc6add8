"""WOE logistic scorecard: monotone binning, then a logistic regression on the WOE values.

Points scaling (Siddiqi 2006, ch. 6; the convention of most bureau scorecards): the score is
``offset - factor * logit(PD)`` with ``factor = pdo / ln 2`` and
``offset = base_points - factor * ln(base_odds)``, where odds are good:bad (non-event:event).
With the defaults a score of 600 means odds of 50:1 (PD 1.96 %) and every 20 points (PDO)
doubles the odds. Each feature's bin gets ``-factor * coef * woe`` points plus an equal share
of the intercept term, so a row's score is the sum of its bins' points.

Coefficients are kept non-negative: WOE already orients every feature in the risk direction, so a
negative coefficient only comes from collinearity and would reverse the bins' order (and any
monotone constraint). Such features are dropped one at a time, most negative first, and the
regression refitted. Features with IV below ``min_iv`` (0.02: "useless" on Siddiqi's scale)
are not used.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .binning import MonotoneWOEBinner
from .schema import DataError, as_frame, binary_target


class WOEScorecard(ClassifierMixin, BaseEstimator):
    """Monotone WOE binning + logistic regression, with points per bin.

    Learned attributes: ``binner_``, ``features_`` (used features), ``coef_`` (Series over all
    input features, 0 for unused), ``intercept_``, ``points_`` (table of points per bin),
    ``reference_woe_`` (the reference used by ``contributions``), ``classes_``.
    """

    def __init__(
        self,
        monotone: dict[str, Any] | None = None,
        *,
        max_prebins: int = 20,
        min_bin_size: float = 0.05,
        max_n_bins: int | None = None,
        max_pvalue: float | None = None,
        min_iv: float = 0.02,
        C: float = 1.0,
        base_points: float = 600.0,
        base_odds: float = 50.0,
        pdo: float = 20.0,
        reference: str = "mean",
    ):
        self.monotone = monotone
        self.max_prebins = max_prebins
        self.min_bin_size = min_bin_size
        self.max_n_bins = max_n_bins
        self.max_pvalue = max_pvalue
        self.min_iv = min_iv
        self.C = C
        self.base_points = base_points
        self.base_odds = base_odds
        self.pdo = pdo
        self.reference = reference

    # scaling ---------------------------------------------------------------------------------
    @property
    def factor_(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset_(self) -> float:
        return self.base_points - self.factor_ * math.log(self.base_odds)

    def fit(self, X: Any, y: Any) -> WOEScorecard:
        if self.reference not in ("mean", "best"):
            raise ValueError(f"reference must be 'mean' or 'best', got {self.reference!r}")
        if self.pdo <= 0 or self.base_odds <= 0:
            raise ValueError("pdo and base_odds must be positive")
        frame = as_frame(X)
        self.classes_, y01 = binary_target(y)
        self.binner_ = MonotoneWOEBinner(
            self.monotone,
            max_prebins=self.max_prebins,
            min_bin_size=self.min_bin_size,
            max_n_bins=self.max_n_bins,
            max_pvalue=self.max_pvalue,
        ).fit(frame, y01)
        woe = self.binner_.transform(frame)
        iv = self.binner_.iv_
        features = [c for c in iv.index if iv[c] >= self.min_iv]
        if not features:
            features = [str(iv.idxmax())]
        while True:
            lr = LogisticRegression(C=self.C, max_iter=2000)
            lr.fit(woe[features].to_numpy(), y01)
            coef = lr.coef_[0]
            if (coef >= 0).all() or len(features) == 1:
                break
            features.pop(int(np.argmin(coef)))
        coef = np.clip(coef, 0.0, None)
        if not coef.any():
            raise DataError("no feature separates the classes: every scorecard coefficient is zero")
        self.estimator_ = lr
        self.features_ = list(features)
        self.coef_ = pd.Series(0.0, index=list(self.binner_.feature_names_in_))
        self.coef_[self.features_] = coef
        self.intercept_ = float(lr.intercept_[0])
        self.feature_names_in_ = self.binner_.feature_names_in_
        self.n_features_in_ = self.binner_.n_features_in_
        ref = {}
        for c in self.features_:
            b = self.binner_.bins_[c]
            ref[c] = (
                float(np.dot(b.counts, b.woe) / b.counts.sum())
                if self.reference == "mean"
                else float(b.woe.min())
            )
        self.reference_woe_ = pd.Series(ref, dtype=float)
        self.points_ = self._points_table()
        return self

    def _points_table(self) -> pd.DataFrame:
        share = (self.offset_ - self.factor_ * self.intercept_) / len(self.features_)
        rows = []
        for c in self.features_:
            t = self.binner_.bins_[c].table
            t["coef"] = self.coef_[c]
            t["points"] = share - self.factor_ * self.coef_[c] * t["woe"]
            rows.append(t)
        return pd.concat(rows, ignore_index=True)

    def _woe(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self)
        return self.binner_.transform(as_frame(X))[self.features_]

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of the positive class."""
        woe = self._woe(X)
        return woe.to_numpy() @ self.coef_[self.features_].to_numpy() + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def score_points(self, X: Any) -> np.ndarray:
        """Scorecard points (higher = safer); 600 at 50:1 good:bad odds with the defaults."""
        return self.offset_ - self.factor_ * self.decision_function(X)

    def contributions(self, X: Any) -> pd.DataFrame:
        """How much each feature raises the log-odds above the reference (the population-average
        WOE, or the best bin with ``reference="best"``); ``* factor_`` gives points lost."""
        woe = self._woe(X)
        contrib = (woe - self.reference_woe_[self.features_]) * self.coef_[self.features_]
        out = pd.DataFrame(0.0, index=woe.index, columns=list(self.feature_names_in_))
        out[self.features_] = contrib
        return out
