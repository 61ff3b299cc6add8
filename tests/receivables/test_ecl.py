"""The ECL provision matrix and reserve on a constructed history, with rates computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from credit_platform.models import AuditEntry
from customers.models import Customer
from receivables.ecl import (
    ecl_movement,
    ecl_reserve,
    ecl_settings_update,
    ecl_snapshot_record,
    provision_matrix,
)
from receivables.models import Allocation, EclSettings
from tests.factories import CustomerFactory, FXRateFactory, PaymentFactory

from .conftest import D, invoice, pay

pytestmark = pytest.mark.django_db

AS_OF = D(2026, 6, 30)  # history at 30 Jun (t0), 31 May (t1), 1 May (t2)


@pytest.fixture
def history(org):
    """Balances by bucket (t2 | t1 | t0):
    A 1,000 due 20 Apr, 400 paid 15 May, 100 paid 10 Jun:   1-30 1,000 | 31-60 600 | 61-90 500
    B 2,000 issued 1 Apr, due 20 May, paid 5 Jun:           current 2,000 | 1-30 2,000 | -
    C 1,000 issued 10 May, due 9 Jun, 250 paid 20 Jun:      - | current 1,000 | 1-30 750
    D USD 1,000 (x 0.5 = EUR 500) issued 1 Jun, due 1 Jul:  - | - | current 500
    E (customer in default) 1,000 due 1 Dec 2025:           151-180 | 181-210 | over 210
    """
    FXRateFactory(organization=org, currency="USD", rate_date=D(2026, 1, 1), rate=Decimal("0.5"))
    c = CustomerFactory(organization=org)
    a = invoice(c, "1000.00", D(2026, 3, 20), D(2026, 4, 20))
    b = invoice(c, "2000.00", D(2026, 4, 1), D(2026, 5, 20))
    cc = invoice(c, "1000.00", D(2026, 5, 10), D(2026, 6, 9))
    pay(a, "400.00", D(2026, 5, 15))
    pay(a, "100.00", D(2026, 6, 10))
    pay(b, "2000.00", D(2026, 6, 5))
    pay(cc, "250.00", D(2026, 6, 20))
    usd = CustomerFactory(organization=org, currency="USD")
    invoice(usd, "1000.00", D(2026, 6, 1), D(2026, 7, 1))
    e = CustomerFactory(organization=org, status=Customer.Status.IN_DEFAULT)
    invoice(e, "1000.00", D(2025, 11, 1), D(2025, 12, 1))
    EclSettings.objects.create(
        organization=org, lookback_periods=2, forward_factor=Decimal("1.2"), recovery_rate=Decimal("0.1")
    )
    return c


def test_provision_matrix_from_roll_rates(org, history):
    m = provision_matrix(org, AS_OF)
    rolls = m.roll_rates[""]
    # current -> 1-30: (2,000 at t1 + 750 at t0) / (2,000 at t2 + 1,000 at t1)
    assert rolls[0] == Decimal("0.916667")
    assert rolls[1] == Decimal("0.200000")  # (600 + 0) / (1,000 + 2,000)
    assert rolls[2] == Decimal("0.833333")  # (0 + 500) / (0 + 600)
    assert rolls[3:6] == [None, None, None]  # no history: taken as 100% (no evidence of cures)
    assert rolls[6] == Decimal("1.000000")  # 151-180 -> 181-210: E, 1,000 / 1,000
    # probability of reaching 181 days: the chain of roll rates
    assert m.pd[""][:4] == [
        Decimal("0.152778"),
        Decimal("0.166667"),
        Decimal("0.833333"),
        Decimal("1.000000"),
    ]
    # loss rate = min(PD x 1.2, 1) x (1 - 0.1)
    assert m.loss_rates[""][:4] == [
        Decimal("0.165000"),
        Decimal("0.180000"),
        Decimal("0.900000"),
        Decimal("0.900000"),
    ]


def test_reserve_per_bucket_and_in_total_with_individual_provision(org, history):
    r = ecl_reserve(org, AS_OF)
    rows = {row.key: (row.balance, row.reserve) for row in r.rows if row.balance}
    assert rows == {
        "current": (Decimal("500.00"), Decimal("82.50")),  # the USD invoice: 1,000 x 0.5, x 16.5%
        "d1_30": (Decimal("750.00"), Decimal("135.00")),  # 750 x 18%
        "d61_90": (Decimal("500.00"), Decimal("450.00")),  # 500 x 90%
    }
    assert (r.individual_balance, r.individual) == (
        Decimal("1000.00"),
        Decimal("900.00"),
    )  # E: 1,000 x LGD 0.9
    assert r.collective == Decimal("667.50") and r.total == Decimal("1567.50")
    assert r.balance == Decimal("2750.00")
    by_bucket = {row.key: row.reserve for row in r.by_aging_bucket()}
    assert by_bucket["d61_90"] == Decimal("450.00") and sum(by_bucket.values()) == r.collective


def test_forward_looking_factor_and_movement(org, history, member):
    user = member(org, "credit_manager")
    ecl_settings_update(organization=org, actor=user, forward_factor=Decimal("1.0"))
    assert provision_matrix(org, AS_OF).loss_rates[""][1] == Decimal("0.150000")  # 0.166667 x 0.9
    assert AuditEntry.objects.filter(action="ecl.settings_changed").count() == 1
    move = ecl_movement(org, AS_OF)
    assert move.opening_date == D(2026, 5, 31)
    assert move.opening.total == ecl_reserve(org, D(2026, 5, 31)).total
    assert move.change == move.closing.total - move.opening.total
    assert sum(row[3] for row in move.rows()) == move.change
    snap = ecl_snapshot_record(organization=org, as_of=AS_OF, actor=user)
    assert snap.total == move.closing.total and snap.details["periods"] == 2
    assert ecl_snapshot_record(organization=org, as_of=AS_OF, actor=user).pk == snap.pk


def test_segments_have_their_own_rates_and_fall_back_to_the_portfolio(org, history):
    EclSettings.objects.filter(organization=org).update(segment_by="sector")
    other = CustomerFactory(organization=org, sector_id="G")
    invoice(other, "300.00", D(2026, 6, 1), D(2026, 6, 25))  # 5 days late at t0: no history in sector G
    m = provision_matrix(org, AS_OF)
    assert m.roll_rates["C"][:3] == [Decimal("0.916667"), Decimal("0.200000"), Decimal("0.833333")]
    assert m.roll_rates["G"][1] is None and m.used_rolls["G"][1] == m.roll_rates[""][1]
    r = ecl_reserve(org, AS_OF)
    assert next(row for row in r.rows if row.key == "d1_30").reserve == Decimal("135.00") + Decimal("54.00")


def test_balances_at_many_dates_in_one_read_match_the_aging(org, history, django_assert_max_num_queries):
    """The one-statement history agrees with the aging selector (a separate statement) at every date,
    bucket by bucket in each currency, and the page's movement reads the book once, whatever the
    number of look-back periods."""
    from receivables.ecl import ECL_BUCKETS, history_dates, raw_balances
    from receivables.selectors import open_items_grouped

    # an invoice over-allocated by a manual correction (120 against 100): it counts 0, never -20
    over = invoice(history, "100.00", D(2026, 5, 1), D(2026, 5, 31))
    payment = PaymentFactory(customer=history, organization=org, amount=Decimal("120.00"), received_on=D(2026, 6, 2))
    for amount, on in (("70.00", D(2026, 6, 1)), ("50.00", D(2026, 6, 3))):
        Allocation.objects.create(organization=org, invoice=over, payment=payment, amount=amount, allocated_on=on)
    report_of = {key: report for key, _label, _lo, _hi, report in ECL_BUCKETS}
    dates = [*history_dates(AS_OF, 6), D(2025, 1, 1), D(2025, 11, 30), D(2025, 12, 1), D(2026, 6, 2), D(2026, 7, 31)]
    raw = raw_balances(org, dates, "")
    assert set(raw) == set(dates)
    for day in dates:
        ours: dict[tuple[str, str], Decimal] = {}
        for (_seg, _dflt, currency), buckets in raw[day].items():
            for key, amount in buckets.items():
                k = (currency, report_of[key])
                ours[k] = ours.get(k, Decimal(0)) + amount
        aging = {(cur, bucket): Decimal(str(amount)) for cur, bucket, amount, *_ in open_items_grouped(
            org, day, by_customer=False)}
        assert ours == aging, day
    assert raw[D(2025, 1, 1)] == {}  # before the first invoice
    assert raw[D(2025, 12, 1)][("", True, "EUR")] == {"current": Decimal("1000.00")}  # due that day
    assert raw[D(2026, 6, 2)][("", False, "EUR")]["d1_30"] == Decimal("2030.00")  # B 2,000 + 30 left on the 100
    assert raw[AS_OF][("", False, "EUR")]["d1_30"] == Decimal("750.00")  # C; the over-allocated 100 counts 0
    assert raw[D(2026, 7, 31)][("", False, "USD")] == {"d1_30": Decimal("1000.00")}

    EclSettings.objects.filter(organization=org).update(lookback_periods=12)
    # settings, FX rates (x2), the kept past balances, the database snapshot, the history's three statements
    # and keeping what they read (receivables.history): not one aging read per date
    with django_assert_max_num_queries(9):
        move = ecl_movement(org, AS_OF)
    assert move.closing.total == ecl_reserve(org, AS_OF).total
