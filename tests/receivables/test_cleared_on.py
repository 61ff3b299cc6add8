"""``Invoice.cleared_on`` (the date from which an invoice is settled for good) is kept by PostgreSQL itself,
whoever writes the allocations: the allocation service (COPY), the ORM, raw SQL, updates and deletes, and
a change of an invoice's amount. Whole-book reads leave out the invoices settled by their date, so a wrong
``cleared_on`` would hide an open invoice: each step below compares the column with its definition
computed here in Python, and the open items read through the narrowed statement with the rule applied
by hand."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection

from receivables import balances
from receivables.models import Allocation, Invoice
from tests.factories import CustomerFactory

from .conftest import D, credit, invoice, pay

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

DATES = [D(2026, 1, 31), D(2026, 2, 15), D(2026, 3, 1), D(2026, 3, 31), D(2026, 4, 30), D(2026, 6, 30)]


def expected_cleared_on() -> dict[int, dt.date | None]:
    """The first allocation date from which the invoice stays settled (open amount rounded to the cent
    at or below zero), None while it is open after its last allocation."""
    daily: dict[int, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for invoice_id, on, amount in Allocation.objects.values_list("invoice_id", "allocated_on", "amount"):
        daily[invoice_id][on] += amount
    out: dict[int, dt.date | None] = {}
    for inv in Invoice.objects.all():
        paid, cleared = Decimal(0), None
        for on in sorted(daily[inv.pk]):
            paid += daily[inv.pk][on]
            settled = (inv.amount - paid).quantize(Decimal("0.01")) <= 0
            if settled and cleared is None:
                cleared = on
            elif not settled:
                cleared = None
        out[inv.pk] = cleared
    return out


def open_items(org_id: int, as_of: dt.date | None) -> dict[int, Decimal]:
    """Open items through ``receivables.balances`` (narrowed by ``cleared_on`` on PostgreSQL)."""
    sql = balances.invoice_balances(org_id, as_of)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT invoice_id, open_amount FROM ({sql.text}) o", list(sql.params))
        return {i: Decimal(str(a)) for i, a in cursor.fetchall()}


def open_items_by_hand(as_of: dt.date | None) -> dict[int, Decimal]:
    """The rule on Python values: issued by the date, allocations dated by it, open above zero."""
    out = {}
    for inv in Invoice.objects.all():
        if as_of is not None and inv.issue_date > as_of:
            continue
        paid = sum((a.amount for a in Allocation.objects.filter(invoice=inv)
                    if as_of is None or a.allocated_on <= as_of), Decimal(0))
        left = balances.open_amount(inv.amount, paid)
        if left > 0:
            out[inv.pk] = left
    return out


def check(org_id: int) -> None:
    stored = dict(Invoice.objects.values_list("pk", "cleared_on"))
    assert stored == expected_cleared_on()
    for as_of in [*DATES, None]:
        assert open_items(org_id, as_of) == open_items_by_hand(as_of), as_of


def test_cleared_on_follows_every_kind_of_write(org):
    customer = CustomerFactory(organization=org, currency="EUR")
    a = invoice(customer, "1000.00", D(2026, 1, 10), D(2026, 2, 9), number="A")
    b = invoice(customer, "500.00", D(2026, 1, 20), D(2026, 2, 19), number="B")
    c = invoice(customer, "0.03", D(2026, 2, 1), D(2026, 3, 3), number="C")
    assert set(Invoice.objects.values_list("cleared_on", flat=True)) == {None}

    # the allocation service (COPY): part, then the rest of A; B in one payment; C credited
    pay(a, "400.00", D(2026, 2, 10))
    check(org.pk)
    assert Invoice.objects.get(pk=a.pk).cleared_on is None
    pay(a, "600.00", D(2026, 3, 15))
    pay(b, "500.00", D(2026, 2, 20))
    credit(c, "0.03", D(2026, 2, 5), "CN-1")
    check(org.pk)
    assert Invoice.objects.get(pk=a.pk).cleared_on == D(2026, 3, 15)
    assert Invoice.objects.get(pk=b.pk).cleared_on == D(2026, 2, 20)
    # settled for good on 15 March: open on 1 March, not on 31 March
    assert a.pk in open_items(org.pk, D(2026, 3, 1))
    assert a.pk not in open_items(org.pk, D(2026, 3, 31))

    # the ORM, outside the service: a second partial allocation dated earlier
    last = Allocation.objects.filter(invoice=a).order_by("-allocated_on").first()
    Allocation.objects.filter(pk=last.pk).update(amount=Decimal("599.99"))  # a cent left open: open again
    check(org.pk)
    assert Invoice.objects.get(pk=a.pk).cleared_on is None
    Allocation.objects.create(organization=org, invoice=a, payment=last.payment, amount=Decimal("0.01"),
                              allocated_on=D(2026, 4, 2))
    check(org.pk)
    assert Invoice.objects.get(pk=a.pk).cleared_on == D(2026, 4, 2)

    # an allocation's date moved later, then deleted: B is open again
    Allocation.objects.filter(invoice=b).update(allocated_on=D(2026, 5, 5))
    check(org.pk)
    assert Invoice.objects.get(pk=b.pk).cleared_on == D(2026, 5, 5)
    Allocation.objects.filter(invoice=b).delete()
    check(org.pk)
    assert Invoice.objects.get(pk=b.pk).cleared_on is None

    # raw SQL
    with connection.cursor() as cursor:
        cursor.execute("UPDATE receivables_allocation SET amount = amount / 2 WHERE invoice_id = %s", [c.pk])
    check(org.pk)

    # the invoice's amount: raised above what was paid (open again), then lowered to it
    Invoice.objects.filter(pk=a.pk).update(amount=Decimal("1200.00"))
    check(org.pk)
    assert Invoice.objects.get(pk=a.pk).cleared_on is None
    Invoice.objects.filter(pk=a.pk).update(amount=Decimal("1000.00"))
    check(org.pk)
    assert Invoice.objects.get(pk=a.pk).cleared_on == D(2026, 4, 2)


def test_overallocated_invoice_counts_zero_from_the_day_it_is_settled(org):
    """Allocated beyond its amount (a manual correction): settled for good from the allocation that reached
    the amount, never a negative balance, in the aging and in the ECL history alike."""
    from receivables.ecl import raw_balances

    customer = CustomerFactory(organization=org, currency="EUR")
    x = invoice(customer, "100.00", D(2026, 1, 5), D(2026, 2, 4), number="X")
    y = invoice(customer, "250.00", D(2026, 1, 5), D(2026, 2, 4), number="Y")
    pay(x, "60.00", D(2026, 2, 1))
    note = credit(y, "1.00", D(2026, 1, 6), "CN-2")
    Allocation.objects.create(organization=org, invoice=x, credit_note=note, amount=Decimal("60.00"),
                              allocated_on=D(2026, 3, 1))
    check(org.pk)
    assert Invoice.objects.get(pk=x.pk).cleared_on == D(2026, 3, 1)
    history = raw_balances(org, [D(2026, 2, 15), D(2026, 3, 31)], "")
    feb = sum(sum(b.values()) for b in history[D(2026, 2, 15)].values())
    mar = sum(sum(b.values()) for b in history[D(2026, 3, 31)].values())
    assert feb == Decimal("40.00") + Decimal("249.00")
    assert mar == Decimal("249.00")
