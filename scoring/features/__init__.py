"""Features per customer as of a date, computed set-based for a whole scope of customers.

``compute_features(organization, as_of, scope)`` runs a fixed number of statements whatever the
number of customers: one grouped SQL statement over invoices and allocations (payment behaviour),
one over orders (volume, anomalies), one for open orders, one read each of the available financial
statements, of the external signals and of the customers, then pandas joins them. The result has one
row per customer of the scope (index ``customer_id``) and one float column per ``FEATURE_NAMES``;
missing values stay NaN (the models have a missing bin / learn where missing goes), and three 0/1
flags make the missing parts explicit: ``no_statement``, ``no_bureau``, ``no_payment_history``.

No look-ahead: every source is cut at the as-of date (see each module for its rule), and with
``dated_values`` (training snapshots) the credit limits and country and sector risk levels are the
ones valid then (``scoring.history``); running the function for a past date gives what was knowable on that date,
which is what training snapshots and backtests rely on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from credit_platform.models import Organization
from credit_platform.money import FxTable
from customers.models import Customer, ExternalSignal, FinancialStatement
from receivables.models import Allocation, Invoice, Order

from . import external, orders, payments, statements
from .catalog import BY_NAME, FEATURE_NAMES, FEATURES, MONOTONE
from .scope import Scope, ensure_statistics

# The tables the feature statements read (their statistics are checked before each computation).
BATCH_TABLES = [m._meta.db_table for m in (Invoice, Allocation, Order, FinancialStatement, ExternalSignal, Customer)]
STALE_STATEMENT_DAYS = 540  # 18 months after period end: the next annual statement is overdue
THIN_FILE_INVOICES = 3

__all__ = ["BY_NAME", "FEATURES", "FEATURE_NAMES", "MONOTONE", "FeatureSet", "Scope", "compute_features"]


@dataclass
class FeatureSet:
    as_of: dt.date
    table: pd.DataFrame  # index customer_id, columns FEATURE_NAMES (float64)
    status: pd.Series  # customer status now (for the in-default override of the score)

    def flags(self) -> list[list[str]]:
        """Per customer, what was missing or thin when it was scored."""
        v = self.table
        checks = {
            "no_statement": v["no_statement"] > 0,
            "stale_statement": v["statement_age_days"] > STALE_STATEMENT_DAYS,
            "no_bureau": v["no_bureau"] > 0,
            "no_payment_history": v["no_payment_history"] > 0,
            "thin_file": (v["invoices_due_12m"] > 0) & (v["invoices_due_12m"] < THIN_FILE_INVOICES),
            "new_customer": v["relationship_years"].isna() | (v["relationship_years"] < 1),
            "no_credit_limit": v["utilisation"].isna(),
        }
        matrix = np.column_stack([m.fillna(False).to_numpy(dtype=bool) for m in checks.values()]) if len(v) else (
            np.zeros((0, len(checks)), dtype=bool))
        names = list(checks)
        return [[names[j] for j in np.flatnonzero(row)] for row in matrix]


def _rates(organization: Organization, as_of: dt.date, documents: set[str], limits: set[str]) -> dict[str, float]:
    """Rates of the documents' currencies (a missing one is ``fx_rate_missing``: imports refuse documents
    without a rate, so this is a deleted rate) and of the customers' limit currencies, where a missing rate
    only leaves the utilisation unknown (NaN) rather than stopping the whole organization's scoring."""
    fx = FxTable.load(organization, as_of, documents | limits)
    rates = {cur: float(fx.rate(cur)) for cur in documents}
    for cur in limits - documents:
        rate = fx.rate_or_none(cur)
        rates[cur] = float("nan") if rate is None else float(rate)
    return rates


def compute_features(organization: Organization, as_of: dt.date, scope: Scope | None = None, *,
                     dated_values: bool = False) -> FeatureSet:
    """``dated_values``: take the credit limits and the country and sector risk levels valid on
    ``as_of`` (``scoring.history``) instead of the current ones; training snapshots do."""
    scope = scope or Scope.all()
    org_id = organization.pk
    ensure_statistics(BATCH_TABLES)
    customers = external.customer_rows(org_id, scope)
    if dated_values:
        customers = external.as_of_values(customers, organization, as_of)
    pay_agg = payments.payment_aggregates(org_id, as_of, scope)
    unbilled = payments.open_orders(org_id, as_of, scope)
    ord_agg = orders.order_aggregates(org_id, as_of, scope)
    documents = set(pay_agg["currency"]) | set(unbilled["currency"]) | set(ord_agg["currency"])
    rates = _rates(organization, as_of, documents, set(customers["currency"]))
    limits = customers["credit_limit"] * customers["currency"].map(rates).astype("float64")

    pay = payments.payment_features(pay_agg, unbilled, rates, limits) if len(pay_agg) or len(unbilled) else None
    parts = [
        pay,
        orders.order_features(ord_agg, rates),
        statements.statement_features(statements.available_statements(org_id, as_of, scope), as_of),
        external.signal_features(external.signal_rows(org_id, as_of, scope)),
        external.profile_features(customers, payments.first_invoice_dates(pay_agg), as_of),
    ]
    frame = pd.DataFrame(index=customers.index)
    for part in parts:
        if part is not None and len(part.columns):
            frame = frame.join(part[[c for c in part.columns if c not in frame.columns]], how="left")
    frame = frame.reindex(columns=FEATURE_NAMES)
    # what "nothing recorded" means for each kind of feature
    for col in ("max_dpd_open", "overdue_amount", "overdue_share", "invoices_due_12m",
                "litigation_12m", "negative_news_12m", "payment_default_12m", "insolvency_filing"):
        frame[col] = frame[col].fillna(0.0)
    has_limit = limits.reindex(frame.index) > 0
    frame["utilisation"] = frame["utilisation"].where(~(frame["utilisation"].isna() & has_limit), 0.0)
    frame["no_statement"] = frame["statement_age_days"].isna().astype("float64")
    frame["no_bureau"] = frame["bureau_score"].isna().astype("float64")
    frame["no_payment_history"] = (frame["invoices_due_12m"] == 0).astype("float64")
    frame = frame[FEATURE_NAMES].astype("float64")
    frame.index.name = "customer_id"
    return FeatureSet(as_of=as_of, table=frame, status=customers["status"])
