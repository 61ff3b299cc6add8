"""Train a probability-of-default model from a table: candidates, cross-validation, champion,
calibration, and a ``TrainedModel`` that scores new rows with a grade and reason codes.

Procedure (every number here is a parameter of ``train``):

1. Validate the table (target present, positive label found, both classes with at least
   ``min_class_rows`` rows, at least ``min_rows`` labelled rows, no entirely empty column).
   Rows with no target value are dropped and counted in the report.
2. Stratified ``n_splits``-fold cross-validation (fixed ``random_state``) of the candidates on
   the same folds, collecting out-of-fold (OOF) log-odds:
   - ``scorecard``: monotone WOE binning + logistic regression (``scorecard.WOEScorecard``);
   - ``logit``: a regularised "wide" logistic regression on one-hot categories and standardised
     numbers, sign-constrained where a direction is declared (``logit.WideLogit``); its L2
     strength is chosen from ``logit_grid`` by OOF log-loss;
   - ``gbm``: monotone histogram gradient boosting (``gbm.MonotoneGBM``); the configuration
     (``gbm_grid``) and number of iterations are chosen from the staged OOF log-loss;
   - ``blend``: the ``blend_members`` averaged in log-odds, with weights on the simplex grid of
     step 0.1 (66 weight vectors for 3 members) chosen by the OOF log-loss *after Platt
     scaling* (``blend_metric="platt_log_loss"``): the blend is calibrated afterwards, so a
     weight vector is judged on what the calibrator can make of it, not on its raw scale (on
     raw log-loss a useless member can win weight just by shrinking an over-confident one).
   Choices made on OOF predictions (C, GBM configuration and iterations, blend weights) are
   *cross-selected*: the value used for fold k is chosen on the other folds only, so the CV
   figures stay honest.
3. Champion: the highest mean fold AUC; candidates within ``tie_tolerance`` (0.005, well inside
   the fold-to-fold spread of AUC on credit data) are tied and the tie goes to the lowest
   cross-validated log-loss after calibration (a proper scoring rule: it rewards both ranking
   and calibration), then to the simpler model (scorecard, logit, gbm, blend). The binned
   calibration error is not used to choose: on a few hundred rows it is mostly sampling noise
   (a perfectly calibrated PD scored on 700 rows has an expected 10-bin ECE of about 0.04).
4. Calibration: ``calibration.select_calibrator`` on the champion's OOF log-odds (cross-fitted:
   the calibrator never sees a row scored by a model that was trained on it).
5. The champion is refitted on all labelled rows; the report's CV metrics are those of the
   OOF log-odds passed through cross-validated calibrators.
6. With a ``date_column``, an out-of-time check repeats steps 2-5 on the rows before the
   ``1 - oot_fraction`` date quantile and scores the later rows. It is reported, not used to
   choose the champion.
"""

from __future__ import annotations

import contextlib
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from . import metrics as M
from .blend import LogitBlend
from .calibration import select_calibrator
from .gbm import SINGLE_THREAD_ROWS, MonotoneGBM
from .logit import WideLogit
from .masterscale import MasterScale
from .reasons import Reason, top_reasons
from .schema import (
    CATEGORICAL,
    NUMERIC,
    DataError,
    _format_number,
    category_values,
    check_columns,
    infer_kinds,
    normalise_monotone,
    numeric_values,
)
from .scorecard import WOEScorecard

CANDIDATES = ("scorecard", "logit", "gbm", "blend")  # also the simplicity order for ties
BASE_MODELS = ("scorecard", "logit", "gbm")
_SIMPLICITY = {name: i for i, name in enumerate(CANDIDATES)}
BLEND_STEP = 0.1
# L2 strengths of the wide logit, 1/C from strong to weak shrinkage; the value is cross-selected
# on out-of-fold log-loss. Half-decade steps: finer steps change the OOF log-loss by less than
# its fold-to-fold noise on a few hundred rows.
LOGIT_C_GRID: tuple[float, ...] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
GBM_DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.05,
    "max_iter": 400,
    "max_leaf_nodes": 6,
    "max_depth": 3,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
}
# Tried on every fit, each with its number of iterations picked from the staged CV log-loss.
GBM_GRID: tuple[dict[str, Any], ...] = (
    {"max_leaf_nodes": 4, "l2_regularization": 1.0},
    {"max_leaf_nodes": 8, "l2_regularization": 1.0},
    {"max_leaf_nodes": 4, "l2_regularization": 30.0},
    {"max_leaf_nodes": 8, "l2_regularization": 30.0},
)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def library_versions() -> dict[str, str]:
    import joblib
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


# ----------------------------------------------------------------------------- the trained model


@dataclass
class TrainedModel:
    """A calibrated PD model ready to score: ``predict(frame)`` -> pd, grade, reasons.

    ``estimator`` is the refitted champion (it exposes ``decision_function`` and
    ``contributions``); ``calibrator`` maps its log-odds to PD; ``metrics`` and ``report`` are
    plain JSON-able dicts.
    """

    estimator: Any
    calibrator: Any
    champion: str
    features: list[str]
    feature_kinds: dict[str, str]  # "numeric" or "categorical", enforced at predict time
    target: str
    positive_label: Any
    metrics: dict[str, Any]
    report: dict[str, Any]
    master_scale: MasterScale = field(default_factory=MasterScale)
    training_window: tuple[str, str] | None = None
    date_column: str | None = None
    id_column: str | None = None
    reason_templates: dict[str, tuple[str, str]] = field(default_factory=dict)
    created_at: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    feature_dtypes: dict[str, str] = field(default_factory=dict)  # pandas dtypes seen in training

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's feature columns, numeric ones converted to float; clear errors otherwise."""
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}")
        frame = frame.rename(columns=str)
        check_columns(frame, self.features)
        out = {}
        for c in self.features:
            out[c] = numeric_values(frame[c], c) if self.feature_kinds[c] == NUMERIC else frame[c].to_numpy()
        return pd.DataFrame(out, index=frame.index)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the positive class (default), one per row."""
        X = self.prepare(frame)
        if not len(X):
            return np.empty(0)
        return np.asarray(self.calibrator.predict(self.estimator.decision_function(X)), dtype=float)

    def explain(self, frame: pd.DataFrame, *, max_reasons: int = 4) -> list[list[Reason]]:
        X = self.prepare(frame)
        if not len(X):
            return []
        return top_reasons(
            self.estimator.contributions(X), X, max_reasons=max_reasons, templates=self.reason_templates
        )

    def predict(self, frame: pd.DataFrame, *, max_reasons: int = 4) -> pd.DataFrame:
        """One row per input row (same index): ``pd``, ``grade``, ``reasons`` (English, joined by
        "; "), ``reasons_zh`` and ``reason_codes`` (the features, joined by "; ")."""
        X = self.prepare(frame)
        if not len(X):
            return pd.DataFrame(
                {
                    "pd": pd.Series(dtype=float),
                    "grade": pd.Series(dtype=int),
                    "reasons": pd.Series(dtype=object),
                    "reasons_zh": pd.Series(dtype=object),
                    "reason_codes": pd.Series(dtype=object),
                },
                index=X.index,
            )
        p = np.asarray(self.calibrator.predict(self.estimator.decision_function(X)), dtype=float)
        reasons = top_reasons(
            self.estimator.contributions(X), X, max_reasons=max_reasons, templates=self.reason_templates
        )
        return pd.DataFrame(
            {
                "pd": p,
                "grade": self.master_scale.grade_for(p),
                "reasons": ["; ".join(r.text_en for r in row) for row in reasons],
                "reasons_zh": ["; ".join(r.text_zh for r in row) for row in reasons],
                "reason_codes": ["; ".join(r.feature for r in row) for row in reasons],
            },
            index=X.index,
        )


# ----------------------------------------------------------------------------- input validation


@dataclass
class _Prepared:
    X: pd.DataFrame
    y: np.ndarray
    dates: pd.Series | None
    kinds: dict[str, str]
    monotone: dict[str, int]
    notes: dict[str, Any]


def _quote_list(values: Sequence[Any], limit: int = 30) -> str:
    shown = ", ".join(f"'{v}'" for v in values[:limit])
    return shown + (f" ... ({len(values)} in all)" if len(values) > limit else "")


def _prepare(
    frame: pd.DataFrame,
    target: str,
    positive_label: Any,
    monotone: Mapping[str, Any] | None,
    date_column: str | None,
    id_column: str | None,
    exclude: Sequence[str],
    min_rows: int,
    min_class_rows: int,
) -> _Prepared:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.rename(columns=str)
    dupes = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if dupes:
        raise DataError(f"duplicate column name(s): {_quote_list(dupes)}")
    columns = list(frame.columns)
    if target not in columns:
        raise DataError(f"target column '{target}' not found; the data has columns: {_quote_list(columns)}")
    for role, col in (("date", date_column), ("id", id_column)):
        if col is not None and col not in columns:
            raise DataError(f"{role} column '{col}' not found; the data has columns: {_quote_list(columns)}")
    unknown_excluded = [c for c in exclude if c not in columns]
    if unknown_excluded:
        raise DataError(f"excluded column(s) not found: {_quote_list(unknown_excluded)}")
    if not len(frame):
        raise DataError("the data has no rows")

    labels = pd.Series(category_values(frame[target]), index=frame.index, dtype=object)
    labelled = labels.notna().to_numpy()
    found = labels[labelled].value_counts()
    if found.empty:
        raise DataError(f"target column '{target}' is entirely empty")
    if len(found) > 20:
        raise DataError(
            f"target column '{target}' has {len(found)} distinct values; it must hold class labels "
            f"(e.g. good/bad or 0/1), not a measurement"
        )
    key = str(positive_label).strip()
    keys = {key}
    with contextlib.suppress(ValueError):  # "1" also matches a target read as 1.0
        keys.add(_format_number(float(key)))
    matched = [k for k in found.index if k in keys]
    found_text = ", ".join(f"'{k}' ({n} rows)" for k, n in found.items())
    if not matched:
        raise DataError(
            f"positive label '{positive_label}' not found in target column '{target}'; "
            f"values found: {found_text}"
        )
    if len(found) == 1:
        raise DataError(
            f"target column '{target}' has only one class ({found_text}); training needs both "
            f"'{positive_label}' rows and rows of another class"
        )
    y = labels[labelled].isin(matched).to_numpy().astype(np.int64)
    n, events = len(y), int(y.sum())
    if n < min_rows:
        raise DataError(f"only {n} labelled rows; at least {min_rows} are needed to train and cross-validate")
    if events < min_class_rows or n - events < min_class_rows:
        raise DataError(
            f"too few events: {events} rows have {target} = '{positive_label}' and {n - events} do not; "
            f"at least {min_class_rows} of each are needed"
        )

    drop = {target, *(c for c in (date_column, id_column) if c), *exclude}
    features = [c for c in columns if c not in drop]
    if not features:
        raise DataError("no feature columns left after removing the target, date, id and excluded columns")
    empty = [
        c
        for c in features
        if not frame[c].notna().any()
        or (infer_kinds(frame, [c])[c] == CATEGORICAL and all(v is None for v in category_values(frame[c])))
    ]
    if empty:
        raise DataError(f"column(s) {_quote_list(empty)} are entirely empty; drop them or fill them in")
    X = frame.loc[labelled, features]
    kinds = infer_kinds(X)
    directions = normalise_monotone(monotone, features)
    text_dirs = [c for c, d in directions.items() if d != 0 and kinds[c] == CATEGORICAL]
    if text_dirs:
        raise DataError(
            f"monotone directions apply to numeric columns only; {_quote_list(text_dirs)} hold text"
        )
    dates = None
    if date_column:
        raw = frame.loc[labelled, date_column]
        parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
        bad = (raw.notna() & parsed.isna()).to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(f"column '{date_column}', row {raw.index[pos]}: '{raw.iloc[pos]}' is not a date")
        if parsed.isna().any():
            raise DataError(f"date column '{date_column}' has {int(parsed.isna().sum())} empty value(s)")
        dates = parsed
    notes = {
        "rows": len(frame),
        "labelled_rows": n,
        "unlabelled_rows_dropped": int((~labelled).sum()),
        "events": events,
        "event_rate": events / n,
        "positive_label": str(positive_label),
        "negative_labels": [str(k) for k in found.index if k not in matched],
        "features": {c: kinds[c] for c in features},
        "excluded_columns": sorted(drop),
    }
    return _Prepared(X=X, y=y, dates=dates, kinds=kinds, monotone=directions, notes=notes)


# ----------------------------------------------------------------------------- cross-validation


def _cross_select(
    per_fold: np.ndarray, folds: list[np.ndarray], better: Callable[[np.ndarray], int]
) -> tuple[list[int], int]:
    """per_fold[k, c]: score of choice c on fold k. For each fold, the choice that is best on the
    other folds (row-weighted); and the choice best on all folds."""
    sizes = np.array([len(f) for f in folds], dtype=float)
    total = (per_fold * sizes[:, None]).sum(axis=0)
    chosen = [better((total - per_fold[k] * sizes[k]) / (sizes.sum() - sizes[k])) for k in range(len(folds))]
    return chosen, better(total / sizes.sum())


def _stage_log_loss(stages: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Log-loss of each row of log-odds ``stages`` (iterations x rows) against 0/1 ``y``."""
    # log(1 + exp(-z)) for events, log(1 + exp(z)) for non-events, computed stably
    signed = np.where(y[None, :] == 1, -stages, stages)
    return np.logaddexp(0.0, signed).mean(axis=1)


def simplex_grid(members: int, step: float = BLEND_STEP) -> np.ndarray:
    """All weight vectors of ``members`` non-negative multiples of ``step`` summing to 1, one per
    row (66 rows for 3 members at step 0.1); single-member corners come first."""
    units = round(1.0 / step)
    if members < 1 or not np.isclose(units * step, 1.0):
        raise ValueError(f"need at least one member and a step dividing 1, got {members}, {step}")

    def parts(n: int, total: int) -> list[tuple[int, ...]]:
        if n == 1:
            return [(total,)]
        return [(i, *rest) for i in range(total, -1, -1) for rest in parts(n - 1, total - i)]

    grid = np.array(parts(members, units), dtype=float) / units
    corners = (grid == 1.0).any(axis=1)
    return np.vstack([grid[corners], grid[~corners]])


def _platt_log_loss(y: np.ndarray, s: np.ndarray, iterations: int = 50) -> float:
    """Log-loss of ``sigmoid(a * s + b)`` with the best ``a, b``: what Platt scaling can make of
    the score ``s``. Newton's method with step halving (the loss is convex, so this converges
    from any start); a 1e-6 ridge keeps a separable sample finite."""
    X = np.column_stack([s, np.ones_like(s)])

    def loss(w: np.ndarray) -> float:
        return float(_stage_log_loss((X @ w)[None, :], y)[0]) + 0.5e-6 * float(w @ w)

    w = np.array([1.0, 0.0])
    current = loss(w)
    for _ in range(iterations):
        p = expit(X @ w)
        grad = X.T @ (p - y) / len(y) + 1e-6 * w
        hess = (X * (p * (1 - p))[:, None]).T @ X / len(y) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        for _ in range(30):
            trial = loss(w - step)
            if trial <= current:
                break
            step = step / 2
        else:
            break
        w, gain, current = w - step, current - trial, trial
        if gain < 1e-12:
            break
    return float(_stage_log_loss((X @ w)[None, :], y)[0])


BLEND_METRICS = ("platt_log_loss", "log_loss", "auc")


def _blend_loss(metric: str, y: np.ndarray, logits: np.ndarray) -> float:
    if metric == "auc":
        return -M.auc(y, logits)
    if metric == "platt_log_loss":
        return _platt_log_loss(y, logits)
    return float(_stage_log_loss(logits[None, :], y)[0])


def choose_blend_weights(
    oof: Mapping[str, np.ndarray],
    y: np.ndarray,
    test_folds: Sequence[np.ndarray],
    *,
    metric: str = "platt_log_loss",
    step: float = BLEND_STEP,
) -> tuple[dict[str, float], np.ndarray]:
    """Blend weights on the simplex grid, chosen on the members' out-of-fold log-odds ``oof``.

    Returns (the weights best on all folds, the blend's OOF log-odds in which fold k uses the
    weights best on the *other* folds, so the blend's CV figures stay honest). Ties go to the
    earlier grid point (single members first).
    """
    names = list(oof)
    weights = simplex_grid(len(names), step)
    stacked = np.vstack([np.asarray(oof[m], dtype=float) for m in names])  # members x rows
    per_fold_loss = np.array(
        [[_blend_loss(metric, y[te], w @ stacked[:, te]) for w in weights] for te in test_folds]
    )
    per_fold_w, best_w = _cross_select(per_fold_loss, list(test_folds), lambda v: int(np.argmin(np.round(v, 6))))
    oof_blend = np.empty(stacked.shape[1])
    for k, te in enumerate(test_folds):
        oof_blend[te] = weights[per_fold_w[k]] @ stacked[:, te]
    return {m: float(w) for m, w in zip(names, weights[best_w], strict=True)}, oof_blend


@dataclass
class _CoreResult:
    estimator: Any
    calibrator: Any
    champion: str
    candidates: dict[str, dict[str, Any]]
    calibration: dict[str, Any]
    cv_metrics: dict[str, float]
    oof_pd: np.ndarray
    fitted: dict[str, Any]
    oof_logits: dict[str, np.ndarray]  # each candidate's out-of-fold log-odds


def _fit_core(X: pd.DataFrame, y: np.ndarray, monotone: dict[str, int], **kwargs: Any) -> _CoreResult:
    """``_fit_candidates`` with the BLAS and OpenMP thread pools limited to one thread below
    ``SINGLE_THREAD_ROWS`` rows. The hundreds of small fits (5 folds x C grid x GBM grid) gain
    nothing from threads, and threads that spin-wait while another process holds the second
    core stall them: measured on German credit (700 rows, 2 cores, load ~4) 4 s of CPU with
    one thread against 11-15 s with the default pools, of which ~10 s in L-BFGS-B alone."""
    limit = threadpool_limits(1) if len(y) < SINGLE_THREAD_ROWS else contextlib.nullcontext()
    with limit:
        return _fit_candidates(X, y, monotone, **kwargs)


def _fit_candidates(
    X: pd.DataFrame,
    y: np.ndarray,
    monotone: dict[str, int],
    *,
    candidates: Sequence[str],
    n_splits: int,
    random_state: int,
    tie_tolerance: float,
    scorecard_params: dict[str, Any],
    gbm_params: dict[str, Any],
    gbm_grid: Sequence[Mapping[str, Any]] | None,
    logit_params: dict[str, Any],
    logit_grid: Sequence[float],
    blend_members: Sequence[str],
    blend_metric: str,
    refit_all: bool,
    log: Callable[[str], None],
) -> _CoreResult:
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    folds = list(splitter.split(np.zeros(len(y)), y))
    test_folds = [te for _, te in folds]
    members = list(blend_members) if "blend" in candidates else []
    needed = {m for m in BASE_MODELS if m in candidates or m in members}
    oof: dict[str, np.ndarray] = {}
    timings: dict[str, float] = {}
    gbm_choice: dict[str, Any] | None = None
    logit_c: float | None = None
    if "scorecard" in needed:
        t0 = time.perf_counter()
        oof_sc = np.empty(len(y))
        for k, (tr, te) in enumerate(folds):
            sc = WOEScorecard(monotone or None, **scorecard_params).fit(X.iloc[tr], y[tr])
            oof_sc[te] = sc.decision_function(X.iloc[te])
            log(f"  scorecard fold {k + 1}/{n_splits}")
        oof["scorecard"] = oof_sc
        timings["scorecard"] = time.perf_counter() - t0
    if "logit" in needed:
        t0 = time.perf_counter()
        # scores[k][c]: fold k's OOF log-odds with C = logit_grid[c]; C is cross-selected
        scores: list[list[np.ndarray]] = [[] for _ in folds]
        c_losses = np.empty((n_splits, len(logit_grid)))
        for k, (tr, te) in enumerate(folds):
            for c, C in enumerate(logit_grid):
                lg = WideLogit(monotone or None, C=C, **logit_params).fit(X.iloc[tr], y[tr])
                scores[k].append(lg.decision_function(X.iloc[te]))
                c_losses[k, c] = _stage_log_loss(scores[k][-1][None, :], y[te])[0]
            log(f"  logit fold {k + 1}/{n_splits}")
        per_fold_c, best_c = _cross_select(c_losses, test_folds, lambda v: int(np.argmin(v)))
        oof_lg = np.empty(len(y))
        for k, te in enumerate(test_folds):
            oof_lg[te] = scores[k][per_fold_c[k]]
        oof["logit"] = oof_lg
        logit_c = float(logit_grid[best_c])
        timings["logit"] = time.perf_counter() - t0
    if "gbm" in needed:
        t0 = time.perf_counter()
        grid = [{**gbm_params, **g} for g in (gbm_grid or [{}])]
        max_iter = max(int(g["max_iter"]) for g in grid)
        # losses[k, c * max_iter + i]: log-loss on fold k of config c after i + 1 iterations
        # (configs with fewer iterations pad with a large finite loss: inf - inf would give NaN)
        losses = np.full((n_splits, len(grid) * max_iter), 1e6)
        stages: list[list[np.ndarray]] = [[] for _ in folds]
        for c, params in enumerate(grid):
            for k, (tr, te) in enumerate(folds):
                g = MonotoneGBM(monotone or None, random_state=random_state, **params).fit(X.iloc[tr], y[tr])
                st = np.vstack(list(g.staged_decision_function(X.iloc[te])))
                stages[k].append(st)
                losses[k, c * max_iter : c * max_iter + len(st)] = _stage_log_loss(st, y[te])
            log(f"  gbm config {c + 1}/{len(grid)} done")
        # configuration and iterations are cross-selected so the OOF figures stay honest
        per_fold, best = _cross_select(losses, test_folds, lambda v: int(np.argmin(v)))
        oof_gbm = np.empty(len(y))
        for k, te in enumerate(test_folds):
            c, i = divmod(per_fold[k], max_iter)
            oof_gbm[te] = stages[k][c][i]
        oof["gbm"] = oof_gbm
        best_c, best_i = divmod(best, max_iter)
        gbm_choice = {**grid[best_c], "max_iter": best_i + 1}
        timings["gbm"] = time.perf_counter() - t0
    blend_weights: dict[str, float] | None = None
    if "blend" in candidates:
        blend_weights, oof["blend"] = choose_blend_weights(
            {m: oof[m] for m in members}, y, test_folds, metric=blend_metric
        )

    results: dict[str, dict[str, Any]] = {}
    calibrated: dict[str, tuple[Any, dict[str, Any], np.ndarray]] = {}
    for name in candidates:
        fold_auc = [M.auc(y[te], oof[name][te]) for te in test_folds]
        raw = M.summary(y, _sigmoid(oof[name]))
        results[name] = {
            "cv_auc": float(np.mean(fold_auc)),
            "cv_auc_std": float(np.std(fold_auc)),
            "fold_auc": [float(a) for a in fold_auc],
            "oof_raw": raw,
        }
        if name in timings:
            results[name]["cv_seconds"] = timings[name]
    if gbm_choice is not None:
        for name in ("gbm", "blend"):
            if name in results and (name == "gbm" or "gbm" in members):
                results[name]["n_iter"] = gbm_choice["max_iter"]
                results[name]["gbm_params"] = dict(gbm_choice)
    if logit_c is not None:
        for name in ("logit", "blend"):
            if name in results and (name == "logit" or "logit" in members):
                results[name]["logit_C"] = logit_c
    if blend_weights is not None:
        results["blend"]["weights"] = blend_weights

    best_auc = max(r["cv_auc"] for r in results.values())
    tied = [n for n in candidates if results[n]["cv_auc"] >= best_auc - tie_tolerance]
    for name in tied:
        calibrated[name] = select_calibrator(oof[name], y, random_state=random_state)
        results[name]["cv_calibrated"] = M.summary(y, calibrated[name][2])
    champion = min(
        tied,
        key=lambda n: (round(results[n]["cv_calibrated"]["log_loss"], 4), _SIMPLICITY.get(n, 99)),
    )
    calibrator, cal_report, cv_pd = calibrated[champion]

    # refit on all rows what the champion needs (everything, for the out-of-time comparison)
    used = {champion} if champion != "blend" else {m for m, w in (blend_weights or {}).items() if w > 0}
    fitted: dict[str, Any] = {}
    for name in BASE_MODELS:
        if name not in needed or not (refit_all or name in used):
            continue
        if name == "scorecard":
            fitted[name] = WOEScorecard(monotone or None, **scorecard_params).fit(X, y)
        elif name == "logit":
            assert logit_c is not None
            fitted[name] = WideLogit(monotone or None, C=logit_c, **logit_params).fit(X, y)
        else:
            assert gbm_choice is not None
            fitted[name] = MonotoneGBM(monotone or None, random_state=random_state, **gbm_choice).fit(X, y)
    if "blend" in candidates and (refit_all or champion == "blend"):
        assert blend_weights is not None
        kept = [m for m in members if blend_weights[m] > 0]
        fitted["blend"] = LogitBlend.from_fitted(
            [(m, fitted[m]) for m in kept], [blend_weights[m] for m in kept], classes=np.array([0, 1])
        )
    return _CoreResult(
        estimator=fitted[champion],
        calibrator=calibrator,
        champion=champion,
        candidates=results,
        calibration=cal_report,
        cv_metrics=M.summary(y, cv_pd),
        oof_pd=cv_pd,
        fitted=fitted,
        oof_logits=oof,
    )


# ----------------------------------------------------------------------------- entry point


def train(
    frame: pd.DataFrame,
    target: str,
    positive_label: Any,
    monotone: Mapping[str, Any] | None = None,
    *,
    date_column: str | None = None,
    id_column: str | None = None,
    exclude: Sequence[str] = (),
    candidates: Sequence[str] = CANDIDATES,
    n_splits: int = 5,
    random_state: int = 0,
    tie_tolerance: float = 0.005,
    oot_fraction: float = 0.2,
    min_rows: int = 50,
    min_class_rows: int = 10,
    master_scale: MasterScale | None = None,
    scorecard_params: Mapping[str, Any] | None = None,
    gbm_params: Mapping[str, Any] | None = None,
    gbm_grid: Sequence[Mapping[str, Any]] | None = GBM_GRID,
    logit_params: Mapping[str, Any] | None = None,
    logit_grid: Sequence[float] = LOGIT_C_GRID,
    blend_members: Sequence[str] = BASE_MODELS,
    blend_metric: str = "platt_log_loss",
    reason_templates: Mapping[str, tuple[str, str]] | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainedModel:
    """Fit, cross-validate and calibrate a PD model for ``target == positive_label``.

    ``monotone`` maps numeric feature -> +1 (risk rises with the value) / -1 (falls) / 0; the
    scorecard bins, the wide logit's coefficients and the GBM all honour it. Raises ``DataError``
    with a clear message on bad input. See the module docstring for the procedure.
    """
    started = time.perf_counter()
    unknown = [c for c in candidates if c not in CANDIDATES]
    if unknown or not candidates:
        raise ValueError(f"candidates must be a non-empty subset of {CANDIDATES}, got {list(candidates)}")
    if n_splits < 2:
        raise ValueError("n_splits must be at least 2")
    if "blend" in candidates and (
        len(set(blend_members)) != len(blend_members)
        or len(blend_members) < 2
        or any(m not in BASE_MODELS for m in blend_members)
    ):
        raise ValueError(f"blend_members must be 2 or more of {BASE_MODELS}, got {list(blend_members)}")
    if not logit_grid or any(not c > 0 for c in logit_grid):
        raise ValueError(f"logit_grid must be positive numbers, got {list(logit_grid)}")
    if blend_metric not in BLEND_METRICS:
        raise ValueError(f"blend_metric must be one of {BLEND_METRICS}, got {blend_metric!r}")
    emit = log or (lambda _msg: None)
    prep = _prepare(
        frame, target, positive_label, monotone, date_column, id_column, exclude, min_rows, min_class_rows
    )
    smallest_class = int(min(prep.y.sum(), len(prep.y) - prep.y.sum()))
    if n_splits > smallest_class:
        raise DataError(
            f"{n_splits} folds need at least {n_splits} rows of each class; the smaller has {smallest_class}"
        )
    scale = master_scale or MasterScale()
    sc_params = dict(scorecard_params or {})
    gb_params = {**GBM_DEFAULTS, **(gbm_params or {})}
    core_kwargs: dict[str, Any] = {
        "candidates": list(candidates),
        "n_splits": n_splits,
        "random_state": random_state,
        "tie_tolerance": tie_tolerance,
        "scorecard_params": sc_params,
        "gbm_params": gb_params,
        "gbm_grid": gbm_grid,
        "logit_params": dict(logit_params or {}),
        "logit_grid": list(logit_grid),
        "blend_members": list(blend_members),
        "blend_metric": blend_metric,
        "log": emit,
    }
    emit(f"cross-validating {', '.join(candidates)} on {len(prep.y)} rows ({n_splits} folds)")
    core = _fit_core(prep.X, prep.y, prep.monotone, refit_all=False, **core_kwargs)

    grades = scale.grade_for(core.oof_pd)
    grade_tab = M.grade_table(prep.y, core.oof_pd, grades, scale.grades)
    report: dict[str, Any] = {
        "data": prep.notes,
        "monotone": prep.monotone,
        "candidates": core.candidates,
        "champion": core.champion,
        "selection_rule": (
            f"highest mean {n_splits}-fold CV AUC; candidates within {tie_tolerance} AUC "
            "tie and the lowest calibrated CV log-loss wins, then the simpler model"
        ),
        "calibration": core.calibration,
        "cv": core.cv_metrics,
        "grade_table": grade_tab.to_dict(orient="records"),
        "master_scale": scale.table().to_dict(orient="records"),
    }
    champion_est = core.estimator
    if isinstance(champion_est, WOEScorecard):
        report["scorecard_points"] = champion_est.points_.to_dict(orient="records")
    lg = core.fitted.get("logit")
    if lg is not None:
        # declared directions the data contradicted: those coefficients are held at 0
        report["logit_constrained"] = list(lg.constrained_)
    sc = core.fitted.get("scorecard")
    if sc is not None:
        report["information_value"] = {
            k: float(v) for k, v in sc.binner_.iv_.sort_values(ascending=False).items()
        }

    window = None
    oot: dict[str, Any] | None = None
    if prep.dates is not None:
        window = (prep.dates.min().date().isoformat(), prep.dates.max().date().isoformat())
        oot = _out_of_time(prep, oot_fraction, max(min_class_rows, n_splits), core_kwargs, emit)
        report["out_of_time"] = oot
    report["training_window"] = window
    report["fit_seconds"] = time.perf_counter() - started
    metrics = {
        "cv": core.cv_metrics,
        "champion": core.champion,
        "candidates": {
            n: {"cv_auc": r["cv_auc"], "cv_auc_std": r["cv_auc_std"]} for n, r in core.candidates.items()
        },
        "calibration_method": core.calibration["method"],
    }
    if oot is not None and "metrics" in oot:
        metrics["oot"] = oot["metrics"]
    return TrainedModel(
        estimator=champion_est,
        calibrator=core.calibrator,
        champion=core.champion,
        features=list(prep.X.columns),
        feature_kinds=dict(prep.kinds),
        target=target,
        positive_label=positive_label,
        metrics=metrics,
        report=report,
        master_scale=scale,
        training_window=window,
        date_column=date_column,
        id_column=id_column,
        reason_templates=dict(reason_templates or {}),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        versions=library_versions(),
        feature_dtypes={c: str(prep.X[c].dtype) for c in prep.X.columns},
    )


def _out_of_time(
    prep: _Prepared,
    oot_fraction: float,
    min_class_rows: int,
    core_kwargs: dict[str, Any],
    emit: Callable[[str], None],
) -> dict[str, Any]:
    assert prep.dates is not None
    if not 0 < oot_fraction < 1:
        raise ValueError("oot_fraction must be between 0 and 1")
    dates = prep.dates.to_numpy()
    cut = np.quantile(dates.astype("datetime64[ns]").astype(np.int64), 1 - oot_fraction)
    cut_date = pd.Timestamp(int(cut))
    before = dates < np.datetime64(cut_date.to_datetime64())
    y_in, y_out = prep.y[before], prep.y[~before]
    info: dict[str, Any] = {
        "cut": cut_date.date().isoformat(),
        "rows_before": int(before.sum()),
        "rows_after": int((~before).sum()),
    }
    for part, yy in (("before", y_in), ("after", y_out)):
        if yy.sum() < min_class_rows or len(yy) - yy.sum() < min_class_rows:
            info["skipped"] = (
                f"the {part}-cut part has {int(yy.sum())} events and {int(len(yy) - yy.sum())} "
                f"non-events; at least {min_class_rows} of each are needed"
            )
            return info
    emit(f"out-of-time check: training on rows before {info['cut']}")
    core = _fit_core(prep.X[before], y_in, prep.monotone, refit_all=True, **core_kwargs)
    X_out = prep.X[~before]
    p = core.calibrator.predict(core.estimator.decision_function(X_out))
    info["champion"] = core.champion
    info["metrics"] = M.summary(y_out, p)
    info["candidates_auc"] = {n: M.auc(y_out, est.decision_function(X_out)) for n, est in core.fitted.items()}
    return info
