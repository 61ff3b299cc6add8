"""Every write of the limits app: policy versions, limit requests and their approval under the authority
matrix (four eyes), decisions (the only writer of ``Customer.credit_limit``), holds and reviews. Each one
validates, runs in a transaction and appends its audit-ledger entry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credit_platform.audit import AuditEvent, audit_append, audit_append_many
from credit_platform.bounds import MONEY_MAX
from credit_platform.errors import AppError, ErrorCode
from credit_platform.models import Membership, Organization
from credit_platform.money import FxTable, money
from credit_platform.permissions import actor_has_capability
from credit_platform.roles import Cap
from customers.models import Customer, CustomerGroup

from . import policy as rules
from . import reasons
from .models import (
    CreditPolicy,
    GroupLimit,
    Hold,
    LimitApproval,
    LimitDecision,
    LimitRequest,
    Review,
)

POLICY_FIELDS = (
    "rules", "authority", "new_customer_rule", "starter_limit", "no_statement_share", "over_limit_tolerance",
    "overdue_tolerance", "checkpoints", "auto_decrease", "request_expiry_days", "limit_validity_months",
    "downturn", "downturn_terms_factor", "downturn_prepayment_add", "downturn_review_factor",
)
HOLD_STATUS = {Hold.Kind.HOLD: Customer.Status.ON_HOLD, Hold.Kind.BLOCK: Customer.Status.BLOCKED}
# Statuses a hold may move a customer from and back to: a closed or defaulted customer keeps its status.
HOLDABLE = {Customer.Status.ACTIVE, Customer.Status.PROSPECT, Customer.Status.ON_HOLD, Customer.Status.BLOCKED}


def _require(actor: Any, organization_id: int, capability: str) -> None:
    if not actor_has_capability(actor, organization_id, capability):
        raise AppError(ErrorCode.PERMISSION_DENIED,
                       _("Your role may not do this (%(cap)s).") % {"cap": capability}, status=403)


def _label(actor: Any) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(actor.get_username())
    return str(actor) if actor else "system"


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


# --- policy ---------------------------------------------------------------------------------------------


def policy_current(organization: Organization) -> CreditPolicy:
    """The policy in force; the first read of an organization writes the default policy (version 1)."""
    current = CreditPolicy.objects.for_organization(organization).filter(is_current=True).first()
    return current if current is not None else policy_ensure_default(organization=organization)


@transaction.atomic
def policy_ensure_default(*, organization: Organization, actor: Any = None) -> CreditPolicy:
    existing = CreditPolicy.objects.for_organization(organization).filter(is_current=True).first()
    if existing is not None:
        return existing
    policy = CreditPolicy(
        organization=organization, version=1, rules=rules.DEFAULT_RULES, authority=rules.DEFAULT_AUTHORITY,
        checkpoints=rules.DEFAULT_CHECKPOINTS, reason="default policy",
    )
    policy.full_clean()
    policy.save()
    audit_append(organization=organization, actor=actor, action="credit_policy.created", obj=policy,
                 after={f: getattr(policy, f) for f in POLICY_FIELDS}, reason="default policy")
    return policy


@transaction.atomic
def policy_update(*, organization: Organization, actor: Any, reason: str, **changes: Any) -> CreditPolicy:
    """Write the next version of the policy with ``changes`` (credit managers: ``policy.edit``). The
    previous version stays, no longer current; the ledger keeps old and new values of what changed."""
    _require(actor, organization.pk, Cap.POLICY_EDIT)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the policy changes.")})
    current = CreditPolicy.objects.select_for_update().get(pk=policy_current(organization).pk)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("Not a policy field.")})
    if "rules" in changes:
        changes["rules"] = rules.validate_rules(changes["rules"])
    if "authority" in changes:
        changes["authority"] = rules.validate_authority(changes["authority"])
    if "checkpoints" in changes:
        changes["checkpoints"] = rules.validate_checkpoints(changes["checkpoints"])
    new = CreditPolicy(organization=organization, version=current.version + 1, created_by=_user(actor),
                       reason=reason, **{f: getattr(current, f) for f in POLICY_FIELDS})
    for name, value in changes.items():
        setattr(new, name, value)
    new.full_clean(exclude=["is_current"])
    before = {f: getattr(current, f) for f in POLICY_FIELDS}
    after = {f: getattr(new, f) for f in POLICY_FIELDS}
    changed = [f for f in POLICY_FIELDS if str(before[f]) != str(after[f])]
    if not changed:
        return current
    CreditPolicy.objects.filter(pk=current.pk).update(is_current=False)
    new.save()
    from .checks import _policies

    _policies.pop(organization.pk, None)  # this process's order checks read the new version at once
    audit_append(organization=organization, actor=actor, action="credit_policy.changed", obj=new,
                 before={"version": current.version, **{f: before[f] for f in changed}},
                 after={"version": new.version, **{f: after[f] for f in changed}}, reason=reason)
    return new


def policy_set_downturn(*, organization: Organization, on: bool, actor: Any, reason: str) -> CreditPolicy:
    """Downturn mode at once shortens terms, raises prepayment shares and review frequency (see
    ``limits.policy.grade_rule``); switching it off restores the rules as written."""
    return policy_update(organization=organization, actor=actor, reason=reason, downturn=on)


@transaction.atomic
def group_limit_set(*, organization: Organization, group: CustomerGroup, limit: Decimal, actor: Any,
                    reason: str) -> GroupLimit:
    """A limit shared by a group's members (base currency): an approver's decision, in the ledger."""
    _require(actor, organization.pk, Cap.LIMITS_APPROVE)
    if group.organization_id != organization.pk:
        raise AppError(ErrorCode.NOT_FOUND, "No such group.", status=404)
    if not Decimal(0) <= limit <= MONEY_MAX:
        raise ValidationError({"limit": _("Must be between 0 and %(max)s.") % {"max": MONEY_MAX}})
    existing = GroupLimit.objects.select_for_update().filter(group=group).first()
    before = {"limit": existing.limit} if existing else None
    obj = existing or GroupLimit(organization=organization, group=group)
    obj.limit = money(limit)
    obj.updated_at = timezone.now()
    obj.save()
    audit_append(organization=organization, actor=actor, action="group_limit.decided", obj=group,
                 before=before, after={"limit": obj.limit}, reason=reason)
    return obj


# --- requests, approvals, decisions ----------------------------------------------------------------------


def _base_amount(organization: Organization, amount: Decimal, currency: str, as_of: dt.date) -> Decimal:
    if currency == organization.base_currency:
        return money(amount)
    return FxTable.load(organization, as_of, [currency]).convert(amount, currency)


def _grade(organization: Organization, customer_id: int) -> int | None:
    from scoring.models import CurrentScore

    return CurrentScore.objects.filter(organization=organization, customer_id=customer_id).values_list(
        "grade", flat=True).first()


@transaction.atomic
def limit_request_create(*, organization: Organization, customer: Customer, requested_limit: Decimal,
                         actor: Any, source: str, reason: str = "", requested_terms_days: int | None = None,
                         as_of: dt.date | None = None, reason_code: str = "",
                         reason_details: dict[str, Any] | None = None) -> LimitRequest:
    """A request to set a customer's limit (and optionally its terms), routed by the authority matrix.

    Officers need ``limits.request``; an API call or import carrying a limit needs the right to write
    customers (``customers.edit`` / ``data.import``): its limit becomes a request, never a limit. The
    platform's own requests (the nightly run) give their reason as ``reason_code`` and ``reason_details``
    (``limits.reasons``), put into words in the reader's language."""
    needed = {LimitRequest.Source.API: Cap.CUSTOMERS_EDIT, LimitRequest.Source.IMPORT: Cap.IMPORT}.get(
        source, Cap.LIMITS_REQUEST)  # type: ignore[call-overload]
    _require(actor, organization.pk, needed)
    if customer.organization_id != organization.pk:
        raise AppError(ErrorCode.NOT_FOUND, "No such customer.", status=404)
    requested = Decimal(requested_limit)
    if not requested.is_finite() or not Decimal(0) <= requested <= MONEY_MAX:
        raise ValidationError({"requested_limit": _("'%(value)s' must be between 0 and %(max)s.") % {
            "value": requested_limit, "max": MONEY_MAX}})
    if requested_terms_days is not None and not 0 <= int(requested_terms_days) <= 365:
        raise ValidationError({"requested_terms_days": _("Must be between 0 and 365 days.")})
    day = as_of or organization.local_date()
    pending = LimitRequest.objects.for_organization(organization).select_for_update().filter(
        customer=customer, status=LimitRequest.Status.PENDING).first()
    if pending is not None:
        if pending.expires_on < day:
            _expire(organization, [pending], day)
        else:
            raise AppError(ErrorCode.CONFLICT, _(
                "requested_limit: %(customer)s already has a pending limit request (#%(id)s, %(amount)s %(cur)s); "
                "it must be decided first.") % {"customer": customer, "id": pending.pk,
                                                 "amount": pending.requested_limit, "cur": pending.currency},
                details={"field": "requested_limit", "request_id": pending.pk}, status=409)
    policy = policy_current(organization)
    base = _base_amount(organization, requested, customer.currency, day)
    grade = _grade(organization, customer.pk)
    way = rules.route(policy, base, grade)
    from .models import RecommendedLimit

    recommended = RecommendedLimit.objects.filter(organization=organization, customer=customer).values_list(
        "amount", flat=True).first()
    request = LimitRequest(
        organization=organization, customer=customer, currency=customer.currency,
        current_limit=customer.credit_limit, requested_limit=money(requested), requested_limit_base=base,
        requested_terms_days=requested_terms_days, recommended_limit_base=recommended, grade=grade,
        source=source, requested_by=_user(actor), reason=reason[:2000], reason_code=reasons.check_code(reason_code),
        reason_details=reason_details or {}, approvers_required=way.approvers,
        approver_roles=way.roles, policy_version=policy.version,
        expires_on=day + dt.timedelta(days=policy.request_expiry_days),
    )
    request.full_clean()
    request.save()
    audit_append(organization=organization, actor=actor, action="limit_request.created", obj=request,
                 before={"credit_limit": customer.credit_limit, "payment_terms_days": customer.payment_terms_days},
                 after={"customer": customer.pk, "requested_limit": request.requested_limit,
                        "currency": request.currency, "requested_limit_base": base,
                        "requested_terms_days": requested_terms_days, "grade": grade, "source": source,
                        "approvers_required": way.approvers, "roles": way.roles, "band": way.band,
                        "policy_version": policy.version, "expires_on": request.expires_on,
                        **({"reason_code": reason_code, "reason_details": request.reason_details} if reason_code
                           else {})},
                 reason=reasons.ledger_text(reason_code, request.reason_details, reason))
    return request


def _lock_pending(organization: Organization, request: LimitRequest, day: dt.date) -> LimitRequest:
    locked = LimitRequest.objects.for_organization(organization).select_for_update().select_related(
        "customer").filter(pk=request.pk).first()
    if locked is None:
        raise AppError(ErrorCode.NOT_FOUND, "No such limit request.", status=404)
    if locked.status == LimitRequest.Status.PENDING and locked.expires_on < day:
        _expire(organization, [locked], day)
        locked.status = LimitRequest.Status.EXPIRED
    if locked.status != LimitRequest.Status.PENDING:
        raise AppError(ErrorCode.CONFLICT, _("Request #%(id)s is %(status)s: nothing to decide.") % {
            "id": locked.pk, "status": locked.get_status_display()}, status=409)
    return locked


def _check_approver(organization: Organization, request: LimitRequest, actor: Any, amount_base: Decimal) -> None:
    """Four eyes and the authority matrix: never the requester; a member with ``limits.approve`` in one of
    the band's roles whose approval limit covers the amount; one vote per approver."""
    if _user(actor) is None:
        raise AppError(ErrorCode.PERMISSION_DENIED, _("Only a person may approve a limit."), status=403)
    if request.requested_by_id is not None and request.requested_by_id == actor.pk:
        raise AppError(ErrorCode.PERMISSION_DENIED,
                       _("You requested this limit: someone else must decide it (four eyes)."), status=403)
    membership = Membership.objects.filter(user=actor, organization=organization, is_active=True).first()
    _require(actor, organization.pk, Cap.LIMITS_APPROVE)
    assert membership is not None
    if membership.role not in request.approver_roles:
        raise AppError(ErrorCode.PERMISSION_DENIED, _(
            "This request needs an approver with the role %(roles)s.") % {"roles": ", ".join(request.approver_roles)},
            status=403)
    if membership.approval_limit is None or membership.approval_limit < amount_base:
        raise AppError(ErrorCode.PERMISSION_DENIED, _(
            "Your approval limit (%(mine)s) is below this request's %(amount)s %(cur)s.") % {
            "mine": membership.approval_limit if membership.approval_limit is not None else _("none"),
            "amount": amount_base, "cur": organization.base_currency}, status=403)
    if request.approvals.filter(approver=actor, vote__in=[LimitApproval.Vote.APPROVE,
                                                          LimitApproval.Vote.COUNTER]).exists():
        raise AppError(ErrorCode.CONFLICT, _("You have already approved this request: a second approver is "
                                             "needed."), status=409)


def _decided_amount(request: LimitRequest) -> tuple[Decimal, Decimal, bool]:
    """(limit in the customer's currency, in base, countered?) the request would be decided at: the lowest
    counter-offer if any."""
    counters = list(request.approvals.filter(vote=LimitApproval.Vote.COUNTER).values_list("amount", flat=True))
    if counters:
        amount = min(counters)
        base = money(request.requested_limit_base * amount / request.requested_limit) if request.requested_limit \
            else amount
        return amount, base, True
    return request.requested_limit, request.requested_limit_base, False


def _maybe_decide(organization: Organization, request: LimitRequest, actor: Any, day: dt.date) -> LimitRequest:
    votes = request.approvals.filter(vote__in=[LimitApproval.Vote.APPROVE, LimitApproval.Vote.COUNTER])
    if votes.values("approver").distinct().count() < request.approvers_required:
        return request
    amount, _base, countered = _decided_amount(request)
    approvers = sorted({a.approver.get_username() for a in votes.select_related("approver")})
    decision_apply(
        organization=organization, customer=request.customer, limit=amount, terms_days=request.requested_terms_days,
        kind=LimitDecision.Kind.COUNTERED if countered else LimitDecision.Kind.APPROVED, request=request,
        actor=actor, decided_by=", ".join(approvers), as_of=day,
    )
    request.status = LimitRequest.Status.COUNTERED if countered else LimitRequest.Status.APPROVED
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at"])
    return request


@transaction.atomic
def limit_request_approve(*, organization: Organization, request: LimitRequest, actor: Any, comment: str = "",
                          as_of: dt.date | None = None) -> LimitRequest:
    """One approver's approval; the request is decided when enough distinct approvers have approved."""
    day = as_of or organization.local_date()
    request = _lock_pending(organization, request, day)
    _amount, base, _countered = _decided_amount(request)
    _check_approver(organization, request, actor, base)
    LimitApproval.objects.create(organization=organization, request=request, approver=actor,
                                 vote=LimitApproval.Vote.APPROVE, comment=comment[:2000])
    audit_append(organization=organization, actor=actor, action="limit_request.approved", obj=request,
                 after={"customer": request.customer_id, "amount": base, "required": request.approvers_required},
                 reason=comment)
    return _maybe_decide(organization, request, actor, day)


@transaction.atomic
def limit_request_counter(*, organization: Organization, request: LimitRequest, actor: Any, amount: Decimal,
                          comment: str, as_of: dt.date | None = None) -> LimitRequest:
    """Approve at a lower amount than requested (a counter-offer): counts as this approver's approval."""
    day = as_of or organization.local_date()
    request = _lock_pending(organization, request, day)
    amount = Decimal(amount)
    if not amount.is_finite() or not Decimal(0) <= amount < request.requested_limit:
        raise ValidationError({"amount": _("A counter-offer is between 0 and the requested %(req)s.") % {
            "req": request.requested_limit}})
    if not comment.strip():
        raise ValidationError({"comment": _("Say why you offer less.")})
    base = money(request.requested_limit_base * amount / request.requested_limit)
    _check_approver(organization, request, actor, base)
    LimitApproval.objects.create(organization=organization, request=request, approver=actor,
                                 vote=LimitApproval.Vote.COUNTER, amount=money(amount), comment=comment[:2000])
    audit_append(organization=organization, actor=actor, action="limit_request.countered", obj=request,
                 before={"requested_limit": request.requested_limit},
                 after={"counter_limit": money(amount), "counter_limit_base": base}, reason=comment)
    return _maybe_decide(organization, request, actor, day)


@transaction.atomic
def limit_request_reject(*, organization: Organization, request: LimitRequest, actor: Any, comment: str,
                         as_of: dt.date | None = None) -> LimitRequest:
    day = as_of or organization.local_date()
    request = _lock_pending(organization, request, day)
    if not comment.strip():
        raise ValidationError({"comment": _("Say why the request is rejected.")})
    if _user(actor) is None or request.requested_by_id == getattr(actor, "pk", None):
        raise AppError(ErrorCode.PERMISSION_DENIED,
                       _("You requested this limit: someone else must decide it (four eyes)."), status=403)
    _require(actor, organization.pk, Cap.LIMITS_APPROVE)
    LimitApproval.objects.create(organization=organization, request=request, approver=actor,
                                 vote=LimitApproval.Vote.REJECT, comment=comment[:2000])
    request.status = LimitRequest.Status.REJECTED
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at"])
    audit_append(organization=organization, actor=actor, action="limit_request.rejected", obj=request,
                 after={"customer": request.customer_id, "requested_limit": request.requested_limit},
                 reason=comment)
    return request


@transaction.atomic
def limit_request_comment(*, organization: Organization, request: LimitRequest, actor: Any,
                          comment: str) -> LimitApproval:
    if not comment.strip():
        raise ValidationError({"comment": _("Write a comment.")})
    if not (actor_has_capability(actor, organization.pk, Cap.LIMITS_APPROVE)
            or actor_has_capability(actor, organization.pk, Cap.LIMITS_REQUEST)):
        raise AppError(ErrorCode.PERMISSION_DENIED, _("Your role may not comment on limit requests."), status=403)
    note = LimitApproval.objects.create(organization=organization, request=request, approver=actor,
                                        vote=LimitApproval.Vote.COMMENT, comment=comment[:2000])
    audit_append(organization=organization, actor=actor, action="limit_request.commented", obj=request,
                 reason=comment)
    return note


def _expire(organization: Organization, requests: list[LimitRequest], day: dt.date) -> None:
    ids = [r.pk for r in requests]
    LimitRequest.objects.filter(pk__in=ids, status=LimitRequest.Status.PENDING).update(
        status=LimitRequest.Status.EXPIRED, decided_at=timezone.now())
    audit_append_many(organization=organization, actor=None, events=[
        AuditEvent("limit_request.expired", r, {"status": "pending"}, {"status": "expired"},
                   f"not decided by {r.expires_on.isoformat()}") for r in requests])


@transaction.atomic
def requests_expire(*, organization: Organization, as_of: dt.date) -> int:
    """Pending requests past their expiry date lapse (nightly)."""
    lapsed = list(LimitRequest.objects.for_organization(organization).select_for_update().filter(
        status=LimitRequest.Status.PENDING, expires_on__lt=as_of))
    if lapsed:
        _expire(organization, lapsed, as_of)
    return len(lapsed)


@transaction.atomic
def decision_apply(*, organization: Organization, customer: Customer, limit: Decimal, kind: str, actor: Any,
                   decided_by: str = "", terms_days: int | None = None, request: LimitRequest | None = None,
                   as_of: dt.date | None = None, reason: str = "") -> LimitDecision:
    """THE writer of a customer's limit (and terms): a dated decision row, the customer's current limit,
    and one ledger entry with the old and new values."""
    day = as_of or organization.local_date()
    policy = policy_current(organization)
    stored = Customer.objects.select_for_update().get(pk=customer.pk, organization=organization)
    before = {"credit_limit": stored.credit_limit, "payment_terms_days": stored.payment_terms_days}
    limit = money(limit)
    valid_until = None
    if kind != LimitDecision.Kind.EXPIRED and limit > 0:
        valid_until = rules.add_months(day, policy.limit_validity_months)
    decision = LimitDecision.objects.create(
        organization=organization, customer=stored, request=request, kind=kind, limit=limit,
        currency=stored.currency, limit_base=_base_amount(organization, limit, stored.currency, day),
        terms_days=terms_days, valid_from=day, valid_until=valid_until,
        decided_by=(decided_by or _label(actor))[:300], policy_version=policy.version,
    )
    updates: dict[str, Any] = {"credit_limit": limit, "updated_at": timezone.now()}
    if terms_days is not None:
        updates["payment_terms_days"] = terms_days
    Customer.objects.filter(pk=stored.pk).update(**updates)
    customer.credit_limit = limit
    if terms_days is not None:
        customer.payment_terms_days = terms_days
    audit_append(organization=organization, actor=actor, action="limit.decided", obj=stored, before=before,
                 after={"credit_limit": limit, "payment_terms_days": terms_days if terms_days is not None
                        else stored.payment_terms_days, "kind": kind, "decision": decision.pk,
                        "request": request.pk if request else None, "valid_until": valid_until,
                        "decided_by": decision.decided_by},
                 reason=reason or (reasons.ledger_text(request.reason_code, request.reason_details, request.reason)
                                   if request else ""))
    return decision


# --- holds ----------------------------------------------------------------------------------------------


def _status_for(organization: Organization, customer_id: int, current: str) -> str:
    if current not in HOLDABLE:
        return current
    kinds = set(Hold.objects.filter(organization=organization, customer_id=customer_id,
                                    released_at__isnull=True).values_list("kind", flat=True))
    if Hold.Kind.BLOCK in kinds:
        return Customer.Status.BLOCKED
    if Hold.Kind.HOLD in kinds:
        return Customer.Status.ON_HOLD
    return Customer.Status.ACTIVE if current in (Customer.Status.ON_HOLD, Customer.Status.BLOCKED) else current


def _sync_status(organization: Organization, customer: Customer, actor: Any, reason: str) -> list[AuditEvent]:
    stored = Customer.objects.select_for_update().get(pk=customer.pk)
    status = _status_for(organization, stored.pk, stored.status)
    if status == stored.status:
        return []
    Customer.objects.filter(pk=stored.pk).update(status=status, updated_at=timezone.now())
    customer.status = status
    return [AuditEvent("customer.status_changed", stored, {"status": stored.status}, {"status": status}, reason)]


@transaction.atomic
def hold_place(organization: Organization, customer: Customer, *, kind: str, reason: str, actor: Any,
               source: str) -> Hold:
    """Put a graded hold on a customer (warn / hold orders / block). ``hold`` and ``block`` set the
    customer's status; a warning only flags its orders. Early-warning alerts call this too."""
    if kind not in Hold.Kind.values:
        raise ValidationError({"kind": _("'%(value)s' is not one of %(choices)s.") % {
            "value": kind, "choices": ", ".join(Hold.Kind.values)}})
    if source not in Hold.Source.values:
        raise ValidationError({"source": _("'%(value)s' is not one of %(choices)s.") % {
            "value": source, "choices": ", ".join(Hold.Source.values)}})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the customer is held.")})
    if source == Hold.Source.MANUAL:
        _require(actor, organization.pk, Cap.LIMITS_REQUEST)
    if customer.organization_id != organization.pk:
        raise AppError(ErrorCode.NOT_FOUND, "No such customer.", status=404)
    hold = Hold.objects.create(organization=organization, customer=customer, kind=kind, source=source,
                               reason=reason[:2000], placed_by=_user(actor), placed_on=organization.local_date())
    events = [AuditEvent("hold.placed", hold, None, {"customer": customer.pk, "kind": kind, "source": source},
                         reason)]
    events += _sync_status(organization, customer, actor, reason)
    audit_append_many(organization=organization, actor=actor, events=events)
    return hold


@transaction.atomic
def hold_release(organization: Organization, hold: Hold, *, reason: str, actor: Any, reason_code: str = "",
                 reason_details: dict[str, Any] | None = None) -> Hold:
    """Lift a hold: a decision of an authorised user (``limits.approve``) or of the policy (``actor`` None,
    e.g. the overdue that caused a dunning hold is cleared; its reason as ``reason_code`` and
    ``reason_details``, ``limits.reasons``). The customer's status follows its remaining holds."""
    _require(actor, organization.pk, Cap.LIMITS_APPROVE)
    reason = reason or reasons.ledger_text(reasons.check_code(reason_code), reason_details)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the hold is lifted.")})
    locked = Hold.objects.for_organization(organization).select_for_update().select_related("customer").filter(
        pk=hold.pk).first()
    if locked is None:
        raise AppError(ErrorCode.NOT_FOUND, "No such hold.", status=404)
    if locked.released_at is not None:
        raise AppError(ErrorCode.CONFLICT, _("This hold was already lifted."), status=409)
    locked.released_at, locked.released_by = timezone.now(), _user(actor)
    locked.release_reason = "" if reason_code else reason[:2000]
    locked.release_code, locked.release_details = reason_code, reason_details or {}
    locked.save(update_fields=["released_at", "released_by", "release_reason", "release_code", "release_details"])
    events = [AuditEvent("hold.released", locked, {"kind": locked.kind, "source": locked.source},
                         {"released": True}, reason)]
    events += _sync_status(organization, locked.customer, actor, reason)
    audit_append_many(organization=organization, actor=actor, events=events)
    return locked


def dunning_holds_record(organization_id: int, customers: list[tuple[int, str]], day: dt.date) -> None:
    """The dunning run put these customers on hold (its ledger entries name the level and run): the holds
    behind that status, so that they block orders and are lifted like any other. One insert."""
    Hold.objects.bulk_create([
        Hold(organization_id=organization_id, customer_id=customer_id, kind=Hold.Kind.HOLD,
             source=Hold.Source.DUNNING, reason=reason[:2000], placed_on=day)
        for customer_id, reason in customers
    ])


# --- reviews --------------------------------------------------------------------------------------------


@transaction.atomic
def review_require(organization: Organization, customer: Customer, *, reason: str, actor: Any,
                   source: str) -> Review:
    """A review is due now (a new customer, a downgrade, a severe alert, a request): an open review is
    brought forward to today, otherwise one is opened."""
    day = organization.local_date()
    kind = {"alert": Review.Kind.ALERT, "downgrade": Review.Kind.DOWNGRADE,
            "new_customer": Review.Kind.NEW_CUSTOMER}.get(source, Review.Kind.MANUAL)
    review = Review.objects.for_organization(organization).select_for_update().filter(
        customer=customer, status=Review.Status.OPEN).first()
    before = None
    if review is None:
        review = Review.objects.create(organization=organization, customer=customer, kind=kind, due_on=day,
                                       reason=reason[:2000])
    else:
        before = {"due_on": review.due_on, "kind": review.kind}
        review.due_on, review.kind, review.reason = min(review.due_on, day), kind, reason[:2000]
        review.reason_code, review.reason_details = "", {}  # the platform's reason gives way to this one
        review.save(update_fields=["due_on", "kind", "reason", "reason_code", "reason_details"])
    audit_append(organization=organization, actor=actor, action="review.required", obj=review, before=before,
                 after={"customer": customer.pk, "due_on": review.due_on, "kind": kind, "source": source},
                 reason=reason)
    return review


@transaction.atomic
def review_complete(*, organization: Organization, review: Review, actor: Any, conclusion: str,
                    requested_limit: Decimal | None = None, requested_terms_days: int | None = None) -> Review:
    """Record the analyst's conclusion; schedule the next review from the grade's frequency; optionally
    raise a limit request (routed like any other)."""
    _require(actor, organization.pk, Cap.LIMITS_REQUEST)
    if not conclusion.strip():
        raise ValidationError({"conclusion": _("Write the review's conclusion.")})
    locked = Review.objects.for_organization(organization).select_for_update().select_related("customer").filter(
        pk=review.pk, status=Review.Status.OPEN).first()
    if locked is None:
        raise AppError(ErrorCode.CONFLICT, _("This review is already done."), status=409)
    day = organization.local_date()
    request = None
    if requested_limit is not None:
        request = limit_request_create(organization=organization, customer=locked.customer,
                                       requested_limit=requested_limit, requested_terms_days=requested_terms_days,
                                       actor=actor, source=LimitRequest.Source.REVIEW,
                                       reason=_("Review: %(text)s") % {"text": conclusion[:1900]})
    locked.status, locked.conclusion, locked.completed_by, locked.completed_on = (
        Review.Status.DONE, conclusion[:2000], _user(actor), day)
    locked.limit_request = request
    locked.save()
    rule = rules.grade_rule(policy_current(organization), _grade(organization, locked.customer_id))
    following = Review.objects.create(organization=organization, customer=locked.customer,
                                      kind=Review.Kind.SCHEDULED, due_on=rules.add_months(day, rule.review_months))
    audit_append(organization=organization, actor=actor, action="review.completed", obj=locked,
                 after={"customer": locked.customer_id, "limit_request": request.pk if request else None,
                        "next_review": following.due_on}, reason=conclusion)
    return locked


def review_due_counts(organization: Organization, as_of: dt.date) -> dict[str, int]:
    qs = Review.objects.for_organization(organization).filter(status=Review.Status.OPEN)
    return {"overdue": qs.filter(due_on__lt=as_of).count(), "due": qs.filter(due_on__lte=as_of).count(),
            "upcoming": qs.filter(due_on__gt=as_of).count()}


