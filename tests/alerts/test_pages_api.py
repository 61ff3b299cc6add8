"""The alerts page (filters, bulk acknowledge/assign, pagination), the includes, the navigation count, the
API list and update."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from alerts.models import Alert, AlertPolicy
from alerts.services import evaluate_customers
from credit_platform.roles import Role
from tests.factories import CustomerFactory, InvoiceFactory

from .conftest import AS_OF, days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerts(org):
    """Three customers over 90% of their limit (medium) and one with an insolvency filing (critical)."""
    AlertPolicy.objects.create(organization=org, thresholds={"concentration": {"enabled": False}})
    customers = []
    for n in range(3):
        c = CustomerFactory(organization=org, credit_limit=Decimal("1000"), legal_name=f"Limit {n} AG")
        InvoiceFactory(customer=c, organization=org, issue_date=days_ago(5), due_date=days_ago(-25),
                       amount=Decimal("950.00"))
        customers.append(c)
    filing = CustomerFactory(organization=org, legal_name="Failing GmbH")
    filing.signals.create(organization=org, kind="insolvency_filing", observed_on=days_ago(2), source="court",
                          reference="INS-9", title="Insolvency proceedings opened")
    evaluate_customers(organization=org, as_of=AS_OF)
    return customers, filing


def test_the_page_filters_and_shows_reasons(client, org, member, alerts, django_assert_max_num_queries):
    client.force_login(member(org, Role.COLLECTOR))
    with django_assert_max_num_queries(20):
        page = client.get(reverse("alert-list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Failing GmbH" in body and "Limit 0 AG" in body
    assert body.index("Failing GmbH") < body.index("Limit 0 AG")  # the critical alert heads the list
    assert "exposure 950.00 EUR (open receivables and orders) uses 95% of the credit limit (threshold 90%)" in body
    assert '<span class="badge high">4</span>' in body  # the navigation count

    critical = client.get(reverse("alert-list"), {"severity": "critical"}).content.decode()
    assert "Failing GmbH" in critical and "Limit 0 AG" not in critical
    by_customer = client.get(reverse("alert-list"), {"customer": "Limit 1"}).content.decode()
    assert "Limit 1 AG" in by_customer and "Limit 2 AG" not in by_customer
    by_kind = client.get(reverse("alert-list"), {"indicator": "ews.adverse_signal"}).content.decode()
    assert "Failing GmbH" in by_kind and "Limit 0 AG" not in by_kind


def test_bulk_acknowledge_and_assign_from_the_page(client, org, member, alerts):
    collector = member(org, Role.COLLECTOR)
    client.force_login(collector)
    ids = [str(pk) for pk in Alert.objects.for_organization(org).filter(kind="ews.limit_utilisation")
           .values_list("pk", flat=True)]

    client.post(reverse("alert-list"), {"alerts": ids[:2], "action": "acknowledge"})
    client.post(reverse("alert-list"), {"alerts": ids, "action": "assign", "assignee": collector.pk})

    limit_alerts = Alert.objects.for_organization(org).filter(kind="ews.limit_utilisation")
    assert sorted(limit_alerts.values_list("status", flat=True)) == ["acknowledged", "acknowledged", "open"]
    assert set(limit_alerts.values_list("assignee", flat=True)) == {collector.pk}
    mine = client.get(reverse("alert-list"), {"assignee": "me"}).content.decode()
    assert "Limit 0 AG" in mine and "Failing GmbH" not in mine
    # a malformed id is refused, nothing changes
    assert client.post(reverse("alert-list"), {"alerts": ["1,5"], "action": "acknowledge"}).status_code == 400


def test_auditors_read_but_cannot_act_and_other_tenants_do_not_see(client, org, other_org, member, alerts):
    alert = Alert.objects.for_organization(org).filter(kind="ews.limit_utilisation").first()
    client.force_login(member(org, Role.AUDITOR))
    assert client.get(reverse("alert-detail", args=[alert.pk])).status_code == 200
    assert client.post(reverse("alert-list"), {"alerts": [alert.pk], "action": "acknowledge"}).status_code == 403
    response = client.post(reverse("alert-detail", args=[alert.pk]), {"action": "acknowledge"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == "open"
    client.force_login(member(other_org, Role.ADMIN))
    assert client.get(reverse("alert-detail", args=[alert.pk])).status_code == 404


def test_dismiss_without_a_reason_is_refused_on_the_page(client, org, member, alerts):
    alert = Alert.objects.for_organization(org).filter(kind="ews.limit_utilisation").first()
    client.force_login(member(org, Role.CREDIT_MANAGER))
    response = client.post(reverse("alert-detail", args=[alert.pk]), {"action": "dismiss", "reason": ""})
    assert response.status_code == 400
    assert "Say why the alert is dismissed." in response.content.decode()
    client.post(reverse("alert-detail", args=[alert.pk]), {"action": "dismiss", "reason": "limit raised today"})
    alert.refresh_from_db()
    assert (alert.status, alert.status_reason) == ("dismissed", "limit raised today")


def test_pagination(client, org, member):
    AlertPolicy.objects.create(organization=org, thresholds={"concentration": {"enabled": False}})
    for n in range(55):
        Alert.objects.create(organization=org, kind="ews.limit_utilisation", title=f"alert {n}",
                             dedup_key=f"k{n}", details={})
    client.force_login(member(org, Role.COLLECTOR))
    first = client.get(reverse("alert-list")).content.decode()
    second = client.get(reverse("alert-list"), {"page": 2}).content.decode()
    assert "Page 1 of 2" in first and first.count('class="pick"') == 50
    assert second.count('class="pick"') == 5


def test_customer_page_and_overview_show_the_alerts(client, org, member, alerts):
    _customers, filing = alerts
    client.force_login(member(org, Role.CREDIT_OFFICER))
    page = client.get(reverse("customer-detail", args=[filing.pk])).content.decode()
    assert "Insolvency filing on" in page and "Limit 0 AG" not in page
    home = client.get(reverse("home")).content.decode()
    assert "4 active" in home


def test_api_lists_and_updates(client, org, member, alerts):
    collector = member(org, Role.COLLECTOR)
    client.force_login(collector)
    listed = client.get("/api/v1/alerts/", {"severity": "critical"}).json()
    [row] = listed.get("results", listed)
    assert row["indicator"] == "adverse_signal"
    assert row["reasons"]["zh-hans"][0].startswith("2026-11-27 破产申请")

    done = client.post(f"/api/v1/alerts/{row['id']}/", {"action": "assign", "assignee": collector.username},
                       content_type="application/json")
    assert done.status_code == 200 and done.json()["assignee"] == collector.username
    bad = client.post(f"/api/v1/alerts/{row['id']}/", {"action": "snooze", "until": "2020-01-01"},
                      content_type="application/json")
    assert bad.status_code == 400
    wrong = client.post(f"/api/v1/alerts/{row['id']}/", {"action": "explode"}, content_type="application/json")
    assert wrong.status_code == 400 and "action" in str(wrong.json())


def test_credit_managers_change_thresholds_on_the_page(client, org, member):
    from credit_platform.models import AuditEntry

    client.force_login(member(org, Role.CREDIT_OFFICER))
    assert client.post(reverse("alert-policy"), {"limit_utilisation.share": "0.8"}).status_code == 403
    manager = member(org, Role.CREDIT_MANAGER)
    client.force_login(manager)
    page = client.get(reverse("alert-policy")).content.decode()
    assert 'name="order_anomaly.ratio" value="3.0"' in page

    bad = client.post(reverse("alert-policy"), {"limit_utilisation.share": "lots",
                                                 **{f"{k}.enabled": "on" for k in ("limit_utilisation",)}})
    assert bad.status_code == 400
    assert "limit_utilisation.share: &#x27;lots&#x27; is not a number" in bad.content.decode()
    assert not AlertPolicy.objects.filter(organization=org).exists()

    client.post(reverse("alert-policy"), {"limit_utilisation.share": "0.8", "reason": "downturn",
                                          **{f"{k}.enabled": "on" for k in ("limit_utilisation", "covenant")}})
    policy = AlertPolicy.objects.get(organization=org)
    assert policy.thresholds["limit_utilisation"] == {"share": 0.8}
    assert policy.thresholds["order_anomaly"] == {"enabled": False}  # its box was not ticked
    assert AuditEntry.objects.filter(organization=org, action="alert.policy_changed", actor=manager,
                                     reason="downturn").exists()


def test_odd_filter_values_answer_an_empty_or_full_list_not_an_error(client, org, member, alerts):
    client.force_login(member(org, Role.COLLECTOR))
    for params in ({"customer": "²"}, {"assignee": "99999999999999999999999"}, {"severity": "bogus"},
                   {"status": "weird"}, {"page": "x"}):
        assert client.get(reverse("alert-list"), params).status_code == 200
        assert client.get("/api/v1/alerts/", params).status_code in (200, 404)
