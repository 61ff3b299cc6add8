"""The REST API: token auth, tenant scoping, audited writes, one error format."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import Customer
from tests.factories import CustomerFactory, InvoiceFactory, StatementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(org, member):
    def make(role=Role.INTEGRATOR, organization=None):
        user = member(organization or org, role)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    return make


NEW = {"external_id": "API-1", "legal_name": "Api GmbH", "country": "DE", "sector": "C", "currency": "EUR",
       "payment_terms_days": 30, "status": "active", "credit_limit": "25000.00"}


def test_create_read_update_customer_with_token(api, org):
    client = api()
    response = client.post("/api/v1/customers/", NEW, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert Customer.objects.get(pk=pk).organization == org
    response = client.patch(f"/api/v1/customers/{pk}/", {"status": "closed"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert AuditEntry.objects.filter(action="customer.status_changed", object_id=str(pk)).exists()
    assert client.get("/api/v1/customers/", {"status": "closed"}).json()["results"][0]["id"] == pk


def test_duplicate_external_id_is_a_conflict_naming_the_existing_customer(api, org):
    existing = CustomerFactory(organization=org, external_id="API-1")
    response = api().post("/api/v1/customers/", NEW, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict" and body["details"] == {"id": existing.pk}


def test_validation_errors_are_located(api):
    response = api().post("/api/v1/customers/", {**NEW, "country": "XX", "currency": "EURO",
                                                 "payment_terms_days": 500}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    fields = {d["field"] for d in body["details"]}
    assert {"country", "currency", "payment_terms_days"} <= fields
    assert not Customer.objects.exists()


def test_statement_create_is_validated(api, org):
    customer = CustomerFactory(organization=org, external_id="C1")
    stmt = {k: str(getattr(StatementFactory.build(customer=customer), k)) for k in (
        "period_end", "currency", "cash", "receivables", "inventory", "current_assets", "total_assets",
        "current_liabilities", "total_liabilities", "equity", "revenue", "ebit", "ebitda", "interest_expense",
        "net_income")}
    client = api()
    bad = client.post("/api/v1/statements/", {**stmt, "customer": "C1", "equity": "100"}, format="json")
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "equity"
    good = client.post("/api/v1/statements/", {**stmt, "customer": "C1"}, format="json")
    assert good.status_code == 201 and good.json()["ratios"]["current_ratio"] == 2.0
    # created through the service: in the ledger with its figures, by the token's user
    [entry] = AuditEntry.objects.for_organization(org).filter(action="statement.created",
                                                              object_id=str(good.json()["id"]))
    assert entry.after["customer"] == customer.pk and entry.after["revenue"] == "2000.00"
    assert entry.reason == "api" and entry.actor_id is not None
    again = client.post("/api/v1/statements/", {**stmt, "customer": "C1"}, format="json")
    assert again.status_code == 400  # one statement per customer and period
    assert AuditEntry.objects.for_organization(org).filter(action="statement.created").count() == 1


def test_customer_create_and_profile_changes_through_the_api_are_in_the_ledger(api, org):
    client = api()
    pk = client.post("/api/v1/customers/", NEW, format="json").json()["id"]
    assert AuditEntry.objects.for_organization(org).filter(action="customer.created", object_id=str(pk)).exists()
    client.patch(f"/api/v1/customers/{pk}/", {"email": "ap@api.example", "legal_name": "Api AG"}, format="json")
    [entry] = AuditEntry.objects.for_organization(org).filter(action="customer.changed", object_id=str(pk))
    assert entry.before == {"legal_name": "Api GmbH", "email": ""}
    assert entry.after == {"legal_name": "Api AG", "email": "ap@api.example"}


def test_roles_limit_writes(api):
    assert api(Role.AUDITOR).post("/api/v1/customers/", NEW, format="json").status_code == 403
    assert api(Role.COLLECTOR).post("/api/v1/customers/", NEW, format="json").status_code == 403
    assert api(Role.AUDITOR).get("/api/v1/customers/").status_code == 200


def test_invoices_carry_open_balance_and_filter(api, org):
    customer = CustomerFactory(organization=org, external_id="C1")
    InvoiceFactory(customer=customer, number="INV-A")
    body = api().get("/api/v1/invoices/", {"customer": "C1", "is_open": "true"}).json()
    assert [(i["number"], i["open_amount"]) for i in body["results"]] == [("INV-A", "100.00")]


def test_unauthenticated_gets_a_coded_error():
    response = APIClient().get("/api/v1/customers/")
    assert response.status_code in (401, 403) and response.json()["code"] == "permission_denied"
