"""Policy per grade, downturn mode, authority routing, four eyes, counter-offers, expiry, the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from credit_platform.audit import audit_verify
from credit_platform.errors import AppError
from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import Customer
from limits import policy as rules
from limits.history import limits_as_of
from limits.models import CreditPolicy, LimitDecision, LimitRequest
from limits.services import (
    limit_request_approve,
    limit_request_counter,
    limit_request_create,
    limit_request_reject,
    policy_current,
    policy_set_downturn,
    policy_update,
    requests_expire,
)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 29)


def test_default_policy_rules_tighten_with_the_grade(org):
    policy = policy_current(org)
    good, bad, default = (rules.grade_rule(policy, g) for g in (1, 8, 10))
    assert (good.terms_days, good.security, good.prepayment_share) == (60, "none", 0)
    assert (bad.terms_days, bad.security, bad.prepayment_share) == (14, "letter_of_credit", Decimal("0.30"))
    assert (default.ceiling, default.prepayment_share) == (0, 1)
    assert AuditEntry.objects.filter(organization=org, action="credit_policy.created").count() == 1


def test_recommended_limit_is_the_lower_of_equity_and_sales_share_capped_and_shown_step_by_step(org):
    policy = policy_current(org)
    rec = rules.recommend(policy, rules.Inputs(grade=3, pd=0.01, equity=Decimal("2000000"),
                                               annual_sales=Decimal("1000000")))
    # equity 0.15 x 2,000,000 = 300,000; sales 0.20 x 1,000,000 = 200,000; x (1 - 0.01) = 198,000
    assert rec.amount == Decimal("198000.00")
    assert [s["step"] for s in rec.steps][:5] == ["grade", "pd", "sales_limit", "equity_limit", "lower_of_both"]
    capped = rules.recommend(policy, rules.Inputs(grade=7, pd=0.05, equity=Decimal("1e8"),
                                                  annual_sales=Decimal("1e8")))
    assert capped.amount == Decimal("75000.00") and any(s["step"] == "ceiling" for s in capped.steps)
    no_statements = rules.recommend(policy, rules.Inputs(grade=3, pd=None, equity=None,
                                                         annual_sales=Decimal("100000")))
    assert no_statements.amount == Decimal("10000.00")  # 0.20 x 100,000 x 0.5


def test_new_customer_gets_no_limit_before_a_first_review_or_the_starter_limit(org, staff):
    manager = staff(org, Role.CREDIT_MANAGER)
    inputs = rules.Inputs(grade=2, pd=0.002, equity=Decimal("1e6"), annual_sales=Decimal("1e6"), reviewed=False)
    assert rules.recommend(policy_current(org), inputs).amount == 0
    policy_update(organization=org, actor=manager, reason="starter limits", new_customer_rule="starter",
                  starter_limit=Decimal("5000"))
    assert rules.recommend(policy_current(org), inputs).amount == Decimal("5000.00")


def test_downturn_mode_shortens_terms_raises_prepayment_and_reviews_and_switches_back(org, staff):
    manager = staff(org, Role.CREDIT_MANAGER)
    normal = rules.grade_rule(policy_current(org), 7)
    policy_set_downturn(organization=org, on=True, actor=manager, reason="recession")
    down = rules.grade_rule(policy_current(org), 7)
    assert (down.terms_days, down.prepayment_share, down.review_months) == (15, Decimal("0.30"), 3)
    assert (normal.terms_days, normal.prepayment_share, normal.review_months) == (30, Decimal("0.10"), 6)
    policy_set_downturn(organization=org, on=False, actor=manager, reason="recovery")
    assert rules.grade_rule(policy_current(org), 7) == normal
    versions = list(CreditPolicy.objects.for_organization(org).order_by("version").values_list("version", "downturn"))
    assert versions == [(1, False), (2, True), (3, False)]
    changes = AuditEntry.objects.filter(organization=org, action="credit_policy.changed").order_by("seq")
    assert [(e.before["downturn"], e.after["downturn"]) for e in changes] == [(False, True), (True, False)]


def test_policy_change_is_refused_with_a_located_error_and_needs_the_policy_right(org, staff):
    manager, officer = staff(org, Role.CREDIT_MANAGER), staff(org, Role.CREDIT_OFFICER)
    bad = {**rules.DEFAULT_RULES, "7": {**rules.DEFAULT_RULES["7"], "terms_days": 400}}
    with pytest.raises(ValidationError) as exc:
        policy_update(organization=org, actor=manager, reason="x", rules=bad)
    assert "rules.7.terms_days" in exc.value.message_dict
    with pytest.raises(AppError):
        policy_update(organization=org, actor=officer, reason="x", downturn=True)
    assert policy_current(org).version == 1


def _request(org, officer, amount, grade_customer=None):
    customer = grade_customer or CustomerFactory(organization=org)
    return limit_request_create(organization=org, customer=customer, requested_limit=Decimal(amount),
                                actor=officer, source=LimitRequest.Source.OFFICER, reason="more business")


def test_small_request_needs_one_approver_within_their_approval_limit(org, staff):
    officer = staff(org, Role.CREDIT_OFFICER)
    small_approver = staff(org, approval_limit="10000")
    approver = staff(org, approval_limit="100000")
    request = _request(org, officer, "40000")
    assert request.approvers_required == 1
    with pytest.raises(AppError, match="approval limit"):
        limit_request_approve(organization=org, request=request, actor=small_approver)
    limit_request_approve(organization=org, request=request, actor=approver, comment="ok")
    request.refresh_from_db()
    customer = Customer.objects.get(pk=request.customer_id)
    assert request.status == "approved" and customer.credit_limit == Decimal("40000.00")
    decision = LimitDecision.objects.get(customer=customer)
    assert decision.valid_until == dt.date(2027, 11, 29) and decision.decided_by == approver.username
    actions = list(AuditEntry.objects.filter(organization=org).order_by("seq").values_list("action", flat=True))
    assert actions[-3:] == ["limit_request.created", "limit_request.approved", "limit.decided"]
    assert audit_verify(org)[1] is None


def test_request_above_the_band_needs_two_different_approvers(org, staff):
    officer = staff(org, Role.CREDIT_OFFICER)
    first, second = staff(org, approval_limit="1000000"), staff(org, Role.CREDIT_MANAGER, approval_limit="1000000")
    request = _request(org, officer, "400000")
    assert request.approvers_required == 2
    limit_request_approve(organization=org, request=request, actor=first)
    request.refresh_from_db()
    assert request.status == "pending" and Customer.objects.get(pk=request.customer_id).credit_limit is None
    with pytest.raises(AppError, match="second approver"):
        limit_request_approve(organization=org, request=request, actor=first)
    limit_request_approve(organization=org, request=request, actor=second)
    request.refresh_from_db()
    assert request.status == "approved"
    assert LimitDecision.objects.get(request=request).decided_by == ", ".join(sorted([first.username,
                                                                                      second.username]))


def test_requester_never_approves_their_own_request(org, staff):
    manager = staff(org, Role.CREDIT_MANAGER, approval_limit="1000000")
    request = _request(org, manager, "1000")
    with pytest.raises(AppError, match="four eyes"):
        limit_request_approve(organization=org, request=request, actor=manager)
    with pytest.raises(AppError, match="four eyes"):
        limit_request_reject(organization=org, request=request, actor=manager, comment="no")
    request.refresh_from_db()
    assert request.status == "pending" and Customer.objects.get(pk=request.customer_id).credit_limit is None


def test_an_officer_cannot_approve_and_a_bad_grade_goes_to_the_committee(org, staff):
    from scoring.services import scoring_setup

    officer, other_officer = staff(org, Role.CREDIT_OFFICER), staff(org, Role.CREDIT_OFFICER)
    request = _request(org, officer, "1000")
    with pytest.raises(AppError):
        limit_request_approve(organization=org, request=request, actor=other_officer)
    # grade 9 customer: even 15,000 goes to the last band (two approvers)
    customer = CustomerFactory(organization=org)
    model = scoring_setup(organization=org)
    from django.utils import timezone

    from scoring.models import CurrentScore

    CurrentScore.objects.create(organization=org, customer=customer, as_of=TODAY, model=model, model_version=1,
                                pd=0.42, grade=9, computed_at=timezone.now())
    risky = _request(org, officer, "15000", customer)
    assert (risky.grade, risky.approvers_required) == (9, 2)


def test_counter_offer_decides_at_the_lower_amount_and_rejection_changes_nothing(org, staff):
    officer, approver = staff(org, Role.CREDIT_OFFICER), staff(org, approval_limit="100000")
    request = _request(org, officer, "50000")
    with pytest.raises(ValidationError) as exc:
        limit_request_counter(organization=org, request=request, actor=approver, amount=Decimal("60000"),
                              comment="x")
    assert "amount" in exc.value.message_dict
    limit_request_counter(organization=org, request=request, actor=approver, amount=Decimal("20000"),
                          comment="sales history too short")
    request.refresh_from_db()
    assert request.status == "countered"
    assert Customer.objects.get(pk=request.customer_id).credit_limit == Decimal("20000.00")
    assert LimitDecision.objects.get(request=request).kind == "countered"
    rejected = _request(org, officer, "30000")
    limit_request_reject(organization=org, request=rejected, actor=approver, comment="no statements")
    rejected.refresh_from_db()
    assert rejected.status == "rejected"
    assert Customer.objects.get(pk=rejected.customer_id).credit_limit is None
    assert AuditEntry.objects.filter(action="limit_request.rejected", object_id=str(rejected.pk)).count() == 1


def test_pending_requests_expire_and_cannot_be_approved_after(org, staff):
    officer, approver = staff(org, Role.CREDIT_OFFICER), staff(org, approval_limit="100000")
    request = _request(org, officer, "1000")
    assert request.expires_on == TODAY + dt.timedelta(days=14)
    assert requests_expire(organization=org, as_of=request.expires_on) == 0
    assert requests_expire(organization=org, as_of=request.expires_on + dt.timedelta(days=1)) == 1
    with pytest.raises(AppError, match="Expired"):
        limit_request_approve(organization=org, request=request, actor=approver)
    assert AuditEntry.objects.filter(action="limit_request.expired").count() == 1


def test_a_second_pending_request_is_refused(org, staff):
    officer = staff(org, Role.CREDIT_OFFICER)
    request = _request(org, officer, "1000")
    with pytest.raises(AppError, match="pending"):
        _request(org, officer, "2000", request.customer)


def test_limits_as_of_reads_the_dated_decisions_without_look_ahead(org, staff):
    officer, approver = staff(org, Role.CREDIT_OFFICER), staff(org, approval_limit="100000")
    request = _request(org, officer, "1000")
    limit_request_approve(organization=org, request=request, actor=approver, as_of=dt.date(2026, 11, 20))
    later = _request(org, officer, "3000", request.customer)
    limit_request_approve(organization=org, request=later, actor=approver, as_of=dt.date(2026, 11, 25))
    cid = request.customer_id
    assert limits_as_of(org, dt.date(2026, 11, 19)) == {}
    assert limits_as_of(org, dt.date(2026, 11, 22)) == {cid: Decimal("1000.00")}
    assert limits_as_of(org, dt.date(2026, 11, 29)) == {cid: Decimal("3000.00")}
