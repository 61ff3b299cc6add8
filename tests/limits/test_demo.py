"""The demo seed gives every role limits work: decisions and holds loaded, the nightly results, pending
requests, held orders and reviews due."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from credit_platform.models import Organization
from customers.models import Customer
from limits.models import Hold, LimitDecision, LimitRequest, OrderCheck, RecommendedLimit, Review

AS_OF = dt.date(2026, 11, 29)


@pytest.mark.django_db
def test_seed_demo_loads_policy_decisions_holds_and_work_for_every_role():
    call_command("seed_demo", customers=60, invoices=3000, as_of=AS_OF, quiet=True)
    org = Organization.objects.get(slug="demo")
    customers = Customer.objects.for_organization(org)
    assert LimitDecision.objects.for_organization(org).filter(decided_by="demo seed").exists()
    assert RecommendedLimit.objects.for_organization(org).count() == customers.count()
    assert LimitRequest.objects.for_organization(org).filter(status="pending").exists()
    assert LimitRequest.objects.for_organization(org).filter(requested_by__username="officer").count() >= 1
    assert Review.objects.for_organization(org).filter(status="open", due_on__lte=AS_OF).exists()
    assert OrderCheck.objects.for_organization(org).exists()
    held_status = set(customers.filter(status="on_hold").values_list("pk", flat=True))
    active_holds = set(Hold.objects.for_organization(org).filter(released_at__isnull=True, kind="hold")
                       .values_list("customer_id", flat=True))
    assert held_status == active_holds  # every on-hold customer has the hold behind its status
    call_command("verify_audit")
