"""Financial statement validation and ratios, against figures checked by hand."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers import statements
from tests.factories import StatementFactory

pytestmark = pytest.mark.django_db

BASE = {
    "cash": 100, "receivables": 200, "inventory": 150, "current_assets": 500, "total_assets": 1000,
    "current_liabilities": 250, "total_liabilities": 600, "equity": 400, "retained_earnings": 300,
    "revenue": 2000, "ebit": 120, "ebitda": 160, "interest_expense": 30, "net_income": 70,
    "operating_cash_flow": 110,
}


def test_ratios_match_hand_computed_figures():
    r = statements.ratios(BASE)
    assert r["current_ratio"] == pytest.approx(2.0)  # 500 / 250
    assert r["quick_ratio"] == pytest.approx(1.4)  # (500 - 150) / 250
    assert r["debt_to_equity"] == pytest.approx(1.5)  # 600 / 400
    assert r["interest_coverage"] == pytest.approx(4.0)  # 120 / 30
    assert r["net_margin"] == pytest.approx(0.035)  # 70 / 2000
    assert r["roa"] == pytest.approx(0.07)  # 70 / 1000
    assert r["ocf_to_current_liabilities"] == pytest.approx(0.44)  # 110 / 250
    # Z'' = 6.56*0.25 + 3.26*0.30 + 6.72*0.12 + 1.05*(400/600) = 1.64 + 0.978 + 0.8064 + 0.7
    assert r["altman_z2"] == pytest.approx(4.1244, abs=1e-4)
    assert statements.altman_zone(r["altman_z2"]) == "safe"


def test_undefined_ratios_are_none_not_infinite():
    r = statements.ratios({**BASE, "interest_expense": 0, "equity": -50, "total_liabilities": 1050,
                           "operating_cash_flow": None})
    assert r["interest_coverage"] is None  # no interest: coverage undefined
    assert r["debt_to_equity"] is None  # negative equity: leverage ratio meaningless
    assert r["ocf_to_current_liabilities"] is None
    assert r["current_ratio"] == pytest.approx(2.0)


def test_altman_uses_equity_when_retained_earnings_missing():
    r = statements.ratios({**BASE, "retained_earnings": None})
    # X2 = 400 / 1000 instead of 300 / 1000: Z'' grows by 3.26 * 0.1
    assert r["altman_z2"] == pytest.approx(4.1244 + 0.326, abs=1e-4)


def test_distress_zone():
    weak = {**BASE, "current_assets": 200, "cash": 20, "receivables": 100, "inventory": 50,
            "current_liabilities": 500, "total_liabilities": 950, "equity": 50, "retained_earnings": -100,
            "ebit": -20, "ebitda": 10}
    assert statements.altman_zone(statements.ratios(weak)["altman_z2"]) == "distress"


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"equity": 300}, "equity", "does not balance"),
        ({"current_assets": 1200}, "current_assets", "exceed total_assets"),
        ({"cash": 400}, "current_assets", "cash + receivables + inventory"),
        ({"current_liabilities": 700}, "current_liabilities", "exceed total_liabilities"),
        ({"ebitda": 100}, "ebitda", "below ebit"),
        ({"revenue": -5}, "revenue", "cannot be negative"),
        ({"ebit": 2500, "ebitda": 2600}, "ebit", "exceeds revenue"),
    ],
)
def test_impossible_statements_are_refused(change, field, fragment):
    errors = statements.statement_errors({**BASE, **change})
    assert any(f == field and fragment in reason for f, reason in errors), errors


def test_balance_tolerance_is_half_a_percent():
    assert statements.statement_errors({**BASE, "equity": 404}) == []  # 4 off on 1000: within 0.5%
    assert statements.statement_errors({**BASE, "equity": 406})  # 6 off: refused


def test_model_clean_reports_per_field():
    stmt = StatementFactory.build(equity=Decimal("100"))
    stmt.customer.organization.save()
    stmt.customer.organization_id = stmt.customer.organization.pk
    with pytest.raises(ValidationError) as exc:
        stmt.clean()
    assert "equity" in exc.value.message_dict


def test_saved_statement_exposes_ratios():
    stmt = StatementFactory()
    assert stmt.ratios["current_ratio"] == pytest.approx(2.0)
