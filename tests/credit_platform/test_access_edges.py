"""Tenancy and access edges: an X-Organization header naming a tenant the user is not in writes nothing;
the import templates need a login."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import Customer
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

NEW = {"external_id": "TYPO-1", "legal_name": "Typo GmbH", "country": "DE", "sector": "C", "currency": "EUR",
       "payment_terms_days": 30, "status": "active"}


@pytest.fixture
def two_tenants_user(org, other_org, member):
    """A user who is a member of Acme and Globex (not of a third organization, Initech)."""
    from credit_platform.services import membership_grant

    user = member(org, Role.INTEGRATOR)
    membership_grant(organization=other_org, user=user, role=Role.INTEGRATOR)
    OrganizationFactory(name="Initech", slug="initech")
    return user


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_typo_in_x_organization_writes_nothing_into_the_first_tenant(two_tenants_user, org, other_org):
    client = token_client(two_tenants_user)
    response = client.post("/api/v1/customers/", NEW, format="json", HTTP_X_ORGANIZATION="glbex")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "permission_denied" and "glbex" in body["message"] and "globex" in body["message"]
    assert not Customer.objects.exists() and not AuditEntry.objects.filter(action="customer.created").exists()
    # a tenant that exists but is not theirs is refused the same way, by id or slug
    initech = OrganizationFactory(slug="initech")
    for hint in ("initech", str(initech.pk)):
        assert client.get("/api/v1/customers/", HTTP_X_ORGANIZATION=hint).status_code == 403
    # the right slug and the right id both work
    assert client.post("/api/v1/customers/", NEW, format="json", HTTP_X_ORGANIZATION="globex").status_code == 201
    assert Customer.objects.get().organization == other_org
    assert client.get("/api/v1/customers/", HTTP_X_ORGANIZATION=str(org.pk)).json()["results"] == []


def test_x_organization_with_a_session_answers_json_for_the_api_and_a_page_elsewhere(client, two_tenants_user):
    client.force_login(two_tenants_user)
    api = client.get("/api/v1/customers/", HTTP_X_ORGANIZATION="glbex")
    assert api.status_code == 403 and api["Content-Type"] == "application/json"
    assert api.json()["code"] == "permission_denied"
    page = client.get(reverse("customer-list"), HTTP_X_ORGANIZATION="glbex")
    assert page.status_code == 403 and "not a member of organization" in page.content.decode()
    malformed = client.get(reverse("customer-list"), HTTP_X_ORGANIZATION="²")
    assert malformed.status_code == 400


def test_the_import_templates_need_a_login_and_a_membership(client, org, member):
    url = reverse("import-template", args=["customers"])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    from tests.factories import UserFactory

    client.force_login(UserFactory())  # logged in, but a member of no organization
    assert client.get(url).status_code == 404
    client.force_login(member(org, Role.AUDITOR))
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="customers_template.csv"'
    assert response.content.decode().startswith("external_id,")
