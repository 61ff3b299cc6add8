"""Ids above 1,000 in forms, URLs and data attributes (USE_THOUSAND_SEPARATOR is on): never "1,577"."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from receivables.models import CollectionProfile, CollectionTask, Dispute, DunningLevel
from receivables.services import dispute_open
from tests.factories import CustomerFactory

from .conftest import D, invoice

pytestmark = pytest.mark.django_db

LOCALIZED_ID = re.compile(r'(value|href|data-[\w-]+|action)="[^"]*\d,\d{3}')


@pytest.fixture
def big_ids(org, member, policy):
    """Customers 783 and 1577 overdue, a task 1,204 and a dispute 2,048 on customer 1,577, a level 1,300."""
    collector = member(org, Role.COLLECTOR, username="col")
    small = CustomerFactory(organization=org, pk=783, legal_name="Small id")
    big = CustomerFactory(organization=org, pk=1577, legal_name="Big id")
    one = CustomerFactory(organization=org, pk=1, legal_name="Customer one")
    for c in (small, big, one):
        invoice(c, "500.00", D(2026, 1, 1), D(2026, 2, 1))
    inv = invoice(big, "700.00", D(2026, 3, 1), D(2026, 4, 1))
    task = CollectionTask.objects.create(
        organization=org, pk=1204, customer=big, kind="call", due_date=D(2026, 11, 1), title="Call them",
        assigned_to=collector,
    )
    dispute = dispute_open(invoice=inv, reason="price", actor=collector)
    Dispute.objects.filter(pk=dispute.pk).update(id=2048)
    level = DunningLevel.objects.filter(policy=policy).first()
    DunningLevel.objects.filter(pk=level.pk).update(id=1300)
    return {"collector": collector, "small": small, "big": big, "one": one, "task": task,
            "dispute": Dispute.objects.get(pk=2048)}


def test_main_pages_render_ids_above_1000_without_separators(client, org, member, big_ids):
    client.force_login(member(org, Role.CREDIT_MANAGER))
    big = big_ids["big"]
    pages = [
        reverse("home"),
        reverse("customer-list"),
        reverse("customer-detail", args=[big.pk]),
        reverse("collections-worklist") + "?scope=all",
        reverse("collections-file", args=[big.pk]),
        reverse("collections-dunning"),
        reverse("collections-dunning") + "?level=1300",
        reverse("collections-overview"),
        reverse("collections-ecl"),
        reverse("scoring-home"),
        reverse("import-list"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not LOCALIZED_ID.search(html), (url, LOCALIZED_ID.search(html).group(0))
    html = client.get(reverse("collections-file", args=[big.pk])).content.decode()
    assert 'name="task" value="1204"' in html and 'name="dispute" value="2048"' in html
    assert 'value="1577"' in client.get(reverse("collections-worklist") + "?scope=all").content.decode()


def test_assign_selected_assigns_customer_1577_not_577_and_1(client, org, big_ids):
    collector = big_ids["collector"]
    client.force_login(collector)
    response = client.post(
        reverse("collections-worklist") + "?scope=all",
        {"customers": ["783", "1577"], "collector": collector.pk},
    )
    assert response.status_code == 302
    assigned = set(CollectionProfile.objects.filter(collector=collector).values_list("customer_id", flat=True))
    assert assigned == {783, 1577}


def test_assign_with_a_localized_id_is_refused_and_assigns_nobody(client, org, big_ids):
    collector = big_ids["collector"]
    client.force_login(collector)
    response = client.post(reverse("collections-worklist"), {"customers": ["783", "1,577"], "collector": collector.pk})
    assert response.status_code == 400
    assert "1,577" in response.content.decode() and "is not an id" in response.content.decode()
    assert not CollectionProfile.objects.exists()
    assert not AuditEntry.objects.filter(action="collections.assigned").exists()


def test_task_done_on_task_1204_closes_it_instead_of_a_500(client, org, big_ids):
    client.force_login(big_ids["collector"])
    url = reverse("collections-file", args=[1577])
    assert client.post(url, {"action": "task_done", "task": "1204"}).status_code == 302
    assert CollectionTask.objects.get(pk=1204).status == "done"


def test_task_cancel_with_a_localized_or_non_numeric_id_answers_400(client, org, big_ids):
    client.force_login(big_ids["collector"])
    url = reverse("collections-file", args=[1577])
    for bad in ("1,204", "abc", "12345678901234567890123", ""):
        response = client.post(url, {"action": "task_cancel", "task": bad})
        assert response.status_code == 400, bad
    assert CollectionTask.objects.get(pk=1204).status == "open"


def test_dispute_close_on_dispute_2048_closes_it(client, org, big_ids):
    client.force_login(big_ids["collector"])
    url = reverse("collections-file", args=[1577])
    assert client.post(url, {"action": "resolve", "dispute": "2,048", "status": "resolved"}).status_code == 400
    assert client.post(url, {"action": "resolve", "dispute": "2048", "status": "resolved"}).status_code == 302
    assert Dispute.objects.get(pk=2048).status == "resolved"


def test_dunning_level_1300_is_edited_and_a_bad_level_id_answers_400(client, org, member, big_ids):
    client.force_login(member(org, Role.CREDIT_MANAGER))
    level = DunningLevel.objects.get(pk=1300)
    data = {
        "action": "level", "level": "1300", "days": level.days, "name": "Renamed", "is_active": "on",
        "send_message": "on", "task": "", "subject_en": "s", "body_en": "b", "subject_zh": "", "body_zh": "",
    }
    assert client.post(reverse("collections-dunning"), data).status_code == 302
    assert DunningLevel.objects.get(pk=1300).name == "Renamed"
    assert client.post(reverse("collections-dunning"), {**data, "level": "1,300"}).status_code == 400
    assert client.post(reverse("collections-dunning"), {**data, "level": "abc"}).status_code == 400
    assert DunningLevel.objects.get(pk=1300).name == "Renamed"
