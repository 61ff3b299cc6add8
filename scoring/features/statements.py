"""Financial-statement features: ratios of the latest statement available on the as-of date, their
change against the statement before it, and the statement's age.

Availability rule (no look-ahead): a statement counts from ``period_end + STATEMENT_LAG_DAYS``
(120 days), whatever the day it was entered. Annual accounts reach trade creditors about four months
after the year end (filing deadlines run from 3 to 12 months; credit insurers and bureaus work with
~4 months), and the demo generator publishes them on that day. The entry date (``created_at``) is
not used because historical statements are usually back-filled in one import, which would make
every past snapshot look statement-less.

Ratios come from ``customers.statements.ratios_frame`` (vectorised, one definition for the customer
page, the imports and scoring), plus ``equity_ratio`` = equity / total assets, which unlike
debt/equity stays defined for negative equity.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from customers import statements
from customers.models import FinancialStatement

from .scope import Scope

STATEMENT_LAG_DAYS = 120
RATIOS = ["current_ratio", "quick_ratio", "debt_to_equity", "interest_coverage", "net_margin", "roa",
          "ocf_to_current_liabilities", "altman_z2"]
COLUMNS = [*RATIOS, "equity_ratio", "revenue_growth", "altman_z2_change", "net_margin_change",
           "statement_age_days"]


def available_statements(organization_id: int, as_of: dt.date, scope: Scope) -> pd.DataFrame:
    cutoff = as_of - dt.timedelta(days=STATEMENT_LAG_DAYS)
    rows = (
        FinancialStatement.objects.for_organization(organization_id)
        .filter(period_end__lte=cutoff, **scope.filter_kwargs())
        .order_by()
        .values_list("customer_id", "period_end", "period_months", *statements.AMOUNT_FIELDS)
    )
    return pd.DataFrame(list(rows), columns=["customer_id", "period_end", "period_months",
                                             *statements.AMOUNT_FIELDS])


def statement_features(frame: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS, index=pd.Index([], name="customer_id"), dtype="float64")
    f = frame.copy()
    for col in statements.AMOUNT_FIELDS:
        f[col] = pd.to_numeric(f[col], errors="coerce").astype("float64")
    f["period_end"] = pd.to_datetime(f["period_end"])
    r = statements.ratios_frame(f)
    r["equity_ratio"] = f["equity"] / f["total_assets"]
    r["annual_revenue"] = f["revenue"] * 12 / f["period_months"].astype("float64")
    r["customer_id"] = f["customer_id"].to_numpy()
    r["period_end"] = f["period_end"].to_numpy()
    r = r.sort_values(["customer_id", "period_end"], ascending=[True, False])
    rank = r.groupby("customer_id").cumcount()
    latest = r[rank == 0].set_index("customer_id")
    prior = r[rank == 1].set_index("customer_id").reindex(latest.index)
    out = latest[[*RATIOS, "equity_ratio"]].copy()
    out["revenue_growth"] = (latest["annual_revenue"] / prior["annual_revenue"] - 1).where(
        prior["annual_revenue"] > 0)
    out["altman_z2_change"] = latest["altman_z2"] - prior["altman_z2"]
    out["net_margin_change"] = (latest["net_margin"] - prior["net_margin"]) * 100  # percentage points
    out["statement_age_days"] = (pd.Timestamp(as_of) - latest["period_end"]).dt.days.astype("float64")
    out.index.name = "customer_id"
    return out.replace([np.inf, -np.inf], np.nan).astype("float64")
