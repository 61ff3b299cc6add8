"""Bounds at every entry (page, admin, API): magnitudes of money, business dates, lengths of text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from credit_platform.bounds import ADDRESS_MAX_CHARS, MONEY_MAX
from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import Customer, FinancialStatement
from limits.services import decision_apply
from receivables.models import CallNote, PromiseToPay
from tests.factories import CustomerFactory, InvoiceFactory, StatementFactory

pytestmark = pytest.mark.django_db

NEW = {"external_id": "API-1", "legal_name": "Api GmbH", "country": "DE", "sector": "C", "currency": "EUR",
       "payment_terms_days": 30, "status": "active"}


@pytest.fixture
def api(org, member):
    user = member(org, Role.INTEGRATOR)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_credit_limit_of_9_999_999_999_999_999_99_is_refused_and_no_customer_is_written(api):
    response = api.post("/api/v1/customers/", {**NEW, "credit_limit": "9999999999999999.99"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "credit_limit"
    assert not Customer.objects.exists() and not AuditEntry.objects.filter(action__startswith="customer.").exists()


def test_the_largest_allowed_amount_reads_back_on_every_database(org):
    c = CustomerFactory(organization=org)
    decision_apply(organization=org, customer=c, limit=MONEY_MAX, kind="approved", actor=None)
    read = Customer.objects.get(pk=c.pk)  # SQLite keeps a double: it must still fit numeric(18, 2)
    assert abs(read.credit_limit - MONEY_MAX) < 1
    FinancialStatement.objects.filter(pk=StatementFactory(customer=c, organization=org).pk).update(
        revenue=-MONEY_MAX
    )
    assert FinancialStatement.objects.get(customer=c).revenue < 0


def test_a_9_mb_address_is_refused_at_the_api(api):
    response = api.post("/api/v1/customers/", {**NEW, "address": "x" * (9 * 1024 * 1024)}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["details"][0]["field"] == "address" and str(ADDRESS_MAX_CHARS) in body["message"]
    assert not Customer.objects.exists()


def test_a_customer_since_in_year_1_is_refused_at_the_api(api):
    response = api.post("/api/v1/customers/", {**NEW, "customer_since": "0001-01-01"}, format="json")
    assert response.status_code == 400 and response.json()["details"][0]["field"] == "customer_since"


def test_the_admin_refuses_an_overlong_address_and_a_date_in_year_9999(client, org, member):
    client.force_login(member(org, Role.ADMIN))
    data = {
        "external_id": "ADM-1", "legal_name": "Admin GmbH", "registration_number": "", "status": "active",
        "country": "DE", "sector": "C", "size": "small", "currency": "EUR", "payment_terms_days": "30",
        "credit_limit": "", "email": "", "phone": "", "address": "y" * (ADDRESS_MAX_CHARS + 1),
        "customer_since": "9999-12-31",
    }
    response = client.post(reverse("admin:customers_customer_add"), data)
    assert response.status_code == 200  # the form again, with the errors
    errors = response.context["adminform"].form.errors
    assert "address" in errors and "customer_since" in errors
    assert not Customer.objects.exists()


def test_the_admin_refuses_a_revenue_beyond_the_money_bound(client, org, member):
    c = CustomerFactory(organization=org)
    client.force_login(member(org, Role.ADMIN))
    amounts = {f: "100" for f in ("cash", "receivables", "inventory", "current_assets", "current_liabilities",
                                  "ebit", "ebitda", "interest_expense", "net_income")}
    data = {"customer": c.pk, "period_end": "2025-12-31", "period_months": "12", "currency": "EUR",
            "source": "", "total_assets": "1000", "total_liabilities": "600", "equity": "400",
            "revenue": "9999999999999999", **amounts}
    response = client.post(reverse("admin:customers_financialstatement_add"), data)
    assert response.status_code == 200 and "revenue" in response.context["adminform"].form.errors
    assert not FinancialStatement.objects.exists()


def test_collections_page_refuses_an_oversized_promise_and_an_overlong_call_note(client, org, member):
    c = CustomerFactory(organization=org)
    InvoiceFactory(customer=c, organization=org, issue_date=dt.date(2026, 9, 1), due_date=dt.date(2026, 10, 1))
    client.force_login(member(org, Role.COLLECTOR))
    url = reverse("collections-file", args=[c.pk])
    response = client.post(url, {"action": "promise", "amount": "1" + "0" * 16, "promised_date": "2026-12-05"})
    assert response.status_code == 200 and "amount" in response.context["promise_form"].errors
    response = client.post(url, {"action": "note", "outcome": "reached", "note": "z" * 5000})
    assert response.status_code == 200 and "note" in response.context["note_form"].errors
    assert not PromiseToPay.objects.exists() and not CallNote.objects.exists()


def test_api_promise_beyond_the_money_bound_is_a_located_400(org, member):
    c = CustomerFactory(organization=org)
    client = APIClient()
    client.force_authenticate(member(org, Role.COLLECTOR))
    body = {"customer": c.external_id, "amount": str(MONEY_MAX + Decimal("0.01")), "promised_date": "2026-12-05"}
    response = client.post("/api/v1/promises/", body, format="json")
    assert response.status_code == 400 and response.json()["details"][0]["field"] == "amount"
