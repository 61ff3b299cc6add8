"""Collections pages and API: tenant-scoped, capability-checked, thin over the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from receivables.dunning.policy import dunning_policy_ensure_default
from receivables.models import CollectionProfile, Dispute, DunningLevel, PromiseToPay
from tests.factories import CustomerFactory

from .conftest import invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org):
    today = org.local_date()
    customers = []
    for k in range(12):
        c = CustomerFactory(organization=org, legal_name=f"Kunde {k} GmbH" if k else "上海华信贸易有限公司")
        invoice(
            c, f"{100 * (k + 1)}.00", today - dt.timedelta(days=200), today - dt.timedelta(days=5 + 10 * k)
        )
        customers.append(c)
    return customers


def test_pages_render_for_a_collector(client, org, member, book, django_assert_max_num_queries):
    user = member(org, Role.COLLECTOR)
    client.force_login(user)
    CollectionProfile.objects.create(organization=org, customer=book[3], collector=user)
    with django_assert_max_num_queries(25):
        page = client.get(reverse("collections-worklist"), {"scope": "all"})
    assert page.status_code == 200 and page.context["total"] == 12
    assert page.context["items"][0].customer == book[11]  # the largest and oldest overdue first
    assert "上海华信贸易有限公司" in page.content.decode()
    mine = client.get(reverse("collections-worklist"))
    assert [it.customer for it in mine.context["items"]] == [book[3]]
    for name in ("collections-overview", "collections-dunning", "collections-ecl"):
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("collections-overview"), {"by": "sector"}).status_code == 200
    file = client.get(reverse("collections-file", args=[book[0].pk]))
    assert file.status_code == 200 and file.context["file"].invoices
    pdf = client.get(reverse("collections-statement", args=[book[0].pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_another_tenants_customer_is_404(client, org, other_org, member):
    client.force_login(member(org, Role.COLLECTOR))
    stranger = CustomerFactory(organization=other_org)
    assert client.get(reverse("collections-file", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("collections-statement", args=[stranger.pk])).status_code == 404
    assert client.post(reverse("collections-file", args=[stranger.pk]), {"action": "note"}).status_code == 404


def test_collector_records_a_promise_and_a_call_from_the_page(client, org, member, book):
    client.force_login(member(org, Role.COLLECTOR))
    url = reverse("collections-file", args=[book[1].pk])
    due = org.local_date() + dt.timedelta(days=10)
    response = client.post(url, {"action": "promise", "amount": "150.00", "promised_date": due.isoformat()})
    assert response.status_code == 302
    promise = PromiseToPay.objects.get()
    assert (promise.customer, promise.amount) == (book[1], Decimal("150.00"))
    client.post(url, {"action": "note", "outcome": "reached", "note": "spoke to AP"})
    client.post(
        url,
        {
            "action": "profile",
            "do_not_dun": "on",
            "do_not_dun_reason": "insolvency filed",
            "language": "",
            "dunning_email": "",
        },
    )
    assert CollectionProfile.objects.get(customer=book[1]).do_not_dun
    bad = client.post(url, {"action": "promise", "amount": "-5", "promised_date": due.isoformat()})
    assert bad.status_code == 200 and bad.context["promise_form"].errors
    assert {"promise.created", "collections.call_logged", "collections.profile_changed"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )


def test_policy_edits_need_policy_capability(client, org, member, book):
    policy = dunning_policy_ensure_default(org)
    level = policy.levels.get(days=15)
    client.force_login(member(org, Role.COLLECTOR))  # may run the dunning, not change the policy
    assert client.post(reverse("collections-dunning"), {"action": "level", "level": level.pk}).status_code == 403
    client.force_login(member(org, Role.CREDIT_MANAGER))
    data = {
        "action": "level",
        "level": level.pk,
        "days": 14,
        "name": "Second reminder",
        "is_active": "on",
        "send_message": "on",
        "task": "call",
        "subject_en": "Overdue - {{ organization }}",
        "body_en": "Dear {{ customer }}, {% for i in items %}{{ i.number }}{% endfor %}",
        "subject_zh": "",
        "body_zh": "",
    }
    assert client.post(reverse("collections-dunning"), data).status_code == 302
    assert DunningLevel.objects.get(pk=level.pk).days == 14
    broken = client.post(reverse("collections-dunning"), {**data, "body_en": "{% for i in items %}"})
    assert broken.status_code == 200 and "not a valid template" in broken.content.decode()
    assert AuditEntry.objects.filter(action="dunning.level_changed").count() == 1


@pytest.fixture
def api(org, member):
    def make(role=Role.COLLECTOR, organization=None):
        client = APIClient()
        user = member(organization or org, role)
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    return make


def test_api_promises_and_disputes(api, org, other_org, book):
    client = api()
    inv = book[2].invoices.get()
    r = client.post(
        "/api/v1/promises/",
        {"customer": book[2].external_id, "amount": "300.00", "promised_date": "2026-12-15"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["currency"] == "EUR"
    r = client.post("/api/v1/disputes/", {"invoice": inv.number, "reason": "price"}, format="json")
    assert r.status_code == 201 and Dispute.objects.get().invoice == inv
    again = client.post(
        "/api/v1/disputes/", {"invoice": inv.number, "reason": "price"}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    pk = r.json()["id"]
    assert (
        client.post(f"/api/v1/disputes/{pk}/resolve/", {"status": "rejected"}, format="json").json()[
            "status"
        ]
        == "rejected"
    )
    unknown = client.post(
        "/api/v1/promises/",
        {"customer": "NOPE", "amount": "1.00", "promised_date": "2026-12-15"},
        format="json",
    )
    assert unknown.status_code == 400 and unknown.json()["details"][0]["field"] == "customer"
    assert client.get("/api/v1/promises/").json()["results"][0]["amount"] == "300.00"
    # another tenant sees none of it and cannot touch it
    stranger = api(organization=other_org)
    assert stranger.get("/api/v1/disputes/").json()["results"] == []
    assert (
        stranger.post(
            f"/api/v1/disputes/{pk}/resolve/", {"status": "resolved"}, format="json"
        ).status_code
        == 404
    )
    assert (
        api(role=Role.AUDITOR)
        .post("/api/v1/disputes/", {"invoice": inv.number, "reason": "price"}, format="json")
        .status_code
        == 403
    )
