"""Writing a generated portfolio into an organization, through the same import pipeline as files:
the demo is validated by the rules a client's data must pass."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pandas as pd
from django.db import transaction

from credit_platform.audit import audit_append
from credit_platform.imports.engine import import_frame
from credit_platform.models import Organization
from limits.demo import load_credit, split_customer_frame
from receivables.dunning.policy import dunning_policy_ensure_default

from .generator import DemoPortfolio

logger = logging.getLogger(__name__)


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    return out


@transaction.atomic
def load_portfolio(organization: Organization, portfolio: DemoPortfolio,
                   progress: Callable[[str], None] | None = None) -> dict[str, int]:
    say = progress or (lambda msg: None)
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    # FX rates first: the documents in foreign currencies need a rate on or before their dates.
    fx = portfolio.fx_rates.assign(source="demo")
    counts["fx_rates"] = import_frame(organization=organization, kind="fx_rates", frame=_text(fx)).created
    # Groups and their members: the customers import creates groups named in the file.
    customers = portfolio.customers
    group_ids = portfolio.groups["external_id"].to_numpy()
    group_names = portfolio.groups["name"].to_numpy()
    idx = customers["group_idx"].to_numpy()
    frame = customers[[c for c in customers.columns if not c.startswith("_") and c != "group_idx"]].copy()
    frame["group_external_id"] = [group_ids[i] if i >= 0 else "" for i in idx]
    frame["group_name"] = [group_names[i] if i >= 0 else "" for i in idx]
    frame, credit = split_customer_frame(frame)  # limits and holds are decisions: loaded by the limits app
    steps = [
        ("customers", frame),
        ("statements", portfolio.statements),
        ("signals", portfolio.signals),
        ("orders", portfolio.orders),
        ("invoices", portfolio.invoices.drop(columns=["_customer_idx", "_amount"])),
        ("credit_notes", portfolio.credit_notes),
        ("payments", portfolio.payments),
    ]
    for kind, data in steps:
        t = time.perf_counter()
        result = import_frame(organization=organization, kind=kind, frame=_text(data))
        counts[kind] = result.created
        say(f"  {kind:<13} {result.created:>8,} rows in {time.perf_counter() - t:5.1f}s")
    counts.update(load_credit(organization, credit, portfolio.config.as_of))
    dunning_policy_ensure_default(organization)
    audit_append(organization=organization, actor=None, action="demo.seeded", obj=organization,
                 after={"seed": portfolio.config.seed, "as_of": portfolio.config.as_of, "counts": counts})
    logger.debug("demo portfolio loaded in %.1fs", time.perf_counter() - t0)
    return counts
