"""The order credit check: one service for pages, the API and events. It sits on an order system's path,
so it reads one customer's own rows only (a handful of indexed queries, see ``bench/credit_check.py``).

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
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credit_platform.audit import audit_append
from credit_platform.bounds import MONEY_MAX
from credit_platform.errors import AppError, ErrorCode
from credit_platform.models import Organization
from credit_platform.money import ZERO, FxTable, money
from credit_platform.permissions import actor_has_capability
from credit_platform.roles import Cap
from customers.models import Customer

from . import policy as rules
from .models import CreditPolicy, GroupLimit, Hold, LimitDecision, OrderCheck, Review
from .selectors import customer_standing, exposure_by_group

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


def _state(organization: Organization, customer_id: int, as_of: dt.date) -> dict[str, Any]:
    """Holds, the latest decision, an overdue review and the grade: one round trip of four scalar
    subqueries, each served by an index of its table."""
    from django.db.models import Exists, OuterRef, Subquery

    from scoring.models import CurrentScore

    holds = Hold.objects.filter(customer_id=OuterRef("pk"), released_at__isnull=True)
    decision = LimitDecision.objects.filter(customer_id=OuterRef("pk")).order_by("-valid_from", "-pk")
    row = Customer.objects.filter(pk=customer_id, organization=organization).annotate(
        block=Exists(holds.filter(kind=Hold.Kind.BLOCK)),
        hold=Exists(holds.filter(kind=Hold.Kind.HOLD)),
        warn=Exists(holds.filter(kind=Hold.Kind.WARN)),
        decision_kind=Subquery(decision.values("kind")[:1]),
        valid_until=Subquery(decision.values("valid_until")[:1]),
        review_due=Subquery(Review.objects.filter(customer_id=OuterRef("pk"), status=Review.Status.OPEN,
                                                  due_on__lt=as_of).values("due_on")[:1]),
        grade=Subquery(CurrentScore.objects.filter(customer_id=OuterRef("pk")).values("grade")[:1]),
    ).values("id", "status", "currency", "credit_limit", "group_id", "block", "hold", "warn", "decision_kind",
             "valid_until", "review_due", "grade").first()
    if row is None:
        raise AppError(ErrorCode.NOT_FOUND, "customer: no such customer in your organization.", status=404)
    return row


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
    state = _state(organization, customer_id, day)
    standing = customer_standing(organization, customer_id, day,
                                 exclude_order_id=getattr(order, "pk", None))
    currencies = {currency, state["currency"]} - {organization.base_currency}
    fx = FxTable.load(organization, day, currencies) if currencies else FxTable(organization.base_currency, day, {})
    amount_base = fx.convert(amount, currency)
    limit_base = None if state["credit_limit"] is None else fx.convert(state["credit_limit"], state["currency"])
    result = CheckResult(outcome=OrderCheck.Outcome.RELEASE, exposure_base=standing.exposure, limit_base=limit_base,
                         amount_base=amount_base)
    if checkpoint not in policy.checkpoints:
        result.checked = False
    elif prepaid:
        result.warnings.append({"code": "prepaid", "message": _("Paid in advance: nothing at risk.")})
    else:
        _reasons(result, policy, state, standing, organization, day)
    if result.reasons:
        result.outcome = OrderCheck.Outcome.HOLD
    if record and (result.outcome == OrderCheck.Outcome.HOLD or record_releases):
        check = OrderCheck.objects.create(
            organization=organization, customer_id=customer_id, order=order if order is not None else None,
            order_number=order_number or (str(order) if order is not None else ""), checkpoint=checkpoint,
            amount=money(amount), currency=currency, amount_base=amount_base, exposure_base=standing.exposure,
            limit_base=limit_base, prepaid=prepaid, outcome=result.outcome,
            reasons=result.reasons + result.warnings, as_of=day,
            queue=OrderCheck.Queue.HELD if result.outcome == OrderCheck.Outcome.HOLD else OrderCheck.Queue.NONE,
        )
        result.check_id = check.pk
    return result


def _reasons(result: CheckResult, policy: CreditPolicy, state: dict[str, Any], standing: Any,
             organization: Organization, day: dt.date) -> None:
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
        group_limit = GroupLimit.objects.filter(group_id=state["group_id"]).values_list("limit", flat=True).first()
        if group_limit is not None:
            group_total = exposure_by_group(organization, [state["group_id"]], as_of=day).get(
                state["group_id"], ZERO) + result.amount_base
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
