"""Event-driven evaluation through a real Celery worker on Redis agrees with the nightly sweep."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

import alerts.tasks  # noqa: F401 - registers the shared tasks on the worker's app
from alerts.indicators import CUSTOMER_INDICATORS
from alerts.models import Alert
from receivables.services import payment_record
from tests.factories import CustomerFactory, InvoiceFactory

from .conftest import AS_OF, days_ago, paid_late

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

KINDS = [f"ews.{name}" for name in CUSTOMER_INDICATORS]


def _snapshot(org):
    return {(a.dedup_key, a.severity, a.status, str(a.details["reasons"])) for a in
            Alert.objects.for_organization(org).filter(kind__in=KINDS)}


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_posted_payment_is_evaluated_by_the_worker_as_the_sweep_would(worker_app, org):
    customer = CustomerFactory(organization=org, credit_limit=Decimal("1000"))
    quiet = CustomerFactory(organization=org, credit_limit=Decimal("1000"))
    paid_late(customer, paid_days_ago=40, late=20)
    paid_late(customer, paid_days_ago=60, late=25)
    late = InvoiceFactory(customer=customer, organization=org, issue_date=days_ago(60), due_date=days_ago(30),
                          amount=Decimal("100.00"))
    InvoiceFactory(customer=customer, organization=org, issue_date=days_ago(10), due_date=days_ago(-20),
                   amount=Decimal("950.00"))  # 95% of the limit
    InvoiceFactory(customer=quiet, organization=org, issue_date=days_ago(10), due_date=days_ago(-20),
                   amount=Decimal("100.00"))
    assert not Alert.objects.for_organization(org).exists()

    # when: the third late payment is posted (the service queues the customer's evaluation after commit)
    payment_record(customer=customer, reference="P-LATE", received_on=AS_OF, amount=Decimal("100.00"),
                   currency="EUR", invoice=late)

    # then: the worker raised its alerts within seconds
    assert _wait_for(lambda: Alert.objects.for_organization(org).filter(kind="ews.overdue_frequency").exists())
    by_event = _snapshot(org)
    assert {key.split(":")[0] for key, *_ in by_event} == {"ews.overdue_frequency", "ews.limit_utilisation"}

    # and the nightly sweep, on the same worker, gives the same answer for the same data
    assert worker_app.send_task("alerts.sweep", args=[org.pk, AS_OF.isoformat()]).get(timeout=120)["findings"] >= 2
    assert _snapshot(org) == by_event
    assert Alert.objects.for_organization(org).filter(kind__in=KINDS, customer=quiet).count() == 0
