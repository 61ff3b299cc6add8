"""Each early-warning indicator fires at its threshold and not below it (constructed books)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import ExternalSignal
from receivables.models import PromiseToPay
from scoring.models import Score, ScoringModel
from tests.factories import CustomerFactory, InvoiceFactory, OrderFactory, StatementFactory

from .conftest import AS_OF, days_ago, fired, paid_late

pytestmark = pytest.mark.django_db


def test_overdue_frequency_fires_at_three_late_payments_not_two(org):
    three, two, slightly = (CustomerFactory(organization=org) for _ in range(3))
    for n in range(3):
        paid_late(three, paid_days_ago=10 + n * 20, late=15)
        paid_late(slightly, paid_days_ago=10 + n * 20, late=14)  # under the 15 days that count as late
    for n in range(2):
        paid_late(two, paid_days_ago=10 + n * 20, late=40)
    paid_late(two, paid_days_ago=95, late=40)  # outside the 90-day window

    hits = fired(org, "overdue_frequency")

    assert set(hits) == {three.pk}
    assert hits[three.pk].reasons[0]["params"]["count"] == 3


def test_dbt_deterioration_fires_at_ten_days_up_not_nine(org):
    up10, up9 = CustomerFactory(organization=org), CustomerFactory(organization=org)
    for customer, recent in ((up10, 15), (up9, 14)):
        paid_late(customer, paid_days_ago=100, late=5)
        paid_late(customer, paid_days_ago=120, late=5)
        paid_late(customer, paid_days_ago=10, late=recent)
        paid_late(customer, paid_days_ago=30, late=recent)

    hits = fired(org, "dbt_deterioration")

    assert set(hits) == {up10.pk}
    assert hits[up10.pk].value == pytest.approx(10.0)


def test_dbt_deterioration_needs_two_payments_in_each_period(org):
    customer = CustomerFactory(organization=org)
    paid_late(customer, paid_days_ago=100, late=0)
    paid_late(customer, paid_days_ago=10, late=60)
    paid_late(customer, paid_days_ago=20, late=60)

    assert fired(org, "dbt_deterioration") == {}


def test_overdue_over_limit_fires_at_a_quarter_of_the_limit(org):
    at, under = (CustomerFactory(organization=org, credit_limit=Decimal("1000")) for _ in range(2))
    InvoiceFactory(customer=at, organization=org, issue_date=days_ago(60), due_date=days_ago(30),
                   amount=Decimal("250.00"))
    InvoiceFactory(customer=under, organization=org, issue_date=days_ago(60), due_date=days_ago(30),
                   amount=Decimal("249.99"))

    hits = fired(org, "overdue_over_limit")

    assert set(hits) == {at.pk}
    assert hits[at.pk].value == pytest.approx(0.25)


def test_limit_utilisation_fires_at_ninety_percent(org):
    at, under, no_limit = (CustomerFactory(organization=org, credit_limit=Decimal("1000")) for _ in range(3))
    no_limit.credit_limit = None
    no_limit.save()
    for customer, amount in ((at, "900.00"), (under, "899.99"), (no_limit, "5000.00")):
        InvoiceFactory(customer=customer, organization=org, issue_date=days_ago(5), due_date=days_ago(-25),
                       amount=Decimal(amount))

    assert set(fired(org, "limit_utilisation")) == {at.pk}


def _score(org, model, customer, as_of, grade, pd_):
    Score.objects.create(organization=org, customer=customer, as_of=as_of, model=model, model_version=1, pd=pd_,
                         grade=grade, trigger="nightly", computed_at=timezone.now())


def test_downgrade_fires_at_two_notches_or_doubled_pd(org):
    model = ScoringModel.objects.create(organization=org, version=1, kind="expert", name="x", algorithm="expert")
    two, one, doubled, almost = (CustomerFactory(organization=org) for _ in range(4))
    then, now = days_ago(95), days_ago(1)
    for customer, (g0, p0), (g1, p1) in (
        (two, (3, 0.010), (5, 0.015)),
        (one, (3, 0.010), (4, 0.015)),
        (doubled, (3, 0.010), (3, 0.020)),
        (almost, (3, 0.010), (4, 0.0199)),
    ):
        _score(org, model, customer, then, g0, p0)
        _score(org, model, customer, now, g1, p1)

    hits = fired(org, "downgrade")

    assert set(hits) == {two.pk, doubled.pk}
    assert [r["code"] for r in hits[two.pk].reasons] == ["downgrade_notches"]
    assert [r["code"] for r in hits[doubled.pk].reasons] == ["downgrade_pd"]


def test_covenants_fire_under_their_thresholds_and_not_at_them(org):
    weak, at_threshold, negative = (CustomerFactory(organization=org) for _ in range(3))
    # current ratio 0.99 and interest cover 1.49 (EBIT 149 / interest 100)
    StatementFactory(customer=weak, organization=org, period_end=dt.date(2025, 12, 31), current_liabilities=Decimal(
        "505.05"), ebit=Decimal("149"), interest_expense=Decimal("100"))
    StatementFactory(customer=at_threshold, organization=org, period_end=dt.date(2025, 12, 31),
                     current_liabilities=Decimal("500"), ebit=Decimal("150"), interest_expense=Decimal("100"))
    StatementFactory(customer=negative, organization=org, period_end=dt.date(2025, 12, 31),
                     total_liabilities=Decimal("1001"), equity=Decimal("-1"))

    hits = fired(org, "covenant")

    assert set(hits) == {weak.pk, negative.pk}
    assert {r["code"] for r in hits[weak.pk].reasons} == {"covenant_current_ratio", "covenant_interest_cover"}
    assert [r["code"] for r in hits[negative.pk].reasons] == ["covenant_equity"]


def test_stale_statement_fires_at_eighteen_months(org):
    at, fresher = CustomerFactory(organization=org), CustomerFactory(organization=org)
    StatementFactory(customer=at, organization=org, period_end=dt.date(2025, 5, 29))  # AS_OF - 18 months
    StatementFactory(customer=fresher, organization=org, period_end=dt.date(2025, 5, 30))

    assert dt.date(2026, 11, 29) == AS_OF
    assert set(fired(org, "stale_statement")) == {at.pk}


def test_adverse_signals_within_the_window_and_insolvency_is_critical(org):
    news, filing, old = (CustomerFactory(organization=org) for _ in range(3))
    for customer, kind, age in ((news, "negative_news", 89), (filing, "insolvency_filing", 0),
                                (old, "litigation", 90)):
        ExternalSignal.objects.create(organization=org, customer=customer, kind=kind, observed_on=days_ago(age),
                                      source="test", reference=f"{kind}-{customer.pk}", title="t")

    hits = fired(org, "adverse_signal")

    assert set(hits) == {news.pk, filing.pk}
    assert (hits[news.pk].severity, hits[filing.pk].severity) == ("high", "critical")


def test_broken_promise_within_sixty_days(org):
    recent, old, kept = (CustomerFactory(organization=org) for _ in range(3))
    for customer, status, closed in ((recent, "broken", 60), (old, "broken", 61), (kept, "kept", 1)):
        PromiseToPay.objects.create(organization=org, customer=customer, made_on=days_ago(closed + 20),
                                    promised_date=days_ago(closed), amount=Decimal("500"), currency="EUR",
                                    status=status, closed_on=days_ago(closed) + dt.timedelta(days=1))

    hits = fired(org, "broken_promise")

    assert set(hits) == {recent.pk}


def test_concentration_fires_at_ten_percent_of_open_receivables(org):
    big, rest = CustomerFactory(organization=org), CustomerFactory(organization=org)
    InvoiceFactory(customer=big, organization=org, issue_date=days_ago(5), due_date=days_ago(-25),
                   amount=Decimal("100.00"))
    InvoiceFactory(customer=rest, organization=org, issue_date=days_ago(5), due_date=days_ago(-25),
                   amount=Decimal("900.00"))

    assert set(fired(org, "concentration")) == {big.pk, rest.pk}
    assert set(fired(org, "concentration", only={"customer_share": 0.1001})) == {rest.pk}
    # a customer's event evaluates no portfolio comparison
    assert fired(org, "concentration", customer_ids=[big.pk]) == {}


def test_order_far_above_the_customers_median_fires_at_three_times(org):
    at, under, young = (CustomerFactory(organization=org) for _ in range(3))
    history = ["90", "95", "98", "100", "100", "102", "105", "110"]
    for customer in (at, under):
        for k, amount in enumerate(history):
            OrderFactory(customer=customer, organization=org, order_date=days_ago(30 + 30 * k), amount=Decimal(amount))
    for amount in history[:5]:  # 5 orders: under the 6 a median needs
        OrderFactory(customer=young, organization=org, order_date=days_ago(40), amount=Decimal(amount))
    OrderFactory(customer=at, organization=org, number="SO-BIG", order_date=days_ago(2), amount=Decimal("300.00"))
    OrderFactory(customer=under, organization=org, order_date=days_ago(2), amount=Decimal("299.99"))
    OrderFactory(customer=young, organization=org, order_date=days_ago(2), amount=Decimal("900.00"))

    hits = fired(org, "order_anomaly", only={"surge_ratio": 100.0, "isolation_min_months": 120})

    assert set(hits) == {at.pk}
    params = hits[at.pk].reasons[0]["params"]
    assert (params["number"], params["ratio"], params["median"]) == ("SO-BIG", 3.0, "100.00")
