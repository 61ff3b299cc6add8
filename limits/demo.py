"""The demo seed of the limits app: the generated limits loaded as dated decisions (a customer file cannot
carry a limit any more), the generated credit holds as holds, then, after scoring, the nightly results,
pending requests, held orders and reviews due, so that every role has work to see after ``make run``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from credit_platform.audit import AuditEvent, audit_append_many
from credit_platform.models import Organization
from credit_platform.money import FxTable, money
from customers.models import Customer

from .models import Hold, LimitDecision, LimitRequest, Review

DEMO_ACTOR = "demo seed"


def split_customer_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The customers file without what only decisions write (limit) or holds place (on hold): those are
    returned apart, for ``load_credit`` after the import."""
    credit = frame[["external_id", "credit_limit", "status"]].copy()
    out = frame.drop(columns=["credit_limit"]).copy()
    out.loc[out["status"] == Customer.Status.ON_HOLD, "status"] = Customer.Status.ACTIVE
    return out, credit


@transaction.atomic
def load_credit(organization: Organization, credit: pd.DataFrame, as_of: dt.date) -> dict[str, int]:
    """Each generated limit as an approved decision of the demo seed (valid from about half a year ago, so
    some expire within the demo's months), in bulk with one ledger entry per customer; each generated
    credit hold as a hold."""
    from .services import hold_place, policy_ensure_default

    policy = policy_ensure_default(organization=organization)
    ids = dict(Customer.objects.for_organization(organization).values_list("external_id", "pk"))
    currency = dict(Customer.objects.for_organization(organization).values_list("pk", "currency"))
    fx = FxTable.load(organization, as_of)
    rows = credit.dropna(subset=["credit_limit"])
    decisions, customers, events = [], [], []
    for n, (ext, raw) in enumerate(zip(rows["external_id"], rows["credit_limit"], strict=True)):
        cid = ids.get(ext)
        if cid is None or str(raw).strip() == "":
            continue
        limit = money(Decimal(str(raw)))
        rate = fx.rates.get(currency[cid])
        valid_from = as_of - dt.timedelta(days=30 + (n * 37) % 330)
        decisions.append(LimitDecision(
            organization=organization, customer_id=cid, kind=LimitDecision.Kind.APPROVED, limit=limit,
            currency=currency[cid], limit_base=money(limit * rate) if rate is not None else limit,
            valid_from=valid_from, valid_until=valid_from + dt.timedelta(days=365), decided_by=DEMO_ACTOR,
            policy_version=policy.version))
        customers.append(Customer(pk=cid, credit_limit=limit, updated_at=timezone.now()))
        events.append(AuditEvent("limit.decided", ("customers.customer", cid, ext), {"credit_limit": None},
                                 {"credit_limit": limit, "kind": "approved", "decided_by": DEMO_ACTOR},
                                 "demo seed"))
    LimitDecision.objects.bulk_create(decisions, batch_size=2000)
    Customer.objects.bulk_update(customers, ["credit_limit", "updated_at"], batch_size=2000)
    audit_append_many(organization=organization, actor=None, events=events, returning=False)
    held = 0
    for ext in credit.loc[credit["status"] == Customer.Status.ON_HOLD, "external_id"]:
        if ext in ids:
            hold_place(organization, Customer.objects.get(pk=ids[ext]), kind=Hold.Kind.HOLD, actor=None,
                       reason="very late invoices (demo seed)", source=Hold.Source.POLICY)
            held += 1
    return {"decisions": len(decisions), "holds": held}


def seed_work(organization: Organization, as_of: dt.date, *, officer: Any = None) -> dict[str, Any]:
    """After scoring: the nightly step (recommendations, decreases, proposals, expiry, reviews), a few
    requests by the officer, a few open orders checked at confirmation (the held ones wait in the queue)."""
    from receivables.models import Order

    from .checks import credit_check
    from .nightly import nightly_run
    from .services import limit_request_create

    if Review.objects.for_organization(organization).exists():
        return {}  # seeded already
    result = nightly_run(organization, as_of, notify=False)  # the demo's mail is the dunning's letters
    pending = set(LimitRequest.objects.for_organization(organization).filter(status="pending").values_list(
        "customer_id", flat=True))
    made = 0
    for customer in Customer.objects.for_organization(organization).filter(
            status=Customer.Status.ACTIVE, credit_limit__gt=0).exclude(pk__in=pending).order_by("pk")[:6]:
        limit_request_create(organization=organization, customer=customer, actor=officer,
                             requested_limit=money(customer.credit_limit * Decimal("1.5")),
                             source=LimitRequest.Source.OFFICER if officer else LimitRequest.Source.NIGHTLY,
                             reason="larger orders announced (demo)", as_of=as_of)
        made += 1
    held = 0
    for order in Order.objects.for_organization(organization).filter(status=Order.Status.OPEN).order_by(
            "-amount")[:25]:
        check = credit_check(organization, customer=order.customer_id, amount=order.amount,
                             currency=order.currency, checkpoint="confirmation", order=order,
                             order_number=order.number, as_of=as_of)
        held += check.outcome == "hold"
    return {**result.counts(), "requests": made, "held_orders": held}
