"""Scoring pages and API: what a user sees, who may promote, and tenants kept apart."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from scoring import services
from scoring.models import ScoringModel, Trigger

from .book import AS_OF, D, make_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(org, other_org):
    book = make_book(org, other_org)
    services.score_customers(organization=org, as_of=D(2026, 3, 31), trigger=Trigger.BACKFILL)
    services.score_customers(organization=org, as_of=AS_OF)
    services.score_customers(organization=other_org, as_of=AS_OF)
    return book


def test_customer_page_shows_pd_grade_reasons_and_history(client, org, member, scored):
    client.force_login(member(org, Role.CREDIT_OFFICER))
    page = client.get(reverse("customer-detail", args=[scored.a.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Default risk" in text and "grade-badge" in text and "PD, 12 months" in text
    assert "Weighted by amount, pays 27 days late" in text  # the reason in the reader's language...
    assert "近6个月按金额加权平均逾期27天" not in text
    assert "<svg" in text and "<polyline" in text  # grade history sparkline, inline
    zh = client.get(reverse("customer-detail", args=[scored.a.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "近6个月按金额加权平均逾期27天" in zh and "Weighted by amount, pays 27" not in zh  # ...in Chinese
    new = client.get(reverse("customer-detail", args=[scored.b.pk])).content.decode()
    assert "No financial statements on file" in new  # the new customer is scored and flagged


def test_dashboard_and_scoring_page(client, org, member, scored):
    client.force_login(member(org, Role.CREDIT_OFFICER))
    home = client.get(reverse("home")).content.decode()
    assert "Risk grades" in home and "4 customers scored" in home
    page = client.get(reverse("scoring-home"))
    text = page.content.decode()
    assert page.status_code == 200 and "Model registry" in text and "Expert scorecard" in text
    assert "Promote to champion" not in text  # an officer may look, not promote
    model = ScoringModel.objects.get(organization=org, version=1)
    assert client.get(reverse("scoring-model", args=[model.pk])).status_code == 200


def test_only_credit_managers_promote(client, org, member, scored):
    services.expert_scorecard_publish(organization=org, actor=None)  # v2 becomes champion, v1 retired
    v1 = ScoringModel.objects.get(organization=org, version=1)
    client.force_login(member(org, Role.CREDIT_OFFICER))
    assert client.post(reverse("scoring-promote", args=[v1.pk])).status_code == 403
    manager = member(org, Role.CREDIT_MANAGER)
    client.force_login(manager)
    assert "Promote to champion" in client.get(reverse("scoring-home")).content.decode()
    response = client.post(reverse("scoring-promote", args=[v1.pk]), {"reason": "back to v1"})
    assert response.status_code == 302
    v1.refresh_from_db()
    assert v1.status == "retired"  # four eyes: requested, not yet promoted
    second = member(org, Role.CREDIT_MANAGER)
    client.force_login(second)
    client.post(reverse("scoring-promote", args=[v1.pk]), {"reason": "back to v1"})
    v1.refresh_from_db()
    assert v1.status == "champion"
    entry = AuditEntry.objects.filter(organization=org, action="scoring.model_promoted").order_by("-seq").first()
    assert (entry.actor_id, entry.reason, entry.after["champion"]) == (second.pk, "back to v1", 1)


def test_another_tenants_objects_answer_404(client, org, other_org, member, scored):
    client.force_login(member(org, Role.CREDIT_MANAGER))
    theirs = ScoringModel.objects.get(organization=other_org, status="champion")
    assert client.get(reverse("scoring-model", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("scoring-promote", args=[theirs.pk])).status_code == 404
    api = APIClient()
    api.force_authenticate(member(org, Role.INTEGRATOR))
    assert api.get(reverse("api:customer-score", args=[scored.other.pk])).status_code == 404


def test_api_gives_the_current_score_and_history(org, member, scored):
    api = APIClient()
    api.force_authenticate(member(org, Role.INTEGRATOR))
    response = api.get(reverse("api:customer-score", args=[scored.a.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["external_id"] == "A" and body["current"]["as_of"] == AS_OF.isoformat()
    assert 0 < body["current"]["pd"] < 1 and 1 <= body["current"]["grade"] <= 10
    first = body["current"]["reasons"][0]
    assert {"code", "value", "impact", "text_en", "text_zh"} <= set(first)
    assert [h["as_of"] for h in body["history"]] == ["2026-03-31", "2026-04-30"]
    assert body["grade_changes"][-1]["old_grade"] is None
    grades = api.get(reverse("api:grades")).json()
    assert grades["customers"] == 4 and len(grades["grades"]) == 10
    assert api.get(reverse("api:customer-score", args=[scored.b.pk])).json()["current"]["flags"]
    assert APIClient().get(reverse("api:grades")).status_code in (401, 403)
