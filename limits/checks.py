"""The order credit check: one service for pages, the API and events. It sits on an order system's path,
so it reads one customer's own rows only, in one statement PostgreSQL plans once per connection
(``limits.selectors.check_read``); the rates only when a currency is not the base currency, its group's
members' position only when the group has a shared limit, and a held order's row with one INSERT
(``bench/credit_check.py``, docs/benchmarks.md).

Outcome ``release`` or ``hold`` with every reason as a code integrators can act on:

* ``customer_blocked`` / ``customer_on_hold``: a block or hold (manual, dunning, alert) is active;
* ``no_limit``: a customer without a limit (the new-customer gate: no limit before a first review);
* ``over_limit``: exposure (every open invoice and open order, so splitting or copying an order cannot
  dodge it) plus this order beyond the limit and the policy's tolerance;
* ``group_over_limit``: the same against the group's shared limit;
* ``overdue``: age- and grade-weighted overdue beyond the policy's tolerance (not a count of late invoices);
* ``limit_expired``: the last decision's validity has lapsed;
* ``review_overdue``: a review of the customer is past due;
* ``prepayment_required``: the grade's rule asks for prepayment and the order is not paid in advance.

An order paid in advance passes (nothing is at risk). A warning hold releases with a ``warning``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credit_platform.audit import audit_append
from credit_platform.bounds import MONEY_MAX
from credit_platform.errors import AppError, ErrorCode
from credit_platform.models import Organization
from credit_platform.money import ZERO, money
from credit_platform.permissions import actor_has_capability
from credit_platform.roles import Cap
from credit_platform.sql import fetch_prepared
from customers.models import Customer

from . import policy as rules
from .models import CreditPolicy, LimitDecision, OrderCheck
from .selectors import Standing, check_read, fx_for, group_exposure, position_currencies, standing_from_rows

REASONS = ("customer_blocked", "customer_on_hold", "no_limit", "over_limit", "group_over_limit", "overdue",
           "limit_expired", "review_overdue", "prepayment_required")


@dataclass
class CheckResult:
    outcome: str
    reasons: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    exposure_base: Decimal = ZERO
    limit_base: Decimal | None = None
    amount_base: Decimal = ZERO
    check_id: int | None = None
    checked: bool = True

    @property
    def codes(self) -> list[str]:
        return [r["code"] for r in self.reasons]

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reasons": self.reasons, "warnings": self.warnings,
                "exposure": str(self.exposure_base), "limit": None if self.limit_base is None else str(self.limit_base),
                "amount": str(self.amount_base), "check_id": self.check_id, "checked": self.checked}


# The policy in force, per organization, for this many seconds: the check reads it on every order, and a
# policy change (rare, by a credit manager) reaching the checks a few seconds later is acceptable.
POLICY_TTL_SECONDS = 5.0
_policies: dict[int, tuple[float, CreditPolicy]] = {}


def _policy(organization: Organization) -> CreditPolicy:
    from .services import policy_current

    now = time.monotonic()
    cached = _policies.get(organization.pk)
    if cached is not None and now - cached[0] < POLICY_TTL_SECONDS:
        return cached[1]
    policy = policy_current(organization)
    _policies[organization.pk] = (now, policy)
    return policy


def credit_check(organization: Organization, *, customer: Customer | int, amount: Decimal, currency: str,
                 checkpoint: str, order: Any = None, order_number: str = "", prepaid: bool = False,
                 as_of: dt.date | None = None, record: bool = True, record_releases: bool = False,
                 policy: CreditPolicy | None = None, actor: Any = None) -> CheckResult:
    """Check an order (new, or an existing ``order``: its own amount is not counted twice). With ``record``
    a held result is written to the held-order queue (and a released one too with ``record_releases``:
    an order system answered "release" needs no row, and not writing one saves a commit per order)."""
    if checkpoint not in OrderCheck.Checkpoint.values:
        raise ValidationError({"checkpoint": _("'%(value)s' is not one of %(choices)s.") % {
            "value": str(checkpoint)[:40], "choices": ", ".join(OrderCheck.Checkpoint.values)}})
    amount = Decimal(amount)
    if not amount.is_finite() or not Decimal("0.01") <= amount <= MONEY_MAX:
        raise ValidationError({"amount": _("'%(value)s' must be between 0.01 and %(max)s.") % {
            "value": amount, "max": MONEY_MAX}})
    day = as_of or organization.local_date()
    policy = policy or _policy(organization)
    customer_id = customer if isinstance(customer, int) else customer.pk
    read = check_read(organization, customer_id, day, exclude_order_id=getattr(order, "pk", None))
    if read is None:
        raise AppError(ErrorCode.NOT_FOUND, "customer: no such customer in your organization.", status=404)
    state = read.state
    fx = fx_for(organization, day, {currency, state["currency"], *position_currencies(read.rows)})
    standing = standing_from_rows(read.rows, fx)
    amount_base = fx.convert(amount, currency)
    limit_base = None if state["credit_limit"] is None else fx.convert(state["credit_limit"], state["currency"])
    result = CheckResult(outcome=OrderCheck.Outcome.RELEASE, exposure_base=standing.exposure, limit_base=limit_base,
                         amount_base=amount_base)
    if checkpoint not in policy.checkpoints:
        result.checked = False
    elif prepaid:
        result.warnings.append({"code": "prepaid", "message": _("Paid in advance: nothing at risk.")})
    else:
        _reasons(result, policy, state, standing, read.members, organization, day)
    if result.reasons:
        result.outcome = OrderCheck.Outcome.HOLD
    if record and (result.outcome == OrderCheck.Outcome.HOLD or record_releases):
        result.check_id = _record(organization, customer_id, order, order_number, checkpoint, amount, currency,
                                  prepaid, day, result)
    return result


_INSERT_COLUMNS = ("organization_id", "customer_id", "order_id", "order_number", "checkpoint", "amount", "currency",
                   "amount_base", "exposure_base", "limit_base", "prepaid", "outcome", "reasons", "queue", "as_of",
                   "resolution_reason")


def _record(organization: Organization, customer_id: int, order: Any, order_number: str, checkpoint: str,
            amount: Decimal, currency: str, prepaid: bool, day: dt.date, result: CheckResult) -> int:
    """The check's row (the held-order queue reads the held ones): one INSERT ... RETURNING id planned once
    per connection, the same row ``OrderCheck.objects.create`` wrote (``created_at`` is the column's
    default)."""
    table = connection.ops.quote_name(OrderCheck._meta.db_table)
    held = result.outcome == OrderCheck.Outcome.HOLD
    values = (organization.pk, customer_id, getattr(order, "pk", None),
              order_number or (str(order) if order is not None else ""), checkpoint, money(amount), currency,
              result.amount_base, result.exposure_base, result.limit_base, prepaid, str(result.outcome),
              json.dumps(result.reasons + result.warnings),
              OrderCheck.Queue.HELD.value if held else OrderCheck.Queue.NONE.value, day, "")
    rows = fetch_prepared(
        f"INSERT INTO {table} ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join(['%s'] * len(values))}) "  # noqa: S608
        "RETURNING id", values)
    return int(rows[0][0])


def _reasons(result: CheckResult, policy: CreditPolicy, state: dict[str, Any], standing: Standing,
             members: list[int], organization: Organization, day: dt.date) -> None:
    def add(code: str, message: str, **details: Any) -> None:
        result.reasons.append({"code": code, "message": message, **{k: str(v) for k, v in details.items()}})

    rule = rules.grade_rule(policy, state["grade"])
    if state["block"] or state["status"] == Customer.Status.BLOCKED:
        add("customer_blocked", _("The customer is blocked."))
    elif state["hold"] or state["status"] == Customer.Status.ON_HOLD:
        add("customer_on_hold", _("The customer is on credit hold."))
    if state["warn"]:
        result.warnings.append({"code": "warning_hold", "message": _("A warning is recorded on this customer.")})
    total = standing.exposure + result.amount_base
    limit = result.limit_base
    if state["decision_kind"] == LimitDecision.Kind.EXPIRED or (
            state["valid_until"] is not None and state["valid_until"] < day):
        add("limit_expired", _("The customer's limit has expired: a new decision is needed."),
            valid_until=state["valid_until"] or "")
    elif limit is None or limit <= 0:
        add("no_limit", _("The customer has no credit limit (new customers need a first review)."))
    else:
        allowed = money(limit * (1 + policy.over_limit_tolerance))
        if total > allowed:
            add("over_limit", _("Exposure %(total)s with this order exceeds the limit %(limit)s plus the "
                                "tolerance (%(allowed)s).") % {"total": total, "limit": limit, "allowed": allowed},
                exposure=total, limit=limit, allowed=allowed)
    if state["group_id"] is not None:
        group_limit = state["group_limit"]
        if group_limit is not None:
            group_total = group_exposure(organization, members, day) + result.amount_base
            allowed = money(group_limit * (1 + policy.over_limit_tolerance))
            if group_total > allowed:
                add("group_over_limit", _("The group's exposure %(total)s with this order exceeds its shared "
                                          "limit %(limit)s plus the tolerance.") % {"total": group_total,
                                                                                   "limit": group_limit},
                    exposure=group_total, limit=group_limit)
    weighted = money(standing.weighted_overdue * rule.overdue_weight)
    if weighted > policy.overdue_tolerance:
        add("overdue", _("Weighted overdue %(weighted)s (amount x age x grade %(grade)s) is beyond the "
                         "tolerance %(tol)s.") % {"weighted": weighted, "grade": rule.grade,
                                                  "tol": policy.overdue_tolerance},
            overdue=standing.overdue, weighted=weighted, tolerance=policy.overdue_tolerance)
    if state["review_due"] is not None:
        add("review_overdue", _("A review of the customer was due on %(day)s.") % {"day": state["review_due"]},
            due_on=state["review_due"])
    if rule.prepayment_share > 0:
        add("prepayment_required", _("Grade %(grade)s requires %(share)s%% prepayment.") % {
            "grade": rule.grade, "share": (rule.prepayment_share * 100).normalize()},
            share=rule.prepayment_share)


@transaction.atomic
def held_order_resolve(organization: Organization, check: OrderCheck, *, release: bool, reason: str,
                       actor: Any) -> OrderCheck:
    """An authorised user (``limits.approve``) releases or rejects a held order, with a reason."""
    if not actor_has_capability(actor, organization.pk, Cap.LIMITS_APPROVE):
        raise AppError(ErrorCode.PERMISSION_DENIED, _("Your role may not release or reject held orders."),
                       status=403)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the order is released or rejected.")})
    locked = OrderCheck.objects.for_organization(organization).select_for_update().filter(pk=check.pk).first()
    if locked is None:
        raise AppError(ErrorCode.NOT_FOUND, "No such held order.", status=404)
    if locked.queue != OrderCheck.Queue.HELD:
        raise AppError(ErrorCode.CONFLICT, _("This order is no longer held."), status=409)
    locked.queue = OrderCheck.Queue.RELEASED if release else OrderCheck.Queue.REJECTED
    locked.resolved_by = actor if getattr(actor, "is_authenticated", False) else None
    locked.resolved_at, locked.resolution_reason = timezone.now(), reason[:2000]
    locked.save(update_fields=["queue", "resolved_by", "resolved_at", "resolution_reason"])
    audit_append(organization=organization, actor=actor,
                 action="held_order.released" if release else "held_order.rejected", obj=locked,
                 before={"queue": "held", "reasons": [r["code"] for r in locked.reasons]},
                 after={"queue": locked.queue, "customer": locked.customer_id, "order": locked.order_number,
                        "amount": locked.amount, "currency": locked.currency}, reason=reason)
    return locked
