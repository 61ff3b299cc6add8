"""The limits pages: the queue as the finance approver, held orders, the review worklist, a customer's
credit file, the policy with its downturn switch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from credit_platform.roles import Role
from customers.models import Customer
from limits.checks import credit_check
from limits.models import LimitRequest, OrderCheck, Review
from limits.services import limit_request_create, policy_current
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_finance_approver_approves_from_the_queue_page(client, org, staff):
    officer = staff(org, Role.CREDIT_OFFICER)
    customer = CustomerFactory(organization=org, legal_name="Queue Test GmbH")
    request = limit_request_create(organization=org, customer=customer, requested_limit=Decimal("12000"),
                                   actor=officer, source="officer", reason="new contract")
    client.force_login(staff(org, Role.FINANCE_APPROVER, approval_limit="50000"))
    page = client.get(reverse("limits-queue"))
    assert page.status_code == 200 and "Queue Test GmbH" in page.content.decode()
    response = client.post(reverse("limits-decide", args=[request.pk]), {"decision": "approve", "comment": "ok"})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).credit_limit == Decimal("12000.00")


def test_the_requester_is_refused_on_the_page_and_nothing_changes(client, org, staff):
    manager = staff(org, Role.CREDIT_MANAGER, approval_limit="50000")
    customer = CustomerFactory(organization=org)
    request = limit_request_create(organization=org, customer=customer, requested_limit=Decimal("1000"),
                                   actor=manager, source="officer", reason="x")
    client.force_login(manager)
    response = client.post(reverse("limits-decide", args=[request.pk]), {"decision": "approve"}, follow=True)
    assert "four eyes" in response.content.decode()
    assert LimitRequest.objects.get(pk=request.pk).status == "pending"


def test_held_orders_page_releases_with_a_reason(client, org, staff):
    check = credit_check(org, customer=CustomerFactory(organization=org), amount=Decimal("10"), currency="EUR",
                         checkpoint="delivery")
    client.force_login(staff(org, Role.FINANCE_APPROVER))
    assert "no_limit" in client.get(reverse("limits-held")).content.decode()
    client.post(reverse("limits-held"), {"check": str(check.check_id), "release": "1", "reason": "cash on delivery"})
    assert OrderCheck.objects.get(pk=check.check_id).queue == "released"


def test_a_review_is_completed_from_the_worklist_and_may_raise_a_request(client, org, staff):
    customer = CustomerFactory(organization=org)
    review = Review.objects.create(organization=org, customer=customer, kind="new_customer",
                                   due_on=dt.date(2026, 11, 20))
    client.force_login(staff(org, Role.CREDIT_OFFICER))
    page = client.get(reverse("limits-reviews")).content.decode()
    assert customer.legal_name in page
    client.post(reverse("limits-reviews"), {"review": str(review.pk), "conclusion": "solid accounts",
                                            "requested_limit": "8000"})
    review.refresh_from_db()
    assert review.status == "done" and review.limit_request.requested_limit == Decimal("8000.00")
    assert Review.objects.get(customer=customer, status="open").kind == "scheduled"


def test_customer_credit_file_shows_the_position_and_another_tenants_customer_is_404(client, org, other_org,
                                                                                    staff):
    mine, theirs = CustomerFactory(organization=org), CustomerFactory(organization=other_org)
    client.force_login(staff(org, Role.CREDIT_OFFICER))
    assert client.get(reverse("limits-customer", args=[mine.pk])).status_code == 200
    assert client.get(reverse("limits-customer", args=[theirs.pk])).status_code == 404
    client.post(reverse("limits-customer", args=[mine.pk]), {"what": "request", "requested_limit": "5000",
                                                             "reason": "first order"})
    assert LimitRequest.objects.get(customer=mine).requested_limit == Decimal("5000.00")


def test_policy_page_switches_downturn_mode_for_a_credit_manager_only(client, org, staff):
    client.force_login(staff(org, Role.CREDIT_OFFICER))
    assert client.post(reverse("limits-policy"), {"downturn": "1", "reason": "x"}).status_code == 403
    client.force_login(staff(org, Role.CREDIT_MANAGER))
    client.post(reverse("limits-policy"), {"downturn": "1", "reason": "recession"})
    assert policy_current(org).downturn is True
    assert "Downturn mode" in client.get(reverse("limits-policy")).content.decode()
