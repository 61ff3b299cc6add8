"""The limits API: the order credit check for order systems, requests and decisions, holds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from credit_platform.roles import Role
from customers.models import Customer
from limits.models import Hold, LimitRequest
from limits.services import decision_apply, hold_place
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(org, staff):
    def make(role=Role.INTEGRATOR, approval_limit=None):
        user = staff(org, role, approval_limit=approval_limit)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    return make


def test_credit_check_answers_release_or_hold_with_reason_codes(api, org):
    customer = CustomerFactory(organization=org, external_id="C1")
    decision_apply(organization=org, customer=customer, limit=Decimal("1000"), kind="approved", actor=None)
    client = api()
    ok = client.post("/api/v1/limits/check/", {"customer": "C1", "amount": "500", "currency": "EUR",
                                               "checkpoint": "confirmation"}, format="json")
    assert ok.status_code == 200 and ok.json()["outcome"] == "release"
    order = OrderFactory(customer=customer, amount=Decimal("900.00"), order_date=customer.organization.local_date())
    held = client.post("/api/v1/limits/check/", {"customer": "C1", "amount": "500", "currency": "EUR",
                                                 "checkpoint": "delivery"}, format="json")
    assert held.json()["outcome"] == "hold" and [r["code"] for r in held.json()["reasons"]] == ["over_limit"]
    same = client.post("/api/v1/limits/check/", {"customer": "C1", "amount": "900", "currency": "EUR",
                                                 "checkpoint": "delivery", "order_number": order.number},
                       format="json")
    assert same.json()["outcome"] == "release"  # the order itself is not counted twice


def test_credit_check_input_errors_are_located(api, org):
    response = api().post("/api/v1/limits/check/", {"customer": "NOPE", "amount": "-1", "currency": "EURO",
                                                    "checkpoint": "somewhere"}, format="json")
    assert response.status_code == 400
    fields = {d["field"] for d in response.json()["details"]}
    assert {"amount", "currency", "checkpoint"} <= fields


def test_an_integrator_cannot_lift_a_hold_or_approve_a_limit(api, org, staff):
    manager = staff(org, Role.CREDIT_MANAGER)
    customer = CustomerFactory(organization=org, external_id="C1")
    hold = hold_place(org, customer, kind="hold", reason="dunning", actor=manager, source="manual")
    client = api()
    assert client.post(f"/api/v1/limits/holds/{hold.pk}/release/", {"reason": "paid"}, format="json"
                       ).status_code == 403
    assert Customer.objects.get(pk=customer.pk).status == "on_hold"
    approver = api(Role.FINANCE_APPROVER)
    response = approver.post(f"/api/v1/limits/holds/{hold.pk}/release/", {"reason": "paid"}, format="json")
    assert response.status_code == 200 and Hold.objects.get(pk=hold.pk).released_at is not None


def test_requests_are_created_by_officers_and_decided_by_approvers(api, org):
    CustomerFactory(organization=org, external_id="C1")
    officer = api(Role.CREDIT_OFFICER)
    made = officer.post("/api/v1/limits/requests/", {"customer": "C1", "requested_limit": "5000"}, format="json")
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]
    assert officer.post(f"/api/v1/limits/requests/{pk}/decide/", {"decision": "approve"}, format="json"
                        ).status_code == 403
    approver = api(Role.FINANCE_APPROVER, approval_limit="10000")
    done = approver.post(f"/api/v1/limits/requests/{pk}/decide/", {"decision": "approve", "comment": "ok"},
                         format="json")
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert LimitRequest.objects.get(pk=pk).customer.credit_limit == Decimal("5000.00")
    assert approver.get("/api/v1/limits/exposure/", {"customer": "C1"}).json()["credit_limit"] == "5000.00"
