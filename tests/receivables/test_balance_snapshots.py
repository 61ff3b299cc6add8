"""The ECL history's balance snapshots (``receivables.history``): kept balances are used only while right.

A snapshot of a past date is reused as long as the book has not changed on or before that date; a
back-dated payment, an invoice corrected, a customer going into default make the snapshots they affect
be read again, and only those. Whatever was kept, the balances equal a live read of the book.

These tests commit (``transaction=True``): what a snapshot sees is decided by committed transactions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from receivables.ecl import _read_balances, ecl_history_dates, ecl_movement, raw_balances, settings_for
from receivables.history import balance_snapshots_refresh
from receivables.models import BalanceSnapshot, BookChange, Invoice
from tests.factories import CustomerFactory, FXRateFactory

from .conftest import D, invoice
from .conftest import pay as pay_in_transaction

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

TODAY = D(2026, 6, 30)
BOOK_READ = '"receivables_invoice" i'  # the history statements of receivables.balances
DAYS = [D(2026, 1, 31), D(2026, 3, 2), D(2026, 4, 1), D(2026, 5, 1), D(2026, 5, 31), TODAY]


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(10), tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def book(org):
    FXRateFactory(organization=org, currency="USD", rate_date=D(2025, 12, 31), rate=Decimal("0.9"))
    a = CustomerFactory(organization=org, currency="EUR")
    b = CustomerFactory(organization=org, currency="USD")
    invoices = {
        "a1": invoice(a, "1000.00", D(2026, 1, 5), D(2026, 2, 4), number="A1"),
        "a2": invoice(a, "400.00", D(2026, 2, 20), D(2026, 3, 22), number="A2"),
        "b1": invoice(b, "750.00", D(2026, 1, 15), D(2026, 1, 30), number="B1"),
        "b2": invoice(b, "90.00", D(2026, 4, 10), D(2026, 5, 10), number="B2"),
    }
    pay(invoices["a1"], "300.00", D(2026, 2, 10))
    pay(invoices["a1"], "700.00", D(2026, 4, 15))
    pay(invoices["b1"], "750.00", D(2026, 3, 20))
    return {"a": a, "b": b, **invoices}


def pay(*args):
    """Allocations are written inside a transaction (the service's callers hold a lock), then committed."""
    with transaction.atomic():
        return pay_in_transaction(*args)


def computed_at() -> dict[dt.date, dt.datetime]:
    return dict(BalanceSnapshot.objects.values_list("day", "computed_at"))


def read_the_book(queries: CaptureQueriesContext) -> bool:
    return any(BOOK_READ in q["sql"] for q in queries.captured_queries)


def test_past_dates_are_kept_and_reused_until_the_book_changes_on_or_before_them(org, book):
    first = raw_balances(org, DAYS, "")
    assert first == _read_balances(org, DAYS, "")
    assert sorted(computed_at()) == DAYS[:-1]  # today is never kept: it changes with every payment
    assert first[D(2026, 3, 2)][("", False, "EUR")] == {"d1_30": Decimal("700.00"), "current": Decimal("400.00")}

    with CaptureQueriesContext(connection) as queries:
        again = raw_balances(org, DAYS[:-1], "")
    assert again == {d: first[d] for d in DAYS[:-1]}
    assert not read_the_book(queries)

    # a payment back-dated to 10 April: the snapshots of 1 May and 31 May are read again, not the earlier
    kept = computed_at()
    pay(book["a2"], "150.00", D(2026, 4, 10))
    with CaptureQueriesContext(connection) as queries:
        after = raw_balances(org, DAYS, "")
    assert read_the_book(queries)
    assert after == _read_balances(org, DAYS, "")
    assert after[D(2026, 5, 1)][("", False, "EUR")] == {"d31_60": Decimal("250.00")}
    refreshed = {d for d, at in computed_at().items() if at != kept[d]}
    assert refreshed == {D(2026, 5, 1), D(2026, 5, 31)}

    # an invoice issued today changes no past date
    invoice(book["b"], "60.00", TODAY, D(2026, 7, 30), number="B3")
    with CaptureQueriesContext(connection) as queries:
        raw_balances(org, DAYS[:-1], "")
    assert not read_the_book(queries)

    # an invoice corrected: from its issue date on
    kept = computed_at()
    Invoice.objects.filter(pk=book["b2"].pk).update(amount=Decimal("95.00"))
    assert raw_balances(org, DAYS, "") == _read_balances(org, DAYS, "")
    assert {d for d, at in computed_at().items() if at != kept[d]} == {D(2026, 5, 1), D(2026, 5, 31)}

    # a customer in default: every date (the history is keyed by default status)
    kept = computed_at()
    Customer.objects.filter(pk=book["a"].pk).update(status=Customer.Status.IN_DEFAULT)
    after = raw_balances(org, DAYS, "")
    assert after == _read_balances(org, DAYS, "")
    assert ("", True, "EUR") in after[D(2026, 3, 2)]
    assert all(at != kept[d] for d, at in computed_at().items())


def test_a_change_in_progress_when_the_snapshot_was_read_makes_it_out_of_date(org, book):
    """A snapshot whose database snapshot did not see a transaction is not trusted for that transaction's
    changes, even if it was recorded after the transaction began: no clock decides."""
    raw_balances(org, DAYS, "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        early = cursor.fetchone()[0]
    pay(book["a2"], "10.00", D(2026, 3, 1))  # committed after `early` was taken
    BalanceSnapshot.objects.all().update(seen=early)  # as if every snapshot had been read before it
    assert raw_balances(org, DAYS, "") == _read_balances(org, DAYS, "")
    assert computed_at()  # read again and kept with a snapshot that sees the payment
    with CaptureQueriesContext(connection) as queries:
        raw_balances(org, DAYS[:-1], "")
    assert not read_the_book(queries)


def test_nightly_refresh_keeps_the_pages_dates_and_forgets_seen_changes(org, book):
    assert BookChange.objects.filter(organization_id=org.pk).exists()  # the book's writes were logged
    read = balance_snapshots_refresh(org, TODAY)
    dates = [d for d in ecl_history_dates(TODAY, settings_for(org).lookback_periods) if d < TODAY]
    assert read == len(set(dates))
    assert set(computed_at()) == set(dates)
    assert not BookChange.objects.filter(organization_id=org.pk).exists()  # seen by every snapshot
    assert balance_snapshots_refresh(org, TODAY) == 0  # nothing changed: nothing read

    with CaptureQueriesContext(connection) as queries:
        movement = ecl_movement(org, TODAY)
    history = [q for q in queries.captured_queries if BOOK_READ in q["sql"]]
    assert history, "today's balances are read live"
    assert all("cleared_on > " in q["sql"] or "cleared_on IS NULL" in q["sql"] for q in history)
    BalanceSnapshot.objects.all().delete()
    assert ecl_movement(org, TODAY).closing.total == movement.closing.total
