"""Population stability and backtesting of a scoring model.

PSI (population stability index) of a variable between a reference sample (shares e_i per bin) and
today's population (shares a_i): ``sum_i (a_i - e_i) * ln(a_i / e_i)``, with shares floored at
0.0001 so that an empty bin does not make it infinite. The usual reading (Siddiqi 2006; Yurdakul
2018): below 0.10 stable, 0.10-0.25 a moderate shift worth a look, above ``PSI_ALERT`` = 0.25 a
significant shift: the model is scoring a population unlike the one it was built on, and an alert is
raised.

Bins are fixed before counting, so counts are additive: every chunk of a nightly run counts its
customers into the same bins (``bin_counts``) and the run sums them, without ever holding the whole
population in one process.

* the score: PD bands of the default master scale (the grades; fixed, independent of the
  organization's own scale, so a scale change is not mistaken for drift);
* trained models: their most informative features (top ``MONITORED_FEATURES`` by information value
  on the training sample), binned at the training deciles; the reference shares are the training
  sample's;
* the expert scorecard: its factors, binned at its own bands; the reference shares are those of its
  first monitored run (it has no training sample).

A missing value is a bin of its own (a feed that stops delivering shows up as drift).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .modeling.masterscale import DEFAULT_UPPER_BOUNDS

PSI_ALERT = 0.25
# No alert below this many scored customers: sampling noise alone gives a PSI of about
# (bins - 1) * (1/n + 1/n_reference) (0.5 for 11 bins and 40 customers; 0.055 at 200 vs 2,000).
PSI_MIN_POPULATION = 200
PSI_WATCH = 0.10
SHARE_FLOOR = 1e-4
MONITORED_FEATURES = 8
SCORE_VARIABLE = "pd"


def edges_from_sample(values: np.ndarray, n_bins: int = 10) -> list[float]:
    """Inner decile edges of the non-missing values (duplicates dropped: a feature that is 0 for
    most customers gets fewer bins)."""
    v = values[~np.isnan(values)]
    if not len(v):
        return []
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return [float(e) for e in edges]


def counts(values: np.ndarray, edges: list[float]) -> list[int]:
    """Counts per bin: len(edges) + 1 value bins (lower bound inclusive) and a last missing bin."""
    values = np.asarray(values, dtype=float)
    missing = np.isnan(values)
    idx = np.searchsorted(np.asarray(edges, dtype=float), values[~missing], side="right")
    out = np.bincount(idx, minlength=len(edges) + 1).tolist()
    return [int(c) for c in out] + [int(missing.sum())]


def variables(reference: Mapping[str, Any], default_edges: Mapping[str, list[float]]) -> dict[str, list[float]]:
    """The monitored variables and their bin edges: the reference's, else ``default_edges``."""
    spec = {SCORE_VARIABLE: list(DEFAULT_UPPER_BOUNDS)}
    source = {n: r["edges"] for n, r in reference.get("variables", {}).items()} or default_edges
    for name, edges in source.items():
        if name != SCORE_VARIABLE:
            spec[name] = list(edges)
    return spec


def bin_counts(spec: Mapping[str, list[float]], features: pd.DataFrame, pd_values: np.ndarray) -> dict[str, list[int]]:
    out = {SCORE_VARIABLE: counts(np.asarray(pd_values, dtype=float), spec[SCORE_VARIABLE])}
    for name, edges in spec.items():
        if name != SCORE_VARIABLE and name in features:
            out[name] = counts(features[name].to_numpy(dtype=float), edges)
    return out


def add_counts(total: dict[str, list[int]], more: Mapping[str, list[int]]) -> dict[str, list[int]]:
    for name, c in more.items():
        if name in total and len(total[name]) == len(c):
            total[name] = [a + b for a, b in zip(total[name], c, strict=True)]
        else:
            total[name] = list(c)
    return total


def shares(c: list[int]) -> list[float]:
    n = sum(c)
    return [x / n for x in c] if n else [0.0] * len(c)


def psi(expected: list[float], actual: list[float]) -> float:
    e = np.maximum(np.asarray(expected, dtype=float), SHARE_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=float), SHARE_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def reference_from_counts(spec: Mapping[str, list[float]], totals: Mapping[str, list[int]], *,
                          source: str) -> dict[str, Any]:
    return {
        "source": source,
        "variables": {
            name: {"edges": list(spec.get(name, [])), "shares": shares(c)}
            for name, c in totals.items() if name in spec
        },
    }


def reference_from_sample(features: pd.DataFrame, pd_values: np.ndarray, monitored: Iterable[str], *,
                          source: str) -> dict[str, Any]:
    spec = {SCORE_VARIABLE: list(DEFAULT_UPPER_BOUNDS)}
    for name in monitored:
        spec[name] = edges_from_sample(features[name].to_numpy(dtype=float))
    return reference_from_counts(spec, bin_counts(spec, features, pd_values), source=source)


def stability(reference: Mapping[str, Any], totals: Mapping[str, list[int]]) -> dict[str, float]:
    out = {}
    for name, ref in reference.get("variables", {}).items():
        c = totals.get(name)
        if c and len(c) == len(ref["shares"]) and sum(c):
            out[name] = round(psi(ref["shares"], shares(c)), 4)
    return out


def backtest_table(scores: pd.DataFrame, defaulted: pd.Series, start: pd.Timestamp, end: pd.Timestamp,
                   grades: list[int]) -> list[dict[str, Any]]:
    """Observed default rate (default date in (start, end]) against the mean PD given, per grade.
    ``scores``: customer_id, grade, pd."""
    if scores.empty:
        return []
    dd = defaulted.reindex(scores["customer_id"].to_numpy())
    y = ((dd > start) & (dd <= end)).to_numpy()
    frame = pd.DataFrame({"grade": scores["grade"].to_numpy(), "pd": scores["pd"].to_numpy(), "y": y})
    g = frame.groupby("grade").agg(count=("y", "size"), defaults=("y", "sum"), predicted=("pd", "mean"))
    rows = []
    for grade in grades:
        if grade not in g.index:
            continue
        r = g.loc[grade]
        n = int(r["count"])
        rows.append({"grade": int(grade), "count": n, "defaults": int(r["defaults"]),
                     "observed": float(r["defaults"]) / n, "predicted": float(r["predicted"])})
    return rows
