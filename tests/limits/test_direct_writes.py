"""The customer's limit, terms and hold status cannot be written directly through the admin or the API:
a limit or terms become a limit request, a hold status is refused with a located error."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import Customer
from limits.models import LimitRequest
from limits.services import decision_apply
from tests.admin_forms import admin_post
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(org, member):
    user = member(org, Role.INTEGRATOR)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_the_admin_shows_the_limit_read_only_and_turns_a_requested_limit_into_a_request(client, org, member):
    officer = member(org, Role.CREDIT_OFFICER)
    client.force_login(officer)
    customer = CustomerFactory(organization=org, credit_limit=Decimal("15000.00"))
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = client.get(url).content.decode()
    assert 'name="credit_limit"' not in page and 'name="payment_terms_days"' not in page
    response = admin_post(client, url, credit_limit="900000", requested_credit_limit="900000.00",
                          requested_terms_days="90", request_reason="big order coming")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.credit_limit, customer.payment_terms_days) == (Decimal("15000.00"), 30)
    request = LimitRequest.objects.get(customer=customer)
    assert (request.requested_limit, request.requested_terms_days, request.source, request.requested_by) == (
        Decimal("900000.00"), 90, "admin", officer)
    assert not AuditEntry.objects.filter(action="customer.limit_changed").exists()


def test_the_admin_refuses_a_hold_status_with_a_located_error(client, org, member):
    client.force_login(member(org, Role.CREDIT_MANAGER))
    customer = CustomerFactory(organization=org)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    response = admin_post(client, url, status="on_hold")
    assert response.status_code == 200
    assert "placed and lifted as holds" in response.content.decode()
    customer.refresh_from_db()
    assert customer.status == "active"
    held = CustomerFactory(organization=org, status="on_hold")
    response = admin_post(client, reverse("admin:customers_customer_change", args=[held.pk]), status="active")
    assert response.status_code == 200 and Customer.objects.get(pk=held.pk).status == "on_hold"


def test_an_api_patch_of_the_limit_becomes_a_request_and_leaves_the_limit(api, org):
    customer = CustomerFactory(organization=org)
    decision_apply(organization=org, customer=customer, limit=Decimal("15000"), kind="approved", actor=None)
    response = api.patch(f"/api/v1/customers/{customer.pk}/", {"credit_limit": "900000.00",
                                                               "payment_terms_days": 120}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["credit_limit"] == "15000.00" and body["payment_terms_days"] == 30
    assert body["limit_request"]["requested_limit"] == "900000.00"
    assert body["limit_request"]["requested_terms_days"] == 120
    assert body["limit_request"]["approvers_required"] == 2
    assert LimitRequest.objects.get(customer=customer).source == "api"


def test_an_api_patch_cannot_lift_a_hold_or_place_one(api, org):
    held = CustomerFactory(organization=org, status="on_hold")
    response = api.patch(f"/api/v1/customers/{held.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["details"][0]["field"] == "status" and "holds" in body["message"]
    assert Customer.objects.get(pk=held.pk).status == "on_hold"
    active = CustomerFactory(organization=org)
    assert api.patch(f"/api/v1/customers/{active.pk}/", {"status": "blocked"}, format="json").status_code == 400
    assert Customer.objects.get(pk=active.pk).status == "active"


def test_a_new_customer_with_a_limit_is_created_without_one_and_a_request_waits(api, org):
    new = {"external_id": "API-9", "legal_name": "Api GmbH", "country": "DE", "sector": "C", "currency": "EUR",
           "payment_terms_days": 30, "credit_limit": "25000.00"}
    response = api.post("/api/v1/customers/", new, format="json")
    assert response.status_code == 201
    customer = Customer.objects.get(external_id="API-9")
    assert customer.credit_limit is None and response.json()["limit_request"]["status"] == "pending"
    refused = api.post("/api/v1/customers/", {**new, "external_id": "API-10", "status": "blocked"}, format="json")
    assert refused.status_code == 400 and not Customer.objects.filter(external_id="API-10").exists()
