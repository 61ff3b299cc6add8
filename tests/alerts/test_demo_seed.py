"""The demo seed runs the sweep: a newcomer sees a realistic alert list, and a second sweep of the same
data repeats nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from alerts.models import Alert
from alerts.services import evaluate_customers
from credit_platform.models import Organization

from .conftest import AS_OF

pytestmark = pytest.mark.django_db


def test_seed_demo_raises_alerts_and_a_second_sweep_adds_none():
    call_command("seed_demo", customers=120, invoices=6000, as_of=AS_OF, organization="ews", quiet=True)
    org = Organization.objects.get(slug="ews")
    alerts = Alert.objects.for_organization(org).filter(kind__startswith="ews.")
    kinds = set(alerts.values_list("kind", flat=True))
    before = set(alerts.values_list("dedup_key", "status", "severity"))

    assert len(before) >= 10
    assert len(kinds) >= 4
    assert alerts.exclude(customer__isnull=False).count() == 0

    evaluate_customers(organization=org, as_of=AS_OF)

    assert set(alerts.values_list("dedup_key", "status", "severity")) == before
