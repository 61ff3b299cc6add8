"""Behaviour of scoring.modeling that users rely on: monotone risk, reasons, calibration, the
master scale, model files. Pure pandas/scikit-learn: no database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.modeling import io as model_io
from scoring.modeling import metrics as M
from scoring.modeling.binning import MonotoneWOEBinner
from scoring.modeling.calibration import PD_CAP, PD_FLOOR, CenteredIsotonicCalibrator, select_calibrator
from scoring.modeling.gbm import MonotoneGBM
from scoring.modeling.logit import OTHER_LEVEL, WideLogit
from scoring.modeling.masterscale import DEFAULT_UPPER_BOUNDS, MasterScale
from scoring.modeling.reasons import GENERIC_TEMPLATE, reason_texts, top_reasons
from scoring.modeling.schema import DataError
from scoring.modeling.scorecard import WOEScorecard
from scoring.modeling.trainer import TrainedModel, choose_blend_weights, simplex_grid, train

from .synthetic import credit_frame, sigmoid, single_driver_frame

FEATURES = ["days_late", "equity_ratio", "sector", "noise_amount", "noise_region"]


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    return credit_frame(3000, seed=1)


@pytest.fixture(scope="module")
def trained(credit: pd.DataFrame) -> TrainedModel:
    frame = credit.drop(columns=["true_pd"])
    return train(
        frame,
        "defaulted",
        "yes",
        monotone={"days_late": 1, "equity_ratio": -1},
        id_column="customer_id",
        gbm_grid=None,
    )


def _vary(frame: pd.DataFrame, column: str, grid: np.ndarray, rows: int = 25) -> pd.DataFrame:
    """``rows`` base rows, each repeated over ``grid`` values of ``column`` (others fixed)."""
    base = frame.iloc[:rows].reset_index(drop=True)
    out = base.loc[np.repeat(base.index, len(grid))].reset_index(drop=True)
    out[column] = np.tile(grid, rows)
    return out


def _assert_non_decreasing(p: np.ndarray, rows: int, steps: int) -> None:
    diffs = np.diff(p.reshape(rows, steps), axis=1)
    assert (diffs >= -1e-12).all(), f"PD fell by {-diffs.min():.3g} as the monotone feature rose"


# --------------------------------------------------------------------------------- binning


def test_numeric_bins_follow_the_given_direction_even_against_a_u_shaped_truth() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, 4000)
    y = (rng.random(4000) < sigmoid(-1 + 0.5 * x**2)).astype(int)  # U-shaped risk
    frame = pd.DataFrame({"x": x})
    for direction in (1, -1):
        b = MonotoneWOEBinner(monotone={"x": direction}).fit(frame, y).bins_["x"]
        rates = b.events / b.counts
        assert (np.diff(rates) * direction >= 0).all()
        assert (np.diff(b.woe) * direction >= 0).all()


def test_auto_direction_finds_the_trend_and_records_the_bins() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, 3000)
    y = (rng.random(3000) < sigmoid(-1 - 1.2 * x)).astype(int)  # risk falls with x
    binner = MonotoneWOEBinner().fit(pd.DataFrame({"x": x}), y)
    b = binner.bins_["x"]
    assert binner.directions_["x"] == -1
    assert (np.diff(b.events / b.counts) <= 0).all()
    assert len(b.splits) == len(b.counts) - 1 >= 3
    assert b.counts.min() >= 0.05 * 3000  # min_bin_size
    assert binner.iv_["x"] > 0.3
    table = binner.summary()
    assert set(table.columns) >= {"feature", "label", "count", "events", "event_rate", "woe"}


def test_missing_values_get_their_own_bin_and_unseen_categories_are_pooled_or_neutral() -> None:
    rng = np.random.default_rng(2)
    n = 2000
    cat = rng.choice(["a", "b", "c"], n)
    cat[:8] = "rare1"
    cat[8:12] = "rare2"
    num = rng.normal(0, 1, n)
    num[rng.random(n) < 0.1] = np.nan
    y = (rng.random(n) < np.where(cat == "a", 0.4, 0.1) + np.where(np.isnan(num), 0.3, 0)).astype(int)
    frame = pd.DataFrame({"cat": cat, "num": num, "plain": rng.choice(["p", "q"], n)})
    binner = MonotoneWOEBinner().fit(frame, y)
    num_bins = binner.bins_["num"]
    assert num_bins.missing_bin is not None
    assert num_bins.woe[num_bins.missing_bin] > 0.5  # missing is riskier here
    cat_bins = binner.bins_["cat"]
    assert cat_bins.other_bin is not None  # rare categories pooled

    new = pd.DataFrame(
        {"cat": ["never-seen", "rare1", None], "num": [np.nan, 0.0, 0.0], "plain": ["never-seen", "p", "q"]}
    )
    idx = binner.bin_indices(new)
    woe = binner.transform(new)
    assert idx.loc[0, "cat"] == idx.loc[1, "cat"] == cat_bins.other_bin  # unseen -> pooled bin
    assert woe.loc[0, "num"] == pytest.approx(num_bins.woe[num_bins.missing_bin])
    assert woe.loc[0, "plain"] == 0.0  # no pooled bin in training: neutral WOE
    assert woe.loc[2, "cat"] == 0.0  # no missing values in training: neutral WOE


# --------------------------------------------------------------------------------- monotone models


def test_scorecard_and_gbm_pd_never_fall_when_a_risk_raising_feature_rises(credit: pd.DataFrame) -> None:
    X = credit[FEATURES]
    y = (credit["defaulted"] == "yes").astype(int)
    grid = np.linspace(0, 80, 33)
    probe = _vary(X, "days_late", grid)
    for model in (
        WOEScorecard(monotone={"days_late": 1}),
        MonotoneGBM(monotone={"days_late": 1}, max_iter=150),
        WideLogit(monotone={"days_late": 1}),
    ):
        model.fit(X, y)
        _assert_non_decreasing(model.predict_proba(probe)[:, 1], 25, len(grid))


def test_gbm_honours_a_constraint_the_data_contradicts() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, 3000)
    other = rng.normal(0, 1, 3000)
    y = (rng.random(3000) < sigmoid(-1 + 0.6 * x**2 + other)).astype(int)
    X = pd.DataFrame({"x": x, "other": other})
    grid = np.linspace(-3, 3, 41)
    probe = _vary(X, "x", grid, rows=10)
    free = MonotoneGBM(max_iter=150).fit(X, y).predict_proba(probe)[:, 1]
    assert (np.diff(free.reshape(10, 41), axis=1) < -1e-6).any()  # unconstrained: U-shape shows
    constrained = MonotoneGBM(monotone={"x": 1}, max_iter=150).fit(X, y).predict_proba(probe)[:, 1]
    _assert_non_decreasing(constrained, 10, len(grid))


def test_trained_model_is_monotone_in_both_directions(trained: TrainedModel, credit: pd.DataFrame) -> None:
    up = np.linspace(0, 80, 21)
    _assert_non_decreasing(trained.predict_proba(_vary(credit, "days_late", up)), 25, len(up))
    eq = np.linspace(-0.2, 0.9, 21)
    p = trained.predict_proba(_vary(credit, "equity_ratio", eq))
    _assert_non_decreasing(-p, 25, len(eq))


def test_trainer_rejects_a_direction_on_a_text_column(credit: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="numeric columns only"):
        train(credit.drop(columns=["true_pd"]), "defaulted", "yes", monotone={"sector": 1})


# --------------------------------------------------------------------------------- wide logit


def test_wide_logit_holds_a_contradicted_direction_at_zero_and_keeps_an_agreeing_one(
    credit: pd.DataFrame,
) -> None:
    X, y = credit[FEATURES], (credit["defaulted"] == "yes").astype(int)
    # equity_ratio lowers risk in the data; declaring +1 contradicts it, days_late +1 agrees
    model = WideLogit(monotone={"days_late": 1, "equity_ratio": 1}).fit(X, y)
    assert model.coef_["equity_ratio"] == 0.0
    assert model.constrained_ == ["equity_ratio"]
    assert model.coef_["days_late"] > 0.1
    free = WideLogit().fit(X, y)
    assert free.coef_["equity_ratio"] < -0.1 and free.constrained_ == []
    grid = np.linspace(-0.5, 1.5, 21)  # beyond the training range too (values are clipped)
    p = model.predict_proba(_vary(X, "equity_ratio", grid))[:, 1]
    assert np.ptp(p.reshape(25, len(grid)), axis=1).max() < 1e-12  # dropped from the linear part
    q = WideLogit(monotone={"equity_ratio": -1}).fit(X, y).predict_proba(_vary(X, "equity_ratio", grid))[:, 1]
    _assert_non_decreasing(-q, 25, len(grid))


def test_wide_logit_contributions_add_up_to_the_log_odds_above_the_reference(credit: pd.DataFrame) -> None:
    X, y = credit[FEATURES], (credit["defaulted"] == "yes").astype(int)
    model = WideLogit(monotone={"days_late": 1}, C=0.3).fit(X, y)
    rows = X.iloc[:300]
    contrib = model.contributions(rows)
    assert list(contrib.columns) == FEATURES and contrib.index.equals(rows.index)
    np.testing.assert_allclose(
        contrib.sum(axis=1).to_numpy(), model.decision_function(rows) - model.reference_decision_, atol=1e-10
    )
    # on average over the training rows, every feature contributes nothing (the reference is the mean)
    np.testing.assert_allclose(model.contributions(X).mean().to_numpy(), 0.0, atol=1e-10)
    # the encoded column of each feature's coefficient lives in its own group
    assert set(model.groups_) == set(FEATURES)


def test_wide_logit_unseen_categories_are_neutral_or_pooled_and_missing_values_are_scored() -> None:
    rng = np.random.default_rng(12)
    n = 2000
    frame = pd.DataFrame(
        {
            "amount": rng.normal(0, 1, n),
            "region": rng.choice(["n", "s", "e"], n),
            "sector": np.r_[rng.choice(["a", "b"], n - 5), ["rare1", "rare2", "rare3", "rare4", "rare5"]],
        }
    )
    frame.loc[rng.random(n) < 0.1, "amount"] = np.nan
    frame.loc[:19, "region"] = None  # 20 missing: a level of its own
    logit = -1 + 0.8 * frame["amount"].fillna(1.5) + (frame["region"] == "s") * 0.7
    y = (rng.random(n) < sigmoid(logit.to_numpy())).astype(int)
    model = WideLogit().fit(frame, y)
    assert "region=(missing)" in model.columns_ and "amount=(missing)" in model.columns_
    assert model.categories_["sector"][-1] == OTHER_LEVEL  # the 5 rare sectors were pooled
    assert model.coef_["amount=(missing)"] > 0.3  # missing behaves like a high amount here

    new = pd.DataFrame(
        {"amount": [np.nan, 0.0, 99.0], "region": ["w", None, "n"], "sector": ["zz", "a", None]}
    )
    contrib = model.contributions(new)
    assert np.isfinite(model.decision_function(new)).all()
    assert contrib.loc[0, "region"] == pytest.approx(0.0, abs=1e-12)  # unseen region: neutral
    cols = [i for i, g in enumerate(model.groups_) if g == "sector"]
    as_other = np.array([model.columns_[i] == f"sector={OTHER_LEVEL}" for i in cols], dtype=float)
    expected = float((as_other - model.reference_[cols]) @ model.coef_.iloc[cols].to_numpy())
    assert contrib.loc[0, "sector"] == pytest.approx(expected)  # unseen sector: the pooled "other" level
    # a value above the training maximum scores like the maximum
    top = pd.DataFrame({"amount": [frame["amount"].max()], "region": ["n"], "sector": ["a"]})
    assert model.decision_function(new.iloc[[2]].assign(region="n", sector="a"))[0] == pytest.approx(
        model.decision_function(top)[0]
    )
    # missing where training had none: imputed with the median, i.e. no missing indicator
    clean = WideLogit().fit(frame.fillna({"amount": 0.0}), y)
    filled = clean.decision_function(pd.DataFrame({"amount": [np.nan], "region": ["n"], "sector": ["a"]}))
    median = float(frame["amount"].fillna(0.0).median())
    same = clean.decision_function(pd.DataFrame({"amount": [median], "region": ["n"], "sector": ["a"]}))
    assert filled[0] == pytest.approx(same[0])


def test_wide_logit_follows_the_estimator_contract(credit: pd.DataFrame) -> None:
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    model = WideLogit(monotone={"days_late": 1}, C=0.05, min_category_count=20)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.decision_function(credit[FEATURES])
    with pytest.raises(ValueError, match="C must be positive"):
        WideLogit(C=0).fit(credit[FEATURES], credit["defaulted"])
    fitted = model.fit(credit[FEATURES], credit["defaulted"])
    assert fitted is model and list(model.classes_) == ["no", "yes"]
    assert set(model.predict(credit[FEATURES].iloc[:10])) <= {"no", "yes"}
    with pytest.raises(DataError, match="numeric columns only"):
        WideLogit(monotone={"sector": 1}).fit(credit[FEATURES], credit["defaulted"])


# --------------------------------------------------------------------------------- blend weights


def test_simplex_grid_covers_the_simplex_with_the_single_members_first() -> None:
    grid = simplex_grid(3)
    assert grid.shape == (66, 3)
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert (grid >= 0).all() and len(np.unique(grid.round(6), axis=0)) == 66
    np.testing.assert_array_equal(grid[:3], np.eye(3))


def test_blend_weights_are_chosen_on_out_of_fold_predictions_and_cross_selected() -> None:
    rng = np.random.default_rng(13)
    n = 4000
    truth = rng.normal(-1, 1.2, n)
    y = (rng.random(n) < sigmoid(truth)).astype(int)
    folds = np.array_split(rng.permutation(n), 5)
    # two members with independent errors of the same size: the blend averages them
    oof = {"a": truth + rng.normal(0, 0.8, n), "b": truth + rng.normal(0, 0.8, n), "noise": rng.normal(-1, 1, n)}
    weights, blended = choose_blend_weights(oof, y, folds)
    assert weights["noise"] == 0.0 and 0.3 <= weights["a"] <= 0.7 and weights["a"] + weights["b"] == 1.0
    assert M.logloss(y, sigmoid(blended)) < min(M.logloss(y, sigmoid(oof[m])) for m in ("a", "b"))
    # fold k's blend uses weights chosen without fold k: change fold 0's outcomes only, and
    # fold 0's blended values cannot change unless the weights chosen on the other folds do
    y2 = y.copy()
    y2[folds[0]] = 1 - y2[folds[0]]
    _, blended2 = choose_blend_weights(oof, y2, folds)
    np.testing.assert_array_equal(blended2[folds[0]], blended[folds[0]])
    # one member much better than the others takes all the weight
    sharp = {"good": truth, "poor": truth + rng.normal(0, 3.0, n)}
    assert choose_blend_weights(sharp, y, folds)[0] == {"good": 1.0, "poor": 0.0}


# --------------------------------------------------------------------------------- scorecard points


def test_scorecard_points_follow_the_documented_scaling(credit: pd.DataFrame) -> None:
    X, y = credit[FEATURES], (credit["defaulted"] == "yes").astype(int)
    sc = WOEScorecard().fit(X, y)
    points = sc.score_points(X.iloc[:50])
    p = sc.predict_proba(X.iloc[:50])[:, 1]
    # 600 points at good:bad odds 50:1; 20 more points double the odds
    np.testing.assert_allclose(points, 600 + 20 * np.log2(((1 - p) / p) / 50), atol=1e-6)
    idx = sc.binner_.bin_indices(X.iloc[:50])
    table = sc.points_.set_index(["feature", "bin"])["points"]
    summed = sum(table.loc[list(zip([f] * 50, idx[f], strict=True))].to_numpy() for f in sc.features_)
    np.testing.assert_allclose(summed, points, atol=1e-6)
    assert (sc.coef_ >= 0).all()


# --------------------------------------------------------------------------------- reasons


@pytest.mark.parametrize(
    "model", [WOEScorecard(), MonotoneGBM(max_iter=120), WideLogit()], ids=["scorecard", "gbm", "logit"]
)
def test_first_reason_of_a_high_risk_row_is_the_true_driver(model) -> None:
    frame = single_driver_frame(3000, seed=4)
    X, y = frame.drop(columns="bad"), frame["bad"]
    model.fit(X, y)
    risky = X.iloc[:5].copy()
    risky["driver"] = np.quantile(X["driver"], 0.99)
    reasons = top_reasons(model.contributions(risky), risky)
    assert all(r and r[0].feature == "driver" for r in reasons)
    safe = X.iloc[:5].copy()
    safe["driver"] = np.quantile(X["driver"], 0.01)
    assert all(not r or r[0].feature != "driver" for r in top_reasons(model.contributions(safe), safe))


def test_trained_model_reasons_and_texts(trained: TrainedModel, credit: pd.DataFrame) -> None:
    rows = credit.iloc[:200]
    out = trained.predict(rows)
    assert list(out.columns) == ["pd", "grade", "reasons", "reasons_zh", "reason_codes"]
    assert out.index.equals(rows.index)
    worst = out["pd"].idxmax()
    assert out.loc[worst, "reason_codes"].split("; ")[0] in {"days_late", "equity_ratio", "sector"}
    reasons = trained.explain(rows.loc[[worst]])[0]
    assert 1 <= len(reasons) <= 4
    assert [r.contribution for r in reasons] == sorted((r.contribution for r in reasons), reverse=True)
    first = reasons[0]
    assert out.loc[worst, "reasons"].startswith(f"Value of {first.feature} (")
    assert out.loc[worst, "reasons_zh"].startswith(f"{first.feature}（")
    # named templates override the generic fallback; the table is per model and extensible
    trained.reason_templates["days_late"] = ("Paid {value} days late on average", "平均逾期{value}天")
    try:
        en, zh = reason_texts("days_late", 31.5, trained.reason_templates)
        assert (en, zh) == ("Paid 31.5 days late on average", "平均逾期31.5天")
    finally:
        trained.reason_templates.pop("days_late")
    assert reason_texts("x", None) == (
        GENERIC_TEMPLATE[0].format(feature="x", value="missing"),
        GENERIC_TEMPLATE[1].format(feature="x", value="缺失"),
    )


# --------------------------------------------------------------------------------- calibration


def test_calibrator_recovers_known_pds_per_decile() -> None:
    rng = np.random.default_rng(5)
    n = 40_000
    true_logit = rng.normal(-2.0, 1.2, n)
    y = (rng.random(n) < sigmoid(true_logit)).astype(int)
    distorted = 2.5 * true_logit + 3.0  # an over-confident, shifted model score
    fit_idx, test_idx = np.arange(n // 2), np.arange(n // 2, n)
    for method in ("sigmoid", "isotonic"):
        cal, _, _ = select_calibrator(distorted[fit_idx], y[fit_idx], methods=(method,))
        p = cal.predict(distorted[test_idx])
        # per decile of predicted PD, mean calibrated PD vs mean *true* PD: within 0.02 absolute
        # (isotonic steps carry the sampling noise of their ~500-row blocks: SE ~0.017 at PD 0.2)
        truth = M.calibration_bins(sigmoid(true_logit[test_idx]), p, n_bins=10)
        assert (np.abs(truth["observed"] - truth["predicted"]) < 0.02).all(), (method, truth)
        # and vs the observed default rate: within 3 binomial standard errors of the decile
        seen = M.calibration_bins(y[test_idx], p, n_bins=10)
        se = np.sqrt(seen["predicted"] * (1 - seen["predicted"]) / seen["count"])
        assert (np.abs(seen["observed"] - seen["predicted"]) < 3 * se + 0.002).all(), (method, seen)


def test_isotonic_calibration_keeps_the_ranking_and_small_data_keeps_sigmoid() -> None:
    rng = np.random.default_rng(8)
    s = rng.normal(-1, 1, 600)
    y = (rng.random(600) < sigmoid(s)).astype(int)
    grid = np.linspace(s.min() - 3, s.max() + 3, 3000)
    p = CenteredIsotonicCalibrator().fit(s, y).predict(grid)
    inside = (p[:-1] > PD_FLOOR) & (p[1:] < PD_CAP)
    assert (np.diff(p)[inside] > 0).all()  # no ties: calibration cannot lower the AUC
    _, report, _ = select_calibrator(s, y)
    assert report["method"] == "sigmoid"  # isotonic does not beat it by more than one standard error


def test_trained_model_is_calibrated_on_fresh_data() -> None:
    train_frame = credit_frame(12_000, seed=6, missing_rate=0.0)
    model = train(
        train_frame.drop(columns=["true_pd"]),
        "defaulted",
        "yes",
        id_column="customer_id",
        candidates=("gbm",),
        gbm_grid=None,
    )
    fresh = credit_frame(20_000, seed=7, missing_rate=0.0)
    p = model.predict_proba(fresh)
    table = M.calibration_bins(fresh["true_pd"], p, n_bins=10)
    # mean predicted PD vs mean known true PD per decile of predicted PD: within 0.035 absolute
    # (seeds 6, 8, 9, 10 gave at most 0.023, in the top decile), and ECE against the truth < 0.01
    assert (np.abs(table["observed"] - table["predicted"]) < 0.035).all(), table
    assert M.expected_calibration_error(fresh["true_pd"], p) < 0.01
    assert model.report["calibration"]["method"] in ("sigmoid", "isotonic")


def test_calibration_error_uses_equal_frequency_bins() -> None:
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    p = np.array([0.1, 0.1, 0.2, 0.2, 0.6, 0.6, 0.9, 0.9])
    # 2 bins of 4 rows: observed 0.25 vs predicted 0.15, observed 0.75 vs predicted 0.75
    assert M.expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.5 * 0.10)
    assert M.ks(y, p) == pytest.approx(0.5)  # e.g. cut at 0.6: 3/4 of events, 1/4 of non-events above
    assert M.gini(y, p) == pytest.approx(2 * M.auc(y, p) - 1)


# --------------------------------------------------------------------------------- master scale


def test_master_scale_default_bands_are_geometric_and_grades_monotone() -> None:
    scale = MasterScale()
    assert scale.n_grades == 10
    np.testing.assert_allclose(DEFAULT_UPPER_BOUNDS, np.geomspace(0.001, 0.5, 9), rtol=0.005)
    grid = np.linspace(0, 1, 10_001)
    grades = scale.grade_for(grid)
    assert (np.diff(grades) >= 0).all()
    assert grades[0] == 1 and grades[-1] == 10
    assert list(scale.grade_for([0.0009, 0.001, 0.0224, 0.4999, 0.5, 1.0])) == [1, 2, 6, 9, 10, 10]
    table = scale.table()
    assert table["pd_lower"].iloc[0] == 0 and table["pd_upper"].iloc[-1] == 1
    custom = MasterScale((0.01, 0.1))
    assert list(custom.grade_for([0.005, 0.05, 0.2])) == [1, 2, 3]
    with pytest.raises(ValueError, match="strictly increasing"):
        MasterScale((0.1, 0.05))
    with pytest.raises(ValueError):
        scale.grade_for([np.nan])


def test_predicted_grades_order_observed_default_rates(trained: TrainedModel) -> None:
    table = pd.DataFrame(trained.report["grade_table"])
    populated = table[table["count"] >= 100]
    assert len(populated) >= 3
    assert populated["observed_rate"].is_monotonic_increasing


# --------------------------------------------------------------------------------- model file


def test_save_load_round_trip_and_tampered_file_is_refused(
    trained: TrainedModel, credit: pd.DataFrame, tmp_path
) -> None:
    path = tmp_path / "model.bin"
    header = model_io.save(trained, path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]  # no temp file left behind
    loaded = model_io.load(path, expected_sha256=header["sha256"])
    pd.testing.assert_frame_equal(loaded.predict(credit.iloc[:300]), trained.predict(credit.iloc[:300]))
    assert loaded.report["champion"] == trained.champion

    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01
    tampered = tmp_path / "tampered.bin"
    tampered.write_bytes(bytes(data))
    with pytest.raises(model_io.ModelFileError, match="SHA-256"):
        model_io.load(tampered)
    with pytest.raises(model_io.ModelFileError, match="registered"):
        model_io.load(path, expected_sha256="0" * 64)
    not_model = tmp_path / "other.bin"
    not_model.write_bytes(b"\x80\x04K\x01.")  # a pickle, but not our format
    with pytest.raises(model_io.ModelFileError, match="not a model file"):
        model_io.load(not_model)


def test_prediction_reports_missing_and_malformed_feature_columns(
    trained: TrainedModel, credit: pd.DataFrame
) -> None:
    with pytest.raises(DataError, match=r"'days_late', 'sector'"):
        trained.predict(credit.drop(columns=["days_late", "sector"]))
    bad = credit.iloc[:5].copy()
    bad["days_late"] = bad["days_late"].astype(object)
    bad.loc[bad.index[2], "days_late"] = "twelve"
    with pytest.raises(DataError, match=r"column 'days_late', row 2: 'twelve' is not a number"):
        trained.predict(bad)
    extra = credit.iloc[:5].drop(columns=["defaulted"]).assign(unknown_column=1)
    assert len(trained.predict(extra)) == 5  # target absent, extra columns ignored
