"""Order anomalies against each customer's own history, explained in words.

Three detectors, each comparing a customer with itself (a large customer's normal order is a small
customer's anomaly):

* **an unusual order**: an order of the last ``recent_days`` at least ``ratio`` times the median of the
  customer's orders of the ``history_days`` before, and at least ``robust_z`` robust z-scores above it
  on the log scale (order amounts are multiplicative, roughly log-normal: the demo's spread is a factor
  of two). The robust z-score divides by the median absolute deviation scaled by 1.4826, so that one
  earlier outlier does not mask the next (Iglewicz and Hoaglin's modified z-score, cut-off 3.5). Both
  must hold: the ratio keeps very regular customers (tiny MAD) from alerting on a modest order, the
  z-score keeps irregular ones from alerting on their usual swings.
* **a surge**: the total (or the number) of orders of the last ``surge_days`` at least ``surge_ratio``
  times the median of the customer's previous ``surge_days`` windows over the history, and above the
  largest of them.
* **a change of pattern**: where the customer has at least ``isolation_min_months`` windows of history, an
  isolation forest (scikit-learn, fixed random state) is fitted on the customer's windows (count, total
  and largest order of each ``surge_days``), the latest included: it fires when the latest window is
  outside the range of every earlier one on some feature, is the most isolated of all windows and is
  an outlier by the forest's own cut-off (``decision_function`` below 0). Fitting with the latest window
  in is the usual use of the forest on a set (an unseen point beyond the training range lands in the
  leaf of the most extreme training point and would score like it). The range test first
  spares the fit for the many customers whose latest month looks like an earlier one.

Everything is read in one query (orders of the scope over the history) and computed with pandas; the
forest is fitted only for the few customers the range test leaves.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.db import connection

from credit_platform.sql import epoch_days

if TYPE_CHECKING:
    from .indicators import Finding, Scope

MAD_SCALE = 1.4826  # MAD -> standard deviation of a normal distribution
EPOCH = dt.date(1970, 1, 1)


def read_orders(scope: Scope, since: dt.date, as_of: dt.date) -> pd.DataFrame:
    from .indicators import _table

    where, params = scope.where("o.customer_id")
    sql = f"""SELECT o.customer_id, o.number, {epoch_days("o.order_date")}, o.amount, o.currency
              FROM {_table("receivables.Order")} o
              WHERE o.organization_id = %s AND o.status <> 'cancelled' AND o.order_date > %s
              AND o.order_date <= %s{where}"""  # noqa: S608 - identifiers from model meta
    with connection.cursor() as cursor:
        cursor.execute(sql, [scope.organization.pk, since, as_of, *params])
        rows = cursor.fetchall()
    frame = pd.DataFrame(rows, columns=["customer_id", "number", "day", "amount", "currency"])
    frame["amount"] = frame["amount"].astype("float64")
    frame["day"] = frame["day"].astype("int64")
    return frame


def order_findings(scope: Scope, as_of: dt.date, t: dict[str, dict[str, Any]]) -> list[Finding]:
    from .indicators import Finding, reason

    cfg = t["order_anomaly"]
    if not cfg["enabled"]:
        return []
    recent_days, history_days, surge_days = int(cfg["recent_days"]), int(cfg["history_days"]), int(cfg["surge_days"])
    window = max(recent_days, surge_days)
    orders = read_orders(scope, as_of - dt.timedelta(days=history_days + window), as_of)
    if orders.empty:
        return []
    today = (as_of - EPOCH).days
    orders["age"] = today - orders["day"]
    reasons: dict[int, list[dict[str, Any]]] = {}
    values: dict[int, float] = {}

    # 1. an unusual order against the median and MAD of the history (robust z on the log scale)
    hist = orders[(orders["age"] >= recent_days) & (orders["age"] < history_days)]
    recent = orders[orders["age"] < recent_days]
    if len(hist) and len(recent):
        keys = ["customer_id", "currency"]
        hist = hist.assign(log=np.log(hist["amount"]))
        stats = hist.groupby(keys)["amount"].agg(median="median", n="size")
        stats["log_median"] = hist.groupby(keys)["log"].median()
        dev = hist.join(stats["log_median"], on=keys)
        stats["log_mad"] = (dev["log"] - dev["log_median"]).abs().groupby([dev[k] for k in keys]).median()
        cand = recent.join(stats, on=keys, how="inner")
        cand = cand[cand["n"] >= cfg["min_orders"]]
        cand = cand.assign(ratio=cand["amount"] / cand["median"])
        spread = MAD_SCALE * cand["log_mad"]
        excess = np.log(cand["amount"]) - cand["log_median"]
        cand = cand.assign(z=np.where(spread > 0, excess / spread.where(spread > 0, 1), np.where(excess > 0, np.inf,
                                                                                                   0.0)))
        hits = cand[(cand["ratio"] >= cfg["ratio"]) & (cand["z"] >= cfg["robust_z"])]
        for row in hits.sort_values(["customer_id", "ratio"], ascending=[True, False]).itertuples():
            cid = int(row.customer_id)
            if len(reasons.get(cid, [])) >= 3:
                continue
            reasons.setdefault(cid, []).append(reason(
                "order_vs_median", number=row.number, ratio=float(row.ratio), median=f"{row.median:,.2f}",
                currency=row.currency, z=min(float(row.z), 999.0)))
            values[cid] = max(values.get(cid, 0.0), float(row.ratio))

    # 2. a surge over the last surge_days against the customer's earlier windows
    windows = history_days // surge_days
    orders["w"] = orders["age"] // surge_days
    per = orders[orders["w"] <= windows].groupby(["customer_id", "w"])["amount"].agg(total="sum", count="size",
                                                                                     largest="max")
    first = orders.groupby("customer_id")["w"].max()  # the oldest window with an order
    full = _windows(per, first.clip(upper=windows))
    past = full[full.index.get_level_values("w") >= 1]
    med = past.groupby(level="customer_id")[["total", "count"]].median()
    top = past.groupby(level="customer_id")[["total", "count"]].max()
    n_past = past.groupby(level="customer_id").size()
    last = full[full.index.get_level_values("w") == 0].droplevel("w")
    surge = (last.join(med.add_suffix("_med"), how="inner").join(top.add_suffix("_max"))
             .join(n_past.rename("windows")))
    surge = surge[(surge["windows"] >= 3) & (surge["count"] >= 3)]
    for cid, row in surge.iterrows():
        cid = int(cid)
        if (row["total_med"] > 0 and row["total"] / row["total_med"] >= cfg["surge_ratio"]
                and row["total"] > row["total_max"]):
            reasons.setdefault(cid, []).append(reason("order_surge_amount", days=surge_days,
                                                      ratio=float(row["total"] / row["total_med"])))
            values[cid] = max(values.get(cid, 0.0), float(row["total"] / row["total_med"]))
        elif (row["count_med"] > 0 and row["count"] / row["count_med"] >= cfg["surge_ratio"]
              and row["count"] > row["count_max"]):
            reasons.setdefault(cid, []).append(reason("order_surge_count", days=surge_days, count=int(row["count"]),
                                                      median=float(row["count_med"])))
            values[cid] = max(values.get(cid, 0.0), float(row["count"] / row["count_med"]))

    # 3. a change of pattern: isolation forest where the history allows
    currency = orders.groupby("customer_id")["currency"].first()
    for cid, score, months in _isolated(full, int(cfg["isolation_min_months"]), explained=set(reasons)):
        row = last.loc[cid]
        reasons.setdefault(cid, []).append(reason(
            "order_pattern", days=surge_days, count=int(row["count"]), total=f"{row['total']:,.2f}",
            currency=currency.get(cid, ""), months=months, score=score))
        values.setdefault(cid, abs(score))

    return [Finding("order_anomaly", cid, cfg["severity"], items, values.get(cid, 0.0))
            for cid, items in sorted(reasons.items())]


def _windows(per: pd.DataFrame, oldest: pd.Series) -> pd.DataFrame:
    """Every window of every customer from its first order to now, empty windows as zeros."""
    if per.empty:
        return per
    idx = pd.MultiIndex.from_tuples(
        [(cid, w) for cid, top in oldest.items() for w in range(int(top) + 1)], names=["customer_id", "w"])
    return per.reindex(idx, fill_value=0)


def _isolated(full: pd.DataFrame, min_windows: int, explained: set[int]) -> list[tuple[int, float, int]]:
    from sklearn.ensemble import IsolationForest

    if full.empty:
        return []
    feats = pd.DataFrame({"count": full["count"].astype(float), "total": np.log1p(full["total"].astype(float)),
                          "largest": np.log1p(full["largest"].astype(float))}, index=full.index)
    w = feats.index.get_level_values("w")
    past, last = feats[w >= 1], feats[w == 0].droplevel("w")
    n = past.groupby(level="customer_id").size()
    eligible = n[n >= min_windows].index.intersection(last.index)
    if not len(eligible):
        return []
    lo = past.groupby(level="customer_id").min().loc[eligible]
    hi = past.groupby(level="customer_id").max().loc[eligible]
    cur = last.loc[eligible]
    # The forest is the expensive part (a fit is ~0.1-0.3 s): it runs only where the latest window is outside
    # the customer's own range on the number of orders or their total, by at least half again, and that
    # no simpler detector has already explained.
    spread = np.log(1.5)
    outside = ((cur["count"] > 1.5 * hi["count"]) | (cur["count"] < lo["count"] / 1.5)
               | (cur["total"] > hi["total"] + spread) | (cur["total"] < lo["total"] - spread))
    out = []
    for cid in outside[outside].index:
        if cid in explained:
            continue
        history = past.loc[cid].to_numpy()
        windows = np.vstack([history, cur.loc[[cid]].to_numpy()])
        forest = IsolationForest(n_estimators=50, random_state=0).fit(windows)
        scores = forest.score_samples(windows)
        if scores[-1] < scores[:-1].min() and forest.decision_function(windows[-1:])[0] < 0:
            out.append((int(cid), float(scores[-1]), len(history)))
    return out
