"""One alert per indicator and customer, updated not repeated; transitions, who may make them, the ledger;
contingency actions per severity through the registry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from alerts import contingency
from alerts.models import Alert
from alerts.services import alert_policy_update, alert_transition, alerts_bulk, evaluate_customers
from credit_platform.errors import AppError
from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import ExternalSignal
from tests.factories import CustomerFactory, InvoiceFactory

from .conftest import AS_OF, days_ago

pytestmark = pytest.mark.django_db

LIMIT = "ews.limit_utilisation"


def _over_limit(org, amount="900.00"):
    customer = CustomerFactory(organization=org, credit_limit=Decimal("1000"))
    InvoiceFactory(customer=customer, organization=org, issue_date=days_ago(5), due_date=days_ago(-25),
                   amount=Decimal(amount))
    return customer


def _actions(alert):
    return list(AuditEntry.objects.filter(organization_id=alert.organization_id, object_id=str(alert.pk),
                                          object_type="alerts.alert").order_by("seq").values_list("action", flat=True))


def test_raising_twice_updates_the_one_open_alert_and_clearing_resolves_it(org):
    customer = _over_limit(org)

    evaluate_customers(organization=org, as_of=AS_OF)
    evaluate_customers(organization=org, customer_ids=[customer.pk], as_of=AS_OF)

    [alert] = Alert.objects.for_organization(org).filter(kind="ews.limit_utilisation")
    assert (alert.status, alert.occurrences, alert.customer_id) == ("open", 2, customer.pk)
    assert alert.dedup_key == f"ews.limit_utilisation:customer-{customer.pk}"

    # the condition clears (the limit is raised): the system resolves the alert, in the ledger
    customer.credit_limit = Decimal("5000")
    customer.save()
    evaluate_customers(organization=org, customer_ids=[customer.pk], as_of=AS_OF)
    alert.refresh_from_db()
    assert (alert.status, alert.status_reason) == ("resolved", "condition cleared")
    # and when it returns, the same alert re-opens
    customer.credit_limit = Decimal("1000")
    customer.save()
    evaluate_customers(organization=org, as_of=AS_OF)
    alert.refresh_from_db()
    assert alert.status == "open"
    assert Alert.objects.for_organization(org).filter(kind="ews.limit_utilisation").count() == 1
    assert _actions(alert) == ["alert.opened", "alert.resolved", "alert.reopened"]


def test_transitions_and_who_may_make_them(org, member):
    customer = _over_limit(org)
    evaluate_customers(organization=org, as_of=AS_OF)
    alert = Alert.objects.for_organization(org).get(customer=customer, kind=LIMIT)
    collector, auditor, manager = member(org, Role.COLLECTOR), member(org, Role.AUDITOR), member(
        org, Role.CREDIT_MANAGER)

    with pytest.raises(AppError) as denied:
        alert_transition(alert=alert, action="acknowledge", actor=auditor)
    assert denied.value.status == 403
    alert_transition(alert=alert, action="acknowledge", actor=collector)
    alert_transition(alert=alert, action="assign", actor=collector, assignee=collector)
    alert_transition(alert=alert, action="snooze", actor=collector, until=AS_OF + dt.timedelta(days=7))
    with pytest.raises(AppError) as twice:
        alert_transition(alert=alert, action="acknowledge", actor=collector)
    assert twice.value.status == 409
    with pytest.raises(AppError):  # dismissing is the credit manager's decision
        alert_transition(alert=alert, action="dismiss", actor=collector, reason="known")
    with pytest.raises(AppError) as no_reason:
        alert_transition(alert=alert, action="dismiss", actor=manager, reason=" ")
    assert no_reason.value.details == {"reason": "required"}
    alert_transition(alert=alert, action="dismiss", actor=manager, reason="seasonal peak, agreed with sales")
    alert.refresh_from_db()
    assert (alert.status, alert.assignee, alert.snoozed_until, alert.resolved_by) == (
        "dismissed", collector, AS_OF + dt.timedelta(days=7), manager)
    # a dismissed alert stays dismissed while the same condition holds at the same severity
    evaluate_customers(organization=org, as_of=AS_OF)
    alert.refresh_from_db()
    assert alert.status == "dismissed"
    entries = AuditEntry.objects.filter(organization=org, object_type=alert._meta.label_lower,
                                        object_id=str(alert.pk)).order_by("seq")
    assert [(e.action, e.actor_id) for e in entries] == [
        ("alert.opened", None), ("alert.acknowledge", collector.pk), ("alert.assign", collector.pk),
        ("alert.snooze", collector.pk), ("alert.dismiss", manager.pk)]
    assert entries.last().reason == "seasonal peak, agreed with sales"


def test_snooze_and_assignee_are_validated(org, other_org, member):
    customer = _over_limit(org)
    evaluate_customers(organization=org, as_of=AS_OF)
    alert = Alert.objects.for_organization(org).get(customer=customer, kind=LIMIT)
    officer, outsider = member(org, Role.CREDIT_OFFICER), member(other_org, Role.COLLECTOR)
    for until in (AS_OF, AS_OF + dt.timedelta(days=91), None):
        with pytest.raises(AppError):
            alert_transition(alert=alert, action="snooze", actor=officer, until=until)
    with pytest.raises(AppError) as foreign:
        alert_transition(alert=alert, action="assign", actor=officer, assignee=outsider)
    assert "assignee" in foreign.value.details
    alert.refresh_from_db()
    assert (alert.snoozed_until, alert.assignee) == (None, None)


def test_bulk_acknowledge_skips_alerts_not_open(org, member):
    a, b = _over_limit(org), _over_limit(org)
    evaluate_customers(organization=org, as_of=AS_OF)
    collector = member(org, Role.COLLECTOR)
    first = Alert.objects.for_organization(org).get(customer=a, kind=LIMIT)
    alert_transition(alert=first, action="acknowledge", actor=collector)

    limit_alerts = Alert.objects.for_organization(org).filter(kind=LIMIT)
    done = alerts_bulk(organization=org, alert_ids=limit_alerts.values_list("pk", flat=True), action="acknowledge",
                       actor=collector)

    assert done == 1
    assert set(limit_alerts.values_list("status", flat=True)) == {"acknowledged"}
    assert limit_alerts.get(customer=b).status == "acknowledged"


def test_critical_alert_runs_the_registered_contingency_actions(org, django_capture_on_commit_callbacks):
    held = []
    previous = contingency.register("credit_hold", lambda alert, *, actor: held.append(alert.customer_id) or "held")
    review = contingency.register("limit_review", None)
    try:
        customer = CustomerFactory(organization=org)
        ExternalSignal.objects.create(organization=org, customer=customer, kind="insolvency_filing",
                                      observed_on=days_ago(1), source="court", reference="INS-1")
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_customers(organization=org, as_of=AS_OF)
    finally:
        contingency.register("credit_hold", previous)
        contingency.register("limit_review", review)
    alert = Alert.objects.for_organization(org).get(kind="ews.adverse_signal")
    assert alert.severity == "critical"
    assert held == [customer.pk]
    runs = AuditEntry.objects.filter(organization=org, action="alert.contingency", object_id=str(alert.pk))
    assert sorted((e.after["action"], e.after["outcome"]) for e in runs) == [
        ("credit_hold", "held"), ("limit_review", "not registered")]


def test_thresholds_are_edited_by_credit_managers_with_a_ledger_entry(org, member):
    manager, officer = member(org, Role.CREDIT_MANAGER), member(org, Role.CREDIT_OFFICER)
    customer = _over_limit(org, amount="800.00")

    with pytest.raises(AppError):
        alert_policy_update(organization=org, actor=officer, thresholds={"limit_utilisation": {"share": 0.8}})
    with pytest.raises(AppError) as bad:
        alert_policy_update(organization=org, actor=manager, thresholds={"limit_utilisation": {"share": "lots"},
                                                                         "order_anomaly": {"ratio": 0.5}})
    assert set(bad.value.details) == {"limit_utilisation.share", "order_anomaly.ratio"}
    evaluate_customers(organization=org, as_of=AS_OF)
    assert not Alert.objects.for_organization(org).filter(customer=customer, kind=LIMIT).exists()

    alert_policy_update(organization=org, actor=manager, thresholds={"limit_utilisation": {"share": 0.8}},
                        reason="tighter in the downturn")
    evaluate_customers(organization=org, as_of=AS_OF)

    assert Alert.objects.for_organization(org).filter(customer=customer, kind="ews.limit_utilisation").exists()
    entry = AuditEntry.objects.get(organization=org, action="alert.policy_changed")
    assert (entry.actor_id, entry.after["thresholds"]) == (manager.pk, {"limit_utilisation": {"share": 0.8}})


def test_a_critical_alert_holds_the_customers_orders_and_brings_its_review_forward_once(
        org, django_capture_on_commit_callbacks):
    """The limits app serves the contingency actions: a hold of source 'alert' that blocks orders and a
    review due today, each in the ledger; re-evaluating the same alert adds no second hold."""
    from limits.models import Hold, Review

    customer = CustomerFactory(organization=org)
    ExternalSignal.objects.create(organization=org, customer=customer, kind="insolvency_filing",
                                  observed_on=days_ago(1), source="court", reference="INS-9")
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_customers(organization=org, as_of=AS_OF)
    hold = Hold.objects.get(customer=customer)
    assert (hold.source, hold.kind, hold.released_at) == ("alert", "hold", None)
    customer.refresh_from_db()
    assert customer.status == "on_hold"
    review = Review.objects.get(customer=customer)
    assert (review.kind, review.due_on) == ("alert", org.local_date())
    assert AuditEntry.objects.filter(organization=org, action="hold.placed").count() == 1
    assert AuditEntry.objects.filter(organization=org, action="review.required").exists()


def test_limit_utilisation_counts_open_orders_as_the_order_credit_check_does(org):
    """Exposure is one figure: an order not yet invoiced uses the limit on the alert as in the credit check."""
    from alerts.selectors import limit_figures
    from limits.selectors import exposure_by_customer
    from tests.factories import OrderFactory

    customer = _over_limit(org, amount="600.00")  # 60% of its 1,000 limit: below the 90% threshold
    evaluate_customers(organization=org, as_of=AS_OF)
    assert not Alert.objects.for_organization(org).filter(kind=LIMIT).exists()

    OrderFactory(customer=customer, order_date=days_ago(1), amount=Decimal("350.00"))
    evaluate_customers(organization=org, as_of=AS_OF)
    alert = Alert.objects.for_organization(org).get(kind=LIMIT, customer=customer)
    assert "exposure 950.00 EUR (open receivables and orders) uses 95%" in alert.title
    assert limit_figures(org, AS_OF, [customer.pk])[customer.pk].open == exposure_by_customer(
        org, [customer.pk], as_of=AS_OF)[customer.pk] == Decimal("950.00")


def test_the_customers_of_one_transaction_are_evaluated_by_one_task(org, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    from django.db import transaction

    from alerts import services, tasks

    sent = []
    monkeypatch.setattr(tasks.evaluate_customer_list, "delay", lambda org_id, ids: sent.append((org_id, ids)))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.evaluate_on_commit(org.pk, [3, 1])
        services.evaluate_on_commit(org.pk, [2, 3])

    assert sent == [(org.pk, [1, 2, 3])]
