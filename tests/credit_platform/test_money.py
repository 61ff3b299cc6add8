"""``FxTable.load``: the rate in force on a date is each currency's latest on or before it, of the
organization only, read in one statement (exact decimals on PostgreSQL and SQLite alike)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit_platform.errors import AppError
from credit_platform.money import FxTable
from tests.factories import FXRateFactory

pytestmark = pytest.mark.django_db
D = dt.date


def test_the_latest_rate_on_or_before_the_date_of_each_currency(org, other_org):
    for day, usd, cny in [(D(2026, 1, 1), "0.9", "0.13"), (D(2026, 3, 1), "0.9137", "0.1291"),
                          (D(2026, 6, 1), "0.95", "0.14")]:
        FXRateFactory(organization=org, currency="USD", rate_date=day, rate=Decimal(usd))
        FXRateFactory(organization=org, currency="CNY", rate_date=day, rate=Decimal(cny))
    FXRateFactory(organization=other_org, currency="USD", rate_date=D(2026, 4, 1), rate=Decimal("2"))
    fx = FxTable.load(org, D(2026, 5, 31), {"USD"})
    assert fx.rates == {"USD": Decimal("0.9137"), "EUR": Decimal(1)}
    assert str(fx.rates["USD"]) == "0.9137000000"  # the field's ten places, as the ORM read it
    assert FxTable.load(org, D(2026, 6, 1)).rates == {"USD": Decimal("0.95"), "CNY": Decimal("0.14"),
                                                      "EUR": Decimal(1)}
    assert fx.convert(Decimal("100.05"), "USD") == Decimal("91.42")
    with pytest.raises(AppError):
        FxTable.load(org, D(2025, 12, 31), {"USD"}).rate("USD")  # before the first rate: none in force


def test_no_currency_no_read(org):
    with CaptureQueriesContext(connection) as queries:
        assert FxTable.load(org, D(2026, 1, 1), set()).rates == {"EUR": Decimal(1)}
    assert len(queries) == 0
