"""Default dates, observation snapshots and labels for training and backtesting.

Default (DESIGN.md): insolvency, or 90+ days past due. A customer counts as defaulted when its
status is ``in_default``; the *date* of its default is derived from the data, because the status
itself carries no date:

1. the first insolvency filing observed for it, or
2. the first day one of its invoices was 90 days past due and still not fully settled
   (due date + 90, whatever happened later),

whichever came first; when neither exists yet (default declared on fresh arrears) the due date of
its oldest invoice still unpaid (the day non-payment began); without any invoice, the day the
customer record last changed.

Snapshots (``observation_dates``): quarter ends. At observation date t the population is every
customer that had an invoice issued in the 12 months up to t (an active relationship) and had not
defaulted on or before t. Label ``default_12m`` = 1 when the customer's default date falls in
(t, t + 365 days]. Only dates whose 12-month outcome window has fully passed by the as-of date are
used, so every label is final.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from credit_platform.models import Organization
from customers.models import Customer, ExternalSignal
from receivables.balances import invoice_balances
from receivables.models import Invoice

from .features import BATCH_TABLES, Scope, compute_features
from .features.scope import days_between, ensure_statistics, fetch

DPD_DEFAULT_DAYS = 90
OUTCOME_DAYS = 365
TARGET = "default_12m"


def default_dates(organization: Organization, as_of: dt.date, scope: Scope | None = None) -> pd.Series:
    """Default date of every customer of the scope with status in_default (index customer_id)."""
    ensure_statistics(BATCH_TABLES)
    defaulted = dict(
        Customer.objects.for_organization(organization)
        .filter(status=Customer.Status.IN_DEFAULT, **(scope or Scope.all()).filter_kwargs("id"))
        .values_list("id", "updated_at")
    )
    if not defaulted:
        return pd.Series(dtype="datetime64[ns]", name="default_date")
    scope = Scope.of(list(defaulted))
    filings = (
        ExternalSignal.objects.for_organization(organization)
        .filter(kind=ExternalSignal.Kind.INSOLVENCY_FILING, observed_on__lte=as_of, **scope.filter_kwargs())
        .order_by().values_list("customer_id", "observed_on")
    )
    filed = pd.DataFrame(list(filings), columns=["customer_id", "day"])
    filed_first = pd.to_datetime(filed["day"]).groupby(filed["customer_id"]).min()

    # every invoice on the book at t with its settlement date (receivables.balances; NULL while open)
    book, params = invoice_balances(
        organization.pk, as_of, open_only=False, settled_on=True, per_invoice=True, **scope.balance_kwargs()
    ).named("bal")
    params["t"] = as_of
    sql = f"""
        WITH s AS (SELECT customer_id, due_date, settled_on FROM ({book}) b)
        SELECT customer_id,
               MIN(CASE WHEN {days_between("COALESCE(settled_on, %(t)s)", "due_date")} >= {DPD_DEFAULT_DAYS}
                        THEN due_date END) AS first_90,
               MIN(CASE WHEN settled_on IS NULL THEN due_date END) AS oldest_unpaid
        FROM s GROUP BY customer_id
    """  # noqa: S608
    columns, rows = fetch(sql, params)
    arrears = pd.DataFrame(rows, columns=columns).set_index("customer_id")
    first_90 = pd.to_datetime(arrears["first_90"]) + pd.Timedelta(days=DPD_DEFAULT_DAYS)
    oldest_unpaid = pd.to_datetime(arrears["oldest_unpaid"])

    index = pd.Index(sorted(defaulted), name="customer_id")
    out = pd.concat([filed_first.reindex(index), first_90.reindex(index)], axis=1).min(axis=1)
    out = out.fillna(oldest_unpaid.reindex(index))
    changed = pd.Series({k: pd.Timestamp(v).tz_localize(None).normalize() if v else pd.NaT
                         for k, v in defaulted.items()}).reindex(index)
    out = out.fillna(changed).clip(upper=pd.Timestamp(as_of))
    return out.rename("default_date")


def observation_dates(first_activity: dt.date, as_of: dt.date, *, months: int = 3,
                      min_history_days: int = 180) -> list[dt.date]:
    """Period ends (every ``months`` months, on quarter ends by default) with at least
    ``min_history_days`` of history before them and a complete 12-month outcome window after."""
    start = pd.Timestamp(first_activity) + pd.Timedelta(days=min_history_days)
    end = pd.Timestamp(as_of) - pd.Timedelta(days=OUTCOME_DAYS)
    if start > end:
        return []
    freq = {1: "ME", 3: "QE", 6: "2QE", 12: "YE"}.get(months, f"{months}ME")
    return [d.date() for d in pd.date_range(start, end, freq=freq)]


def first_activity(organization: Organization) -> dt.date | None:
    first = Invoice.objects.for_organization(organization).order_by("issue_date").values_list(
        "issue_date", flat=True).first()
    return first


def snapshot(organization: Organization, t: dt.date, defaults: pd.Series) -> pd.DataFrame:
    """Features at t for the population at t, with the 12-month label. Credit limits and risk levels
    are the ones valid at t (``scoring.history``), never today's."""
    fs = compute_features(organization, t, dated_values=True)
    frame = fs.table
    active = frame["invoices_due_12m"] > 0
    recent = _invoiced_since(organization, t - dt.timedelta(days=365), t)
    active = active | frame.index.isin(recent)
    dd = defaults.reindex(frame.index)
    before = dd.notna() & (dd <= pd.Timestamp(t))
    frame = frame[active & ~before].copy()
    dd = dd.reindex(frame.index)
    horizon = pd.Timestamp(t) + pd.Timedelta(days=OUTCOME_DAYS)
    frame[TARGET] = (dd.notna() & (dd > pd.Timestamp(t)) & (dd <= horizon)).astype(int)
    frame.insert(0, "as_of", pd.Timestamp(t))
    return frame.reset_index()


def _invoiced_since(organization: Organization, start: dt.date, end: dt.date) -> np.ndarray:
    ids = (
        Invoice.objects.for_organization(organization)
        .filter(issue_date__gt=start, issue_date__lte=end).order_by().values_list("customer_id", flat=True).distinct()
    )
    return np.fromiter(ids, dtype=np.int64)


def training_table(organization: Organization, as_of: dt.date, *, months: int = 3,
                   log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Stacked snapshots with labels: columns as_of, customer_id, the features, default_12m."""
    emit = log or (lambda _m: None)
    first = first_activity(organization)
    if first is None:
        return pd.DataFrame()
    defaults = default_dates(organization, as_of)
    frames = []
    for t in observation_dates(first, as_of, months=months):
        snap = snapshot(organization, t, defaults)
        emit(f"  snapshot {t}: {len(snap)} customers, {int(snap[TARGET].sum())} defaults within 12 months")
        frames.append(snap)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
