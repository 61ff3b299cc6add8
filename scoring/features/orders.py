"""Order features: volume trend and an anomaly score of the latest orders, one grouped SQL statement.

* ``order_volume_trend``: ordered amount in the last 3 months against a quarter of the 9 months
  before (``vol_3m / (vol_prior_9m / 3) - 1``); NaN without orders in the earlier 9 months.
* ``order_anomaly_z``: the largest order of the last 30 days in standard deviations above the mean
  order of the 12 months before it ((max - mean) / sd). Needs at least ``MIN_BASE_ORDERS`` earlier
  orders; clipped to [-10, 50] so that one absurd order does not dominate a linear model.

Cancelled orders are left out (the cancellation date is not recorded, so a cancelled order is treated
as never placed). Orders dated after t are unknown at t.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from receivables.models import Order

from .scope import Scope, fetch, windows

MIN_BASE_ORDERS = 5
Z_CLIP = (-10.0, 50.0)


def order_aggregates(organization_id: int, as_of: dt.date, scope: Scope) -> pd.DataFrame:
    orders = Order._meta.db_table
    o_scope, params = scope.sql("o.customer_id")
    params.update(windows(as_of), org=organization_id)
    base = "o.order_date > %(d13m)s AND o.order_date <= %(d1m)s"
    sql = f"""
        SELECT o.customer_id, o.currency,
               SUM(CASE WHEN o.order_date > %(d3m)s THEN o.amount ELSE 0 END) AS vol_3m,
               SUM(CASE WHEN o.order_date > %(d12m)s AND o.order_date <= %(d3m)s THEN o.amount ELSE 0 END)
                   AS vol_prior,
               MAX(CASE WHEN o.order_date > %(d1m)s THEN o.amount END) AS max_recent,
               SUM(CASE WHEN {base} THEN 1 ELSE 0 END) AS n_base,
               SUM(CASE WHEN {base} THEN o.amount ELSE 0 END) AS s_base,
               SUM(CASE WHEN {base} THEN o.amount * o.amount ELSE 0 END) AS ss_base
        FROM {orders} o
        WHERE o.organization_id = %(org)s AND o.order_date <= %(t)s AND o.order_date > %(d13m)s
          AND o.status <> 'cancelled'{o_scope}
        GROUP BY o.customer_id, o.currency
    """  # noqa: S608
    columns, rows = fetch(sql, params)
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns[2:]:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def order_features(agg: pd.DataFrame, rates: dict[str, float]) -> pd.DataFrame:
    if agg.empty:
        return pd.DataFrame(columns=["order_volume_trend", "order_anomaly_z"],
                            index=pd.Index([], name="customer_id"), dtype="float64")
    agg = agg.copy()
    rate = agg["currency"].map(rates).astype("float64")
    agg["vol_3m"] *= rate
    agg["vol_prior"] *= rate
    g = agg.groupby("customer_id")
    vol = g[["vol_3m", "vol_prior"]].sum()
    out = pd.DataFrame(index=vol.index)
    quarterly = vol["vol_prior"] / 3
    out["order_volume_trend"] = (vol["vol_3m"] / quarterly - 1).where(quarterly > 0)
    # z-score within each currency (amounts of one currency are comparable), worst currency kept
    n = agg["n_base"]
    mean = agg["s_base"] / n.where(n > 0)
    var = (agg["ss_base"] / n.where(n > 0) - mean**2).clip(lower=0) * n / (n - 1).where(n > 1)
    sd = np.sqrt(var)
    z = ((agg["max_recent"] - mean) / sd.where(sd > 0)).where(n >= MIN_BASE_ORDERS)
    out["order_anomaly_z"] = z.groupby(agg["customer_id"]).max().clip(*Z_CLIP)
    out.index.name = "customer_id"
    return out.astype("float64")
