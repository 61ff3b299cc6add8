"""Discrimination and calibration metrics used by the trainer, the reports and the benchmark.

- AUC: area under the ROC curve; Gini = 2 * AUC - 1 (the accuracy ratio).
- KS: the largest gap between the cumulative score distributions of events and non-events
  (``max(TPR - FPR)`` over thresholds), reported on a 0..1 scale.
- Brier: mean squared error of the probability.
- Calibration error: expected calibration error with *equal-frequency* bins (default 10,
  by predicted PD): ``ECE = sum_b (n_b / n) * |observed rate_b - mean predicted PD_b|``.
  Equal-frequency bins, unlike equal-width ones, put the same number of rows in each bin, so
  the estimate is not driven by a few sparse high-PD bins (Nixon et al. 2019, "Measuring
  calibration in deep learning", adaptive calibration error). Ties in PD are kept in one bin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score, roc_curve


def _arrays(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=float).ravel()
    p_arr = np.asarray(p, dtype=float).ravel()
    if y_arr.shape != p_arr.shape:
        raise ValueError(f"y has {y_arr.size} values but p has {p_arr.size}")
    return y_arr, p_arr


def auc(y: Any, p: Any) -> float:
    y_arr, p_arr = _arrays(y, p)
    return float(roc_auc_score(y_arr, p_arr))


def gini(y: Any, p: Any) -> float:
    return 2.0 * auc(y, p) - 1.0


def ks(y: Any, p: Any) -> float:
    y_arr, p_arr = _arrays(y, p)
    fpr, tpr, _ = roc_curve(y_arr, p_arr)
    return float(np.max(tpr - fpr))


def brier(y: Any, p: Any) -> float:
    y_arr, p_arr = _arrays(y, p)
    return float(brier_score_loss(y_arr, p_arr))


def logloss(y: Any, p: Any) -> float:
    y_arr, p_arr = _arrays(y, p)
    return float(log_loss(y_arr, np.clip(p_arr, 1e-6, 1 - 1e-6), labels=[0, 1]))


def calibration_bins(y: Any, p: Any, n_bins: int = 10) -> pd.DataFrame:
    """Equal-frequency bins of predicted PD with their observed and predicted rates."""
    y_arr, p_arr = _arrays(y, p)
    order = np.argsort(p_arr, kind="mergesort")
    ranks = np.empty(len(p_arr), dtype=float)
    ranks[order] = np.arange(len(p_arr))
    # tied predictions share the bin of their first rank, so equal PDs are never split
    first_rank = pd.Series(ranks).groupby(p_arr).transform("min").to_numpy()
    bins = np.minimum((first_rank * n_bins / max(len(p_arr), 1)).astype(int), n_bins - 1)
    frame = pd.DataFrame({"bin": bins, "y": y_arr, "p": p_arr})
    out = frame.groupby("bin").agg(count=("y", "size"), observed=("y", "mean"), predicted=("p", "mean"))
    return out.reset_index()


def expected_calibration_error(y: Any, p: Any, n_bins: int = 10) -> float:
    table = calibration_bins(y, p, n_bins)
    weights = table["count"] / table["count"].sum()
    return float(np.sum(weights * np.abs(table["observed"] - table["predicted"])))


def summary(y: Any, p: Any, n_bins: int = 10) -> dict[str, float]:
    """AUC, Gini, KS, Brier, log-loss and calibration error of probabilities ``p`` for 0/1 ``y``."""
    a = auc(y, p)
    return {
        "auc": a,
        "gini": 2 * a - 1,
        "ks": ks(y, p),
        "brier": brier(y, p),
        "log_loss": logloss(y, p),
        "calibration_error": expected_calibration_error(y, p, n_bins),
    }


def grade_table(y: Any, p: Any, grades: Any, all_grades: list[int] | None = None) -> pd.DataFrame:
    """Observed vs predicted default rate per grade (rows with no members are kept, count 0)."""
    y_arr, p_arr = _arrays(y, p)
    frame = pd.DataFrame({"grade": np.asarray(grades, dtype=int), "y": y_arr, "p": p_arr})
    out = frame.groupby("grade").agg(
        count=("y", "size"), defaults=("y", "sum"), observed_rate=("y", "mean"), predicted_pd=("p", "mean")
    )
    if all_grades is not None:
        out = out.reindex(all_grades)
        out["count"] = out["count"].fillna(0).astype(int)
        out["defaults"] = out["defaults"].fillna(0)
    out["defaults"] = out["defaults"].astype(int)
    return out.reset_index()
