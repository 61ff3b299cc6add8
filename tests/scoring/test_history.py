"""No look-ahead in training snapshots: credit limits and country/sector risk levels valid on the snapshot
date, never today's (``scoring.history``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.urls import reverse

from credit_platform.errors import AppError
from credit_platform.models import AuditEntry
from customers.models import Country, Sector
from scoring.history import risk_level_change, risk_levels_as_of
from scoring.labels import snapshot
from scoring.models import RiskLevelChange
from tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

T = dt.date(2026, 6, 30)  # a past snapshot date (the suite's business date is 2026-11-29)
NO_DEFAULTS = pd.Series(dtype="datetime64[ns]")


def _book(org):
    customer = CustomerFactory(organization=org, credit_limit=Decimal("5000"), currency="EUR")
    InvoiceFactory(customer=customer, issue_date=dt.date(2026, 5, 1), due_date=dt.date(2026, 5, 31),
                   amount=Decimal("1200.00"), currency="EUR")
    return customer


def test_changing_todays_values_does_not_change_a_past_snapshot(org):
    customer = _book(org)
    today = org.local_date()
    before = snapshot(org, T, NO_DEFAULTS)
    row = before.set_index("customer_id").loc[customer.pk]
    assert row["country_risk"] == Country.objects.get(code="DE").risk_level
    assert row["sector_risk"] == Sector.objects.get(code="C").risk_level
    assert pd.isna(row["utilisation"])  # no dated limit known for T: missing, not today's 5,000

    # when: today's values change
    risk_level_change(kind="country", code="DE", risk_level=7, valid_from=today, actor=None, reason="downgrade")
    risk_level_change(kind="sector", code="C", risk_level=5, valid_from=today, actor=None, reason="downgrade")
    from limits.models import LimitDecision
    from limits.services import decision_apply

    decision_apply(organization=org, customer=customer, limit=Decimal("100.00"), kind=LimitDecision.Kind.APPROVED,
                   actor=None, decided_by="committee")

    # then: the past snapshot is the same, today's reference data moved
    after = snapshot(org, T, NO_DEFAULTS)
    pd.testing.assert_frame_equal(before, after)
    assert Country.objects.get(code="DE").risk_level == 7 and Sector.objects.get(code="C").risk_level == 5
    assert risk_levels_as_of("country", today)["DE"] == 7


def test_a_change_dated_before_the_snapshot_is_what_the_snapshot_reads(org):
    customer = _book(org)
    original = Country.objects.get(code="DE").risk_level
    risk_level_change(kind="country", code="DE", risk_level=6, valid_from=dt.date(2026, 3, 1), actor=None,
                      reason="correction")
    risk_level_change(kind="country", code="DE", risk_level=2, valid_from=dt.date(2026, 9, 1), actor=None)
    row = snapshot(org, T, NO_DEFAULTS).set_index("customer_id").loc[customer.pk]
    assert row["country_risk"] == 6
    assert risk_levels_as_of("country", dt.date(2026, 1, 1))["DE"] == original  # the baseline kept
    assert Country.objects.get(code="DE").risk_level == 2  # the level in force now
    assert AuditEntry.objects.filter(organization=org, action="reference.risk_level_changed").count() == 2


@pytest.mark.parametrize(("changes", "field"), [
    ({"risk_level": 9}, "risk_level"),
    ({"risk_level": "high"}, "risk_level"),
    ({"valid_from": "2026-13-01"}, "valid_from"),
    ({"valid_from": "2999-01-01"}, "valid_from"),
    ({"code": "XX"}, "code"),
])
def test_a_bad_change_is_refused_naming_the_field_and_changes_nothing(org, changes, field):
    args = {"kind": "country", "code": "DE", "risk_level": 5, "valid_from": "2026-01-01", **changes}
    level = Country.objects.get(code="DE").risk_level
    with pytest.raises(AppError) as exc:
        risk_level_change(actor=None, **args)
    assert exc.value.message.startswith(field)
    assert not RiskLevelChange.objects.exists() and Country.objects.get(code="DE").risk_level == level


def test_a_past_snapshot_reads_the_limit_decided_by_then_and_ignores_later_decisions(org):
    from limits.models import LimitDecision
    from limits.services import decision_apply
    from scoring.history import credit_limits_as_of

    customer = _book(org)
    decision_apply(organization=org, customer=customer, limit=Decimal("4000.00"), kind=LimitDecision.Kind.APPROVED,
                   actor=None, decided_by="committee", as_of=dt.date(2026, 4, 1))
    before = snapshot(org, T, NO_DEFAULTS)
    row = before.set_index("customer_id").loc[customer.pk]
    assert credit_limits_as_of(org, T) == {customer.pk: Decimal("4000.00")}
    assert row["utilisation"] == pytest.approx(1200 / 4000)  # the invoice of May was open on T

    # a cut decided today is not known on T
    decision_apply(organization=org, customer=customer, limit=Decimal("100.00"), kind=LimitDecision.Kind.APPROVED,
                   actor=None, decided_by="committee")
    pd.testing.assert_frame_equal(before, snapshot(org, T, NO_DEFAULTS))
    assert credit_limits_as_of(org, org.local_date()) == {customer.pk: Decimal("100.00")}


def test_the_admin_adds_a_dated_change_through_the_service_and_locates_bad_input(client, org, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-long-enough-2026")
    client.force_login(admin_user)
    url = reverse("admin:scoring_risklevelchange_add")
    bad = client.post(url, {"kind": "sector", "code": "C", "risk_level": 9, "valid_from": "2026-11-01"})
    assert bad.status_code == 200 and "risk_level: &#x27;9&#x27; is not a whole number from 1 to 5" in (
        bad.content.decode())
    assert not RiskLevelChange.objects.exists()
    ok = client.post(url, {"kind": "sector", "code": "C", "risk_level": 4, "valid_from": "2026-11-01",
                           "reason": "sector outlook"})
    assert ok.status_code == 302
    assert Sector.objects.get(code="C").risk_level == 4
    assert RiskLevelChange.objects.filter(kind="sector", code="C").count() == 2  # the baseline and the change
    assert AuditEntry.objects.filter(organization=org, action="reference.risk_level_changed").count() == 1
    country = client.get(reverse("admin:customers_country_change", args=["DE"])).content.decode()
    assert 'name="risk_level"' not in country  # read-only there: changes are dated
