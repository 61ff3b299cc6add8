"""The nightly step after scoring: recommendations, automatic decreases with a ledger entry, increases
proposed for approval, expiry of lapsed limits and requests, reviews scheduled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import Customer
from limits.models import LimitDecision, LimitRequest, RecommendedLimit, Review
from limits.nightly import nightly_run
from limits.services import decision_apply, policy_update
from scoring.models import CurrentScore, GradeChange
from scoring.services import scoring_setup
from tests.factories import CustomerFactory, InvoiceFactory, StatementFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 29)


def scored(org, model, grade, pd, limit=None, sales="1000000", equity="2000000"):
    customer = CustomerFactory(organization=org)
    CurrentScore.objects.create(organization=org, customer=customer, as_of=TODAY, model=model, model_version=1,
                                pd=pd, grade=grade, computed_at=timezone.now())
    StatementFactory(customer=customer, organization=org, equity=Decimal(equity), total_assets=Decimal(equity) * 3,
                     total_liabilities=Decimal(equity) * 2, current_assets=Decimal(equity),
                     revenue=Decimal("5000000"))
    InvoiceFactory(customer=customer, amount=Decimal(sales), issue_date=dt.date(2026, 6, 1),
                   due_date=dt.date(2026, 6, 30))
    if limit is not None:
        decision_apply(organization=org, customer=customer, limit=Decimal(limit), kind="approved", actor=None,
                       as_of=dt.date(2026, 6, 1))
    return customer


def test_nightly_recommends_decreases_deteriorated_and_proposes_increases(org, staff, mailoutbox,
                                                                         django_capture_on_commit_callbacks):
    staff(org, Role.CREDIT_MANAGER, email="risk@acme.example")
    model = scoring_setup(organization=org)
    steady = scored(org, model, 3, 0.01, limit="190000")  # recommendation 198,000: within 20%, nothing
    worse = scored(org, model, 8, 0.2, limit="200000")  # grade 8: ceiling 30,000 -> decrease
    better = scored(org, model, 2, 0.003, limit="50000")  # recommendation ~219,000 -> a request
    with django_capture_on_commit_callbacks(execute=True):
        result = nightly_run(org, TODAY, chunk_customers=2)
    assert RecommendedLimit.objects.filter(organization=org).count() == 3 and result.recommended == 3
    assert (result.decreased, result.proposed) == (1, 1)
    assert Customer.objects.get(pk=steady.pk).credit_limit == Decimal("190000.00")
    assert Customer.objects.get(pk=worse.pk).credit_limit == Decimal("30000.00")
    decrease = LimitDecision.objects.get(customer=worse, kind="auto_decrease")
    assert decrease.decided_by == "nightly policy"
    entry = AuditEntry.objects.get(action="limit.decided", object_id=str(worse.pk), after__kind="auto_decrease")
    assert entry.before["credit_limit"] == "200000.00" and entry.actor_label == "system"
    proposal = LimitRequest.objects.get(customer=better)
    assert (proposal.source, proposal.status, proposal.requested_by) == ("nightly", "pending", None)
    assert Customer.objects.get(pk=better.pk).credit_limit == Decimal("50000.00")
    [mail] = mailoutbox  # the decrease is notified to the credit managers
    assert mail.to == ["risk@acme.example"] and "200000.00 -> 30000.00" in mail.body
    # the steps are kept for the pages
    steps = RecommendedLimit.objects.get(customer=steady).steps
    assert [s["step"] for s in steps][:3] == ["grade", "pd", "sales_limit"]
    # a second night proposes nothing twice
    again = nightly_run(org, TODAY)
    assert (again.decreased, again.proposed) == (0, 0)


def test_without_auto_decrease_the_policy_leaves_limits_alone(org, staff):
    policy_update(organization=org, actor=staff(org, Role.CREDIT_MANAGER), reason="manual only",
                  auto_decrease=False)
    worse = scored(org, scoring_setup(organization=org), 8, 0.2, limit="200000")
    assert nightly_run(org, TODAY).decreased == 0
    assert Customer.objects.get(pk=worse.pk).credit_limit == Decimal("200000.00")


def test_lapsed_limits_and_requests_expire_and_reviews_are_scheduled(org, staff):
    model = scoring_setup(organization=org)
    old = CustomerFactory(organization=org)
    decision_apply(organization=org, customer=old, limit=Decimal("5000"), kind="approved", actor=None,
                   as_of=dt.date(2025, 11, 1))  # valid twelve months: lapsed
    new = CustomerFactory(organization=org)
    downgraded = scored(org, model, 6, 0.05)
    GradeChange.objects.create(organization=org, customer=downgraded, as_of=TODAY, old_grade=4, new_grade=6,
                               old_pd=0.02, new_pd=0.05, model=model, trigger="nightly", changed_at=timezone.now())
    LimitRequest.objects.create(organization=org, customer=new, currency="EUR", requested_limit=1,
                                requested_limit_base=1, source="officer", policy_version=1,
                                expires_on=dt.date(2026, 11, 1))
    result = nightly_run(org, TODAY)
    assert (result.expired_limits, result.expired_requests) == (1, 1)
    assert Customer.objects.get(pk=old.pk).credit_limit == Decimal("0.00")
    assert LimitDecision.objects.filter(customer=old).first().kind == "expired"
    kinds = dict(Review.objects.filter(organization=org).values_list("customer_id", "kind"))
    assert kinds[new.pk] == "new_customer" and kinds[downgraded.pk] == "downgrade"
    assert AuditEntry.objects.filter(action="limits.nightly").count() == 1
