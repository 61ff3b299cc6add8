"""The approval queue in the admin, as the finance approver: filters, the risk summary and the
recommendation beside each request, approve / reject / counter-offer as admin actions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import Customer
from limits.checks import credit_check
from limits.models import LimitRequest, OrderCheck
from limits.services import limit_request_create
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
URL = "admin:limits_limitrequest_changelist"


@pytest.fixture
def requests(org, staff):
    officer = staff(org, Role.CREDIT_OFFICER)
    made = []
    for amount in ("20000", "30000", "40000"):
        made.append(limit_request_create(organization=org, customer=CustomerFactory(organization=org),
                                         requested_limit=Decimal(amount), actor=officer, source="officer",
                                         reason="growth"))
    return made


@pytest.fixture
def approver_client(client, org, staff):
    user = staff(org, Role.FINANCE_APPROVER, approval_limit="100000")
    client.force_login(user)
    client.user = user
    return client


def action(client, name, ids, **data):
    return client.post(reverse(URL), {"action": name, "_selected_action": [str(i) for i in ids], **data})


def test_the_queue_lists_pending_requests_with_filters_and_the_summary_beside(approver_client, requests, org,
                                                                               other_org):
    CustomerFactory(organization=other_org)
    page = approver_client.get(reverse(URL), {"status__exact": "pending", "source__exact": "officer"})
    assert page.status_code == 200
    html = page.content.decode()
    assert all(r.customer.legal_name in html for r in requests)
    assert "Approve the selected requests" in html and "Counter-offer a lower limit" in html
    detail = approver_client.get(reverse("admin:limits_limitrequest_change", args=[requests[0].pk]))
    body = detail.content.decode()
    assert "Risk summary and recommendation" in body and "Exposure" in body and "Routing" in body


def test_approve_action_asks_for_a_comment_then_decides(approver_client, requests):
    first = action(approver_client, "approve", [requests[0].pk])
    assert first.status_code == 200 and "Approve limit requests" in first.content.decode()
    done = action(approver_client, "approve", [requests[0].pk, requests[1].pk], apply="1", comment="fine")
    assert done.status_code == 302
    assert list(Customer.objects.filter(pk__in=[requests[0].customer_id, requests[1].customer_id])
                .order_by("pk").values_list("credit_limit", flat=True)) == [Decimal("20000.00"), Decimal("30000.00")]
    assert AuditEntry.objects.filter(action="limit.decided").count() == 2


def test_reject_and_counter_actions(approver_client, requests):
    action(approver_client, "reject", [requests[0].pk], apply="1", comment="no statements")
    action(approver_client, "counter", [requests[1].pk], apply="1", comment="start smaller", amount="10000")
    statuses = dict(LimitRequest.objects.values_list("pk", "status"))
    assert statuses[requests[0].pk] == "rejected" and statuses[requests[1].pk] == "countered"
    assert Customer.objects.get(pk=requests[1].customer_id).credit_limit == Decimal("10000.00")


def test_a_request_beyond_the_approvers_limit_is_refused_with_the_reason(client, org, staff, requests):
    small = staff(org, Role.FINANCE_APPROVER, approval_limit="25000")
    client.force_login(small)
    response = action(client, "approve", [requests[2].pk], apply="1", comment="ok")
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "approval limit" in page
    assert LimitRequest.objects.get(pk=requests[2].pk).status == "pending"


def test_an_officer_sees_no_approval_actions(client, org, staff, requests):
    client.force_login(staff(org, Role.CREDIT_OFFICER))
    html = client.get(reverse(URL)).content.decode()
    assert "Approve the selected requests" not in html


def test_held_orders_are_released_from_the_admin(approver_client, org):
    customer = CustomerFactory(organization=org)
    result = credit_check(org, customer=customer, amount=Decimal("100"), currency="EUR", checkpoint="confirmation")
    response = approver_client.post(reverse("admin:limits_ordercheck_changelist"), {
        "action": "release", "_selected_action": [str(result.check_id)], "apply": "1", "comment": "paid upfront"})
    assert response.status_code == 302
    assert OrderCheck.objects.get(pk=result.check_id).queue == "released"
