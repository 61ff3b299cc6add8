"""Order anomalies on constructed histories, explained in English and Chinese."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alerts.explain import explain
from tests.factories import CustomerFactory, OrderFactory

from .conftest import days_ago, fired

pytestmark = pytest.mark.django_db

NO_SURGE = {"surge_ratio": 100.0, "isolation_min_months": 120}
ONLY_SURGE = {"ratio": 100.0, "isolation_min_months": 120}


def _steady(customer, months=13, per_month=2, start=30):
    """``per_month`` orders a month of 90 to 110."""
    for m in range(months):
        for k in range(per_month):
            OrderFactory(customer=customer, organization=customer.organization,
                         order_date=days_ago(start + 30 * m + 7 * k), amount=Decimal(90 + (7 * m + 3 * k) % 21))


def test_unusual_order_is_explained_in_english_and_chinese(org):
    customer = CustomerFactory(organization=org)
    for k, amount in enumerate(["80", "90", "100", "100", "110", "120"]):
        OrderFactory(customer=customer, organization=org, order_date=days_ago(40 + 20 * k), amount=Decimal(amount))
    OrderFactory(customer=customer, organization=org, number="SO-53", order_date=days_ago(1), amount=Decimal("530"))

    finding = fired(org, "order_anomaly", only=NO_SURGE)[customer.pk]

    details = {"reasons": finding.reasons}
    # log-scale MAD of the history: 0.100; 1.4826 x 0.100 = 0.149; ln(5.3) / 0.149 = 11.2
    assert explain(details, "en") == [
        "order SO-53 is 5.3x the customer's 12-month median order (100.00 EUR; robust z-score 11.2)"]
    assert explain(details, "zh-hans") == [
        "订单 SO-53 为该客户 12 个月订单中位数（100.00 EUR）的 5.3 倍（稳健 z 分数 11.2）"]


def test_a_regular_customer_modest_order_and_an_irregular_customers_usual_swing_do_not_fire(org):
    regular, irregular = CustomerFactory(organization=org), CustomerFactory(organization=org)
    for k in range(8):
        OrderFactory(customer=regular, organization=org, order_date=days_ago(30 + 20 * k), amount=Decimal("100"))
    OrderFactory(customer=regular, organization=org, order_date=days_ago(1), amount=Decimal("250"))  # 2.5x
    for k, amount in enumerate(["20", "300", "40", "500", "60", "100", "800", "90"]):
        OrderFactory(customer=irregular, organization=org, order_date=days_ago(30 + 20 * k), amount=Decimal(amount))
    OrderFactory(customer=irregular, organization=org, order_date=days_ago(1), amount=Decimal("400"))  # 4.3x, z<3.5

    assert fired(org, "order_anomaly", only=NO_SURGE) == {}


def test_surge_of_orders_against_the_median_thirty_days(org):
    surging, steady = CustomerFactory(organization=org), CustomerFactory(organization=org)
    _steady(surging)
    _steady(steady)
    for k in range(7):  # 7 orders of 100 in the last 30 days: 700 against a median month of 197
        OrderFactory(customer=surging, organization=org, order_date=days_ago(1 + 4 * k), amount=Decimal("100"))
    for k in range(2):
        OrderFactory(customer=steady, organization=org, order_date=days_ago(3 + 5 * k), amount=Decimal("100"))

    hits = fired(org, "order_anomaly", only=ONLY_SURGE)

    assert set(hits) == {surging.pk}
    [text] = explain({"reasons": hits[surging.pk].reasons}, "en")
    assert text == "orders of the last 30 days total 3.6x the customer's median 30-day total of the past year"


def test_isolation_forest_flags_a_changed_pattern_only_with_enough_history(org):
    changed, short = CustomerFactory(organization=org), CustomerFactory(organization=org)
    _steady(changed, months=13)
    _steady(short, months=6)
    for customer in (changed, short):  # one large order instead of two regular ones
        OrderFactory(customer=customer, organization=org, order_date=days_ago(10), amount=Decimal("190"))

    hits = fired(org, "order_anomaly", only={"ratio": 100.0, "surge_ratio": 100.0})

    assert set(hits) == {changed.pk}
    [text] = explain({"reasons": hits[changed.pk].reasons}, "en")
    assert text.startswith("the last 30 days of orders (1 orders, 190.00 EUR) are unlike the customer's previous "
                           "12 months (isolation forest score")
