"""A blend of classifiers averaged in log-odds space.

Averaging log-odds (not probabilities) keeps the blend monotone wherever every member is, and
makes per-feature contributions add up: the blend's contribution is the weighted sum of the
members'. The weights are chosen by the trainer on out-of-fold predictions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from .schema import binary_target


class LogitBlend(ClassifierMixin, BaseEstimator):
    """``logit = sum(w_i * logit_i)`` over ``estimators`` (a list of (name, estimator))."""

    def __init__(self, estimators: list[tuple[str, Any]], weights: list[float] | None = None):
        self.estimators = estimators
        self.weights = weights

    def fit(self, X: Any, y: Any) -> LogitBlend:
        if not self.estimators:
            raise ValueError("a blend needs at least one estimator")
        weights = (
            self.weights if self.weights is not None else [1.0 / len(self.estimators)] * len(self.estimators)
        )
        if len(weights) != len(self.estimators) or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"weights must be {len(self.estimators)} non-negative numbers, got {weights}")
        self.classes_, _ = binary_target(y)
        self.weights_ = np.asarray(weights, dtype=float) / float(sum(weights))
        self.estimators_ = [(name, clone(est).fit(X, y)) for name, est in self.estimators]
        first = self.estimators_[0][1]
        self.feature_names_in_ = first.feature_names_in_
        self.n_features_in_ = first.n_features_in_
        return self

    @classmethod
    def from_fitted(
        cls, estimators: list[tuple[str, Any]], weights: list[float], classes: np.ndarray
    ) -> LogitBlend:
        """A blend of members that are already fitted (the trainer fits each member once)."""
        blend = cls(estimators, weights)
        blend.classes_ = classes
        blend.weights_ = np.asarray(weights, dtype=float) / float(sum(weights))
        blend.estimators_ = list(estimators)
        blend.feature_names_in_ = estimators[0][1].feature_names_in_
        blend.n_features_in_ = estimators[0][1].n_features_in_
        return blend

    def decision_function(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return np.sum(
            [
                w * est.decision_function(X)
                for w, (_, est) in zip(self.weights_, self.estimators_, strict=True)
            ],
            axis=0,
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def contributions(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self)
        parts = [
            w * est.contributions(X) for w, (_, est) in zip(self.weights_, self.estimators_, strict=True)
        ]
        total = parts[0]
        for part in parts[1:]:
            total = total.add(part, fill_value=0.0)
        return total
