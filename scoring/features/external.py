"""External and profile features: bureau score, litigation, insolvency filings, negative news, reported
payment defaults, country and sector risk, size and length of the relationship.

Signals are few per customer (a bureau score a quarter, rare events), so they are read as rows in one
query for the scope and reduced in pandas.

* ``bureau_score``: the latest score observed on or before t and at most ``BUREAU_MAX_AGE_DAYS``
  (400 days: a quarterly feed that missed a whole year is stale) old; ``bureau_score_change`` =
  latest minus the one before it (same age limit).
* ``litigation_12m``, ``negative_news_12m``, ``payment_default_12m``: events observed in the last
  365 days; ``insolvency_filing``: 1 when any filing was observed on or before t.
* ``country_risk`` (OECD 0..7) and ``sector_risk`` (1..5): the current levels, or with ``dated_values``
  (training snapshots) the levels valid at t (``as_of_values``, ``scoring.history``).
* ``relationship_years``: t minus ``customer_since`` (or the first invoice when that is empty);
  ``size_rank``: micro 0 .. large 3.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db.models import Q

from credit_platform.models import Organization
from customers.models import Customer, ExternalSignal

from .scope import Scope

BUREAU_MAX_AGE_DAYS = 400
SIZE_RANK = {"micro": 0, "small": 1, "medium": 2, "large": 3}
EVENT_FEATURES = {
    ExternalSignal.Kind.LITIGATION: "litigation_12m",
    ExternalSignal.Kind.NEGATIVE_NEWS: "negative_news_12m",
    ExternalSignal.Kind.PAYMENT_DEFAULT: "payment_default_12m",
}
COLUMNS = ["bureau_score", "bureau_score_change", *EVENT_FEATURES.values(), "insolvency_filing"]


def signal_rows(organization_id: int, as_of: dt.date, scope: Scope) -> pd.DataFrame:
    K = ExternalSignal.Kind
    wanted = (
        Q(kind=K.BUREAU_SCORE, observed_on__gt=as_of - dt.timedelta(days=BUREAU_MAX_AGE_DAYS))
        | Q(kind__in=list(EVENT_FEATURES), observed_on__gt=as_of - dt.timedelta(days=365))
        | Q(kind=K.INSOLVENCY_FILING)
    )
    rows = (
        ExternalSignal.objects.for_organization(organization_id)
        .filter(wanted, observed_on__lte=as_of, **scope.filter_kwargs())
        .order_by()
        .values_list("customer_id", "kind", "observed_on", "value")
    )
    return pd.DataFrame(list(rows), columns=["customer_id", "kind", "observed_on", "value"])


def signal_features(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS, index=pd.Index([], name="customer_id"), dtype="float64")
    out = pd.DataFrame(index=pd.Index(rows["customer_id"].unique(), name="customer_id"))
    bureau = rows[rows["kind"] == ExternalSignal.Kind.BUREAU_SCORE].assign(
        value=lambda f: pd.to_numeric(f["value"], errors="coerce").astype("float64"),
        observed_on=lambda f: pd.to_datetime(f["observed_on"]),
    ).dropna(subset=["value"])
    bureau = bureau.sort_values(["customer_id", "observed_on"], ascending=[True, False])
    rank = bureau.groupby("customer_id").cumcount()
    latest = bureau[rank == 0].set_index("customer_id")["value"]
    previous = bureau[rank == 1].set_index("customer_id")["value"]
    out["bureau_score"] = latest
    out["bureau_score_change"] = latest - previous
    counts = rows.pivot_table(index="customer_id", columns="kind", values="observed_on", aggfunc="size",
                              fill_value=0)
    for kind, name in EVENT_FEATURES.items():
        out[name] = counts.get(kind, 0)
    out["insolvency_filing"] = counts.get(ExternalSignal.Kind.INSOLVENCY_FILING, 0) > 0
    return out.astype("float64")


def customer_rows(organization_id: int, scope: Scope) -> pd.DataFrame:
    rows = (
        Customer.objects.for_organization(organization_id)
        .filter(**scope.filter_kwargs("id"))
        .order_by("id")
        .values_list("id", "status", "size", "currency", "credit_limit", "customer_since",
                     "country__risk_level", "sector__risk_level", "country_id", "sector_id")
    )
    frame = pd.DataFrame(list(rows), columns=["customer_id", "status", "size", "currency", "credit_limit",
                                              "customer_since", "country_risk", "sector_risk", "country",
                                              "sector"])
    frame["credit_limit"] = pd.to_numeric(frame["credit_limit"], errors="coerce").astype("float64")
    return frame.set_index("customer_id")


def as_of_values(customers: pd.DataFrame, organization: Organization, as_of: dt.date) -> pd.DataFrame:
    """For a past ``as_of``: the credit limits and risk levels valid then instead of today's
    (``scoring.history``); a customer without a dated limit has none (NaN)."""
    from ..history import credit_limits_as_of, risk_levels_as_of

    out = customers.copy()
    limits = credit_limits_as_of(organization, as_of)
    out["credit_limit"] = pd.to_numeric(
        pd.Series({cid: limits.get(cid) for cid in out.index}, index=out.index, dtype="object"),
        errors="coerce").astype("float64")
    out["country_risk"] = out["country"].map(risk_levels_as_of("country", as_of))
    out["sector_risk"] = out["sector"].map(risk_levels_as_of("sector", as_of))
    return out


def profile_features(customers: pd.DataFrame, first_invoice: pd.Series, as_of: dt.date) -> pd.DataFrame:
    out = pd.DataFrame(index=customers.index)
    out["country_risk"] = customers["country_risk"].astype("float64")
    out["sector_risk"] = customers["sector_risk"].astype("float64")
    since = pd.to_datetime(customers["customer_since"]).fillna(first_invoice.reindex(customers.index))
    years = (pd.Timestamp(as_of) - since).dt.days / 365.25
    out["relationship_years"] = years.clip(lower=0).astype("float64")
    out["size_rank"] = customers["size"].map(SIZE_RANK).astype("float64")
    return out.replace([np.inf, -np.inf], np.nan)
