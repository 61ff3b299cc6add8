"""Financial statement rules: what a statement must satisfy, and the ratios computed from it.

Both work on one statement (a mapping of field -> Decimal) and, vectorised, on a pandas frame of
many (imports and scoring features), so the rules are written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _

BALANCE_FIELDS = [
    "cash", "receivables", "inventory", "current_assets", "total_assets",
    "current_liabilities", "total_liabilities", "equity",
]
INCOME_FIELDS = ["revenue", "ebit", "ebitda", "interest_expense", "net_income"]
OPTIONAL_FIELDS = ["retained_earnings", "operating_cash_flow"]
AMOUNT_FIELDS = BALANCE_FIELDS + INCOME_FIELDS + OPTIONAL_FIELDS

# Assets must equal liabilities + equity to within 0.5% of total assets (at least 1.00): published
# statements are rounded to thousands, so a strict equality would refuse genuine filings, while
# typos and missing lines are far larger than 0.5%.
BALANCE_TOLERANCE_SHARE = Decimal("0.005")
BALANCE_TOLERANCE_MIN = Decimal("1.00")

# Each rule: (fields it concerns, the first field named in the error, predicate over a frame that is
# True where the statement is WRONG, message). NaN (missing optional value) never violates a rule.
_NON_NEGATIVE = ["cash", "receivables", "inventory", "current_assets", "total_assets",
                 "current_liabilities", "total_liabilities", "revenue", "interest_expense"]


def statement_errors_frame(df: pd.DataFrame) -> list[tuple[int, str, str]]:
    """Rule violations for every row of ``df`` (float or Decimal-convertible columns).

    Returns (row position, column, reason) triples, in row order.
    """
    f = df[AMOUNT_FIELDS].astype("float64") if len(df) else df.reindex(columns=AMOUNT_FIELDS).astype("float64")
    out: list[tuple[int, str, str]] = []

    def add(mask: pd.Series, column: str, reason_fn: Any) -> None:
        out.extend((int(pos), column, reason_fn(f.iloc[pos])) for pos in np.flatnonzero(mask.fillna(False).to_numpy()))

    for col in _NON_NEGATIVE:
        add(f[col] < 0, col, lambda r, c=col: f"{c} cannot be negative (got {r[c]:,.2f})")
    add(f["total_assets"] == 0, "total_assets", lambda r: "total_assets must be greater than zero")
    add(
        f["current_assets"] > f["total_assets"], "current_assets",
        lambda r: f"current_assets {r.current_assets:,.2f} exceed total_assets {r.total_assets:,.2f}",
    )
    parts = f["cash"] + f["receivables"] + f["inventory"]
    add(
        parts > f["current_assets"] * 1.0000001, "current_assets",
        lambda r: f"cash + receivables + inventory ({r.cash + r.receivables + r.inventory:,.2f}) "
        f"exceed current_assets {r.current_assets:,.2f}",
    )
    add(
        f["current_liabilities"] > f["total_liabilities"], "current_liabilities",
        lambda r: f"current_liabilities {r.current_liabilities:,.2f} exceed total_liabilities "
        f"{r.total_liabilities:,.2f}",
    )
    gap = (f["total_assets"] - f["total_liabilities"] - f["equity"]).abs()
    tol = np.maximum(f["total_assets"].abs() * float(BALANCE_TOLERANCE_SHARE), float(BALANCE_TOLERANCE_MIN))
    add(
        gap > tol, "equity",
        lambda r: f"balance sheet does not balance: total_assets {r.total_assets:,.2f} vs total_liabilities "
        f"+ equity {r.total_liabilities + r.equity:,.2f} (difference "
        f"{abs(r.total_assets - r.total_liabilities - r.equity):,.2f}, allowed 0.5%)",
    )
    add(
        f["ebitda"] < f["ebit"], "ebitda",
        lambda r: f"ebitda {r.ebitda:,.2f} is below ebit {r.ebit:,.2f} (depreciation cannot be negative)",
    )
    add(
        f["ebit"] > f["revenue"], "ebit",
        lambda r: f"ebit {r.ebit:,.2f} exceeds revenue {r.revenue:,.2f}",
    )
    out.sort(key=lambda t: t[0])
    return out


def statement_errors(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Violations for one statement as (field, reason)."""
    row = {k: (float(values[k]) if values.get(k) is not None else np.nan) for k in AMOUNT_FIELDS}
    return [(col, reason) for _, col, reason in statement_errors_frame(pd.DataFrame([row]))]


# Altman Z'' (Altman 1995, for private and non-manufacturing firms):
#   Z'' = 6.56 X1 + 3.26 X2 + 6.72 X3 + 1.05 X4
#   X1 = working capital / total assets, X2 = retained earnings / total assets,
#   X3 = EBIT / total assets, X4 = book equity / total liabilities.
# Zones: > 2.60 safe, 1.10 - 2.60 grey, < 1.10 distress.
ALTMAN_SAFE = 2.60
ALTMAN_DISTRESS = 1.10

RATIO_LABELS = {
    "current_ratio": _("Current ratio"),
    "quick_ratio": _("Quick ratio"),
    "debt_to_equity": _("Debt / equity"),
    "interest_coverage": _("Interest coverage"),
    "net_margin": _("Net margin"),
    "roa": _("Return on assets"),
    "ocf_to_current_liabilities": _("Operating cash flow / current liabilities"),
    "altman_z2": _("Altman Z''"),
}


def _div(a: pd.Series, b: pd.Series) -> pd.Series:
    out = a / b.where(b != 0)
    return out.replace([np.inf, -np.inf], np.nan)


def ratios_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Ratios for every statement row. Undefined ratios are NaN, never infinity:
    debt/equity is NaN when equity <= 0 (negative equity is its own warning sign, read from
    ``equity``), interest coverage NaN when there is no interest expense.
    Missing retained earnings fall back to book equity in X2 (documented proxy; flagged by
    ``retained_earnings`` being null)."""
    f = df.astype({c: "float64" for c in AMOUNT_FIELDS if c in df.columns})
    out = pd.DataFrame(index=df.index)
    out["current_ratio"] = _div(f["current_assets"], f["current_liabilities"])
    out["quick_ratio"] = _div(f["current_assets"] - f["inventory"], f["current_liabilities"])
    out["debt_to_equity"] = _div(f["total_liabilities"], f["equity"].where(f["equity"] > 0))
    out["interest_coverage"] = _div(f["ebit"], f["interest_expense"])
    out["net_margin"] = _div(f["net_income"], f["revenue"])
    out["roa"] = _div(f["net_income"], f["total_assets"])
    ocf = f["operating_cash_flow"] if "operating_cash_flow" in f else pd.Series(np.nan, index=f.index)
    out["ocf_to_current_liabilities"] = _div(ocf, f["current_liabilities"])
    retained = f["retained_earnings"] if "retained_earnings" in f else pd.Series(np.nan, index=f.index)
    retained = retained.fillna(f["equity"])
    x1 = _div(f["current_assets"] - f["current_liabilities"], f["total_assets"])
    x2 = _div(retained, f["total_assets"])
    x3 = _div(f["ebit"], f["total_assets"])
    x4 = _div(f["equity"], f["total_liabilities"])
    out["altman_z2"] = 6.56 * x1 + 3.26 * x2 + 6.72 * x3 + 1.05 * x4
    return out


def ratios(values: Mapping[str, Any]) -> dict[str, float | None]:
    row = {k: (float(values[k]) if values.get(k) is not None else np.nan) for k in AMOUNT_FIELDS}
    result = ratios_frame(pd.DataFrame([row])).iloc[0]
    return {k: (None if pd.isna(v) else float(v)) for k, v in result.items()}


def altman_zone(z: float | None) -> str:
    if z is None:
        return "n/a"
    if z > ALTMAN_SAFE:
        return "safe"
    if z >= ALTMAN_DISTRESS:
        return "grey"
    return "distress"
