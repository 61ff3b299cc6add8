"""A feature with no value at all in a training subset (a fold, or the rows before an out-of-time
cut) must not crash the GBM: scikit-learn's binning fails on an all-missing column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.modeling.gbm import MonotoneGBM
from scoring.modeling.trainer import train

from .synthetic import credit_frame


def test_gbm_fits_and_scores_with_an_entirely_missing_column() -> None:
    frame = credit_frame(600, seed=5, missing_rate=0.0)
    X = frame[["days_late", "equity_ratio"]].assign(later_only=np.nan)
    y = (frame["defaulted"] == "yes").astype(int)
    model = MonotoneGBM({"days_late": 1, "later_only": 1}, max_iter=30).fit(X, y)
    assert model.all_missing_.tolist() == [False, False, True]
    scored = X.assign(later_only=5.0)  # values appear later: the trees never split on the column
    np.testing.assert_allclose(model.decision_function(scored), model.decision_function(X))
    assert (model.contributions(scored)["later_only"] == 0).all()


def test_out_of_time_check_survives_a_feature_that_only_exists_after_the_cut() -> None:
    frame = credit_frame(1500, seed=6, missing_rate=0.0).drop(columns=["true_pd"])
    frame["observed"] = pd.date_range("2024-01-01", periods=len(frame), freq="D")
    late = frame["observed"] >= frame["observed"].quantile(0.8)
    frame["new_feed"] = np.where(late, frame["days_late"], np.nan)
    model = train(frame, "defaulted", "yes", {"days_late": 1}, date_column="observed", id_column="customer_id",
                  gbm_grid=None)
    assert "metrics" in model.report["out_of_time"]
