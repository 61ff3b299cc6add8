"""Gradient boosting on the raw features with monotone constraints where the direction is known.

Wraps scikit-learn's HistGradientBoostingClassifier: missing values are handled natively (each
split learns which side they go to); text columns are encoded as categories (the
``max_categories`` most frequent with at least ``min_category_count`` rows; rarer and unseen
values share one "other" code, so an ID-like column cannot blow up the model); numeric features
with a known direction get ``monotonic_cst`` (+1: probability of the positive class never falls
as the value rises; -1: never rises). scikit-learn does not allow monotone constraints on
categorical features, so a direction given for a text column is rejected.

The defaults are deliberately small trees with shrinkage and L2 (the data sets this platform
trains on are hundreds to tens of thousands of rows); the trainer picks the number of boosting
iterations by cross-validation through ``staged_decision_function``.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from .schema import (
    CATEGORICAL,
    NUMERIC,
    DataError,
    as_frame,
    binary_target,
    category_values,
    check_columns,
    infer_kinds,
    normalise_monotone,
    numeric_values,
)

# Rows scored at once by contributions(): 2,000 rows x 30 features x 8 bytes x 30 copies ~ 14 MB.
_CONTRIB_CHUNK = 2000
# Below this many rows one OpenMP thread is as fast as two and cannot stall when another process
# holds the second core (OpenMP workers spin-wait; measured 0.1 s vs up to 1.2 s per fit on 700 rows).
SINGLE_THREAD_ROWS = 20_000


def _threads(n_rows: int) -> Any:
    return threadpool_limits(1, user_api="openmp") if n_rows < SINGLE_THREAD_ROWS else nullcontext()


class MonotoneGBM(ClassifierMixin, BaseEstimator):
    """Histogram gradient boosting with monotone constraints and native categorical support.

    Learned attributes: ``model_`` (the fitted HistGradientBoostingClassifier), ``kinds_``,
    ``categories_`` (feature -> list of kept categories), ``monotonic_cst_``, ``reference_``
    (per-feature reference value for ``contributions``: median or most frequent category),
    ``all_missing_`` (features with no value in training, fed to the trees as a constant),
    ``classes_``, ``feature_names_in_``, ``n_features_in_``.
    """

    def __init__(
        self,
        monotone: dict[str, Any] | None = None,
        *,
        learning_rate: float = 0.05,
        max_iter: int = 200,
        max_leaf_nodes: int = 8,
        max_depth: int | None = 3,
        min_samples_leaf: int = 20,
        l2_regularization: float = 1.0,
        max_features: float = 1.0,
        max_categories: int = 50,
        min_category_count: int = 10,
        random_state: int | None = 0,
    ):
        self.monotone = monotone
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_features = max_features
        self.max_categories = max_categories
        self.min_category_count = min_category_count
        self.random_state = random_state

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        cols = []
        for c in self.feature_names_in_:
            if self.kinds_[c] == NUMERIC:
                cols.append(numeric_values(frame[c], c))
            else:
                codes = self._codes_[c]
                other = float(len(self.categories_[c])) if self._has_other_[c] else np.nan
                vals = category_values(frame[c])
                cols.append(
                    np.array([np.nan if v is None else codes.get(v, other) for v in vals], dtype=float)
                )
        M = np.column_stack(cols) if cols else np.empty((len(frame), 0))
        empty = getattr(self, "all_missing_", None)
        if empty is not None and empty.any():
            M[:, empty] = 0.0  # constant: never split on, contributes nothing
        return M

    def fit(self, X: Any, y: Any) -> MonotoneGBM:
        frame = as_frame(X)
        if len(frame) != len(y):
            raise DataError(f"X has {len(frame)} rows but y has {len(y)}")
        self.classes_, y01 = binary_target(y)
        columns = [str(c) for c in frame.columns]
        self.kinds_ = infer_kinds(frame)
        directions = normalise_monotone(self.monotone, columns)
        bad = [c for c, d in directions.items() if d != 0 and self.kinds_[c] == CATEGORICAL]
        if bad:
            raise DataError(f"monotone directions apply to numeric columns only; {', '.join(bad)} hold text")
        self.feature_names_in_ = np.array(columns, dtype=object)
        self.n_features_in_ = len(columns)
        self.categories_: dict[str, list[str]] = {}
        self._codes_: dict[str, dict[str, float]] = {}
        self._has_other_: dict[str, bool] = {}
        for c in columns:
            if self.kinds_[c] != CATEGORICAL:
                continue
            vals = pd.Series(category_values(frame[c])).dropna()
            counts = vals.value_counts()
            kept = counts[counts >= self.min_category_count].index[: self.max_categories]
            kept_list = sorted(str(k) for k in kept)
            self.categories_[c] = kept_list
            self._codes_[c] = {k: float(i) for i, k in enumerate(kept_list)}
            self._has_other_[c] = len(kept_list) < len(counts)
        self.all_missing_ = np.zeros(len(columns), dtype=bool)
        M = self._matrix(frame)
        # scikit-learn's binning fails on a column with no value at all (a fold or an out-of-time
        # subset can lack a feature entirely, e.g. statement changes before the second statement)
        self.all_missing_ = np.isnan(M).all(axis=0) if len(M) else self.all_missing_
        M[:, self.all_missing_] = 0.0
        self.monotonic_cst_ = np.array([directions.get(c, 0) for c in columns], dtype=int)
        categorical = np.array([self.kinds_[c] == CATEGORICAL for c in columns], dtype=bool)
        model = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            max_features=self.max_features,
            categorical_features=categorical if categorical.any() else None,
            monotonic_cst=self.monotonic_cst_ if self.monotonic_cst_.any() else None,
            early_stopping=False,
            random_state=self.random_state,
        )
        with _threads(len(M)):
            self.model_ = model.fit(M, y01)
        ref = []
        for j, c in enumerate(columns):
            col = M[:, j]
            col = col[~np.isnan(col)]
            if not len(col):
                ref.append(np.nan)
            elif self.kinds_[c] == NUMERIC:
                ref.append(float(np.median(col)))
            else:
                vals, cnt = np.unique(col, return_counts=True)
                ref.append(float(vals[np.argmax(cnt)]))
        self.reference_ = np.array(ref, dtype=float)
        return self

    def _prepared(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        frame = as_frame(X)
        check_columns(frame, self.feature_names_in_)
        return self._matrix(frame)

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of the positive class."""
        M = self._prepared(X)
        with _threads(len(M)):
            return np.asarray(self.model_.decision_function(M), dtype=float)

    def staged_decision_function(self, X: Any) -> Any:
        """Log-odds after each boosting iteration (used to choose ``max_iter`` by CV)."""
        M = self._prepared(X)
        with _threads(len(M)):
            stages = [np.asarray(s, dtype=float) for s in self.model_.staged_decision_function(M)]
        yield from stages

    def predict_proba(self, X: Any) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def contributions(self, X: Any) -> pd.DataFrame:
        """Per feature, how much the log-odds fall when that feature alone is set to its reference
        value (training median, or most frequent category): positive = the value raises risk.

        This is an occlusion attribution: exact for an additive model, a first-order reading
        when features interact (depth-3 trees keep interactions small).
        """
        frame = as_frame(X)
        M = self._prepared(frame)
        n, p = M.shape
        with _threads(n):
            base = np.asarray(self.model_.decision_function(M), dtype=float) if n else np.empty(0)
        out = np.zeros((n, p))
        for start in range(0, n, _CONTRIB_CHUNK):
            chunk = M[start : start + _CONTRIB_CHUNK]
            c = len(chunk)
            stacked = np.repeat(chunk[None, :, :], p, axis=0)
            for j in range(p):
                stacked[j, :, j] = self.reference_[j]
            with _threads(p * c):
                replaced = np.asarray(self.model_.decision_function(stacked.reshape(p * c, p)), dtype=float)
            out[start : start + c] = base[start : start + c, None] - replaced.reshape(p, c).T
        return pd.DataFrame(out, index=frame.index, columns=list(self.feature_names_in_))
