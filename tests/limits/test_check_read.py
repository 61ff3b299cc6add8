"""The order check's one-statement read (``limits.selectors.check_read``): its standing is the general
exposure rule to the cent, its group total is ``exposure_by_group``'s, a check is one round trip (plus the
held order's row; plus the rates only when a currency is not the base currency), and PostgreSQL plans the
statement once per connection."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit_platform.errors import AppError
from credit_platform.money import ZERO
from customers.models import CustomerGroup
from limits.checks import credit_check
from limits.models import OrderCheck
from limits.selectors import (
    check_read,
    customer_standing,
    exposure_by_group,
    exposure_from,
    fx_for,
    group_exposure,
    position_currencies,
    standing_from_rows,
)
from limits.services import decision_apply, group_limit_set, hold_place
from receivables.selectors import customer_balances, open_orders_by_customer
from receivables.services import credit_note_record, payment_record
from tests.factories import CustomerFactory, FXRateFactory, InvoiceFactory, OrderFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 29)
D = dt.date


def book(org):
    """Customers whose exposure takes every part of the rule: partial payments and credit notes allocated
    by their dates, overdue in several age buckets, foreign currencies whose buckets do not convert to the
    cent one by one (2 x 100.05 USD at 0.9: 180.10 bucket by bucket, 180.09 converted once), open orders in
    a third currency, an invoiced order (not open), an order of tomorrow (not yet on the book)."""
    FXRateFactory(organization=org, currency="USD", rate=Decimal("0.9"), rate_date=D(2026, 1, 1))
    FXRateFactory(organization=org, currency="CNY", rate=Decimal("0.1291"), rate_date=D(2026, 1, 1))
    eur = CustomerFactory(organization=org)
    invoice = InvoiceFactory(customer=eur, amount=Decimal("1000.00"), issue_date=D(2026, 10, 1),
                             due_date=D(2026, 10, 31))
    payment_record(customer=eur, reference="P1", received_on=D(2026, 11, 10), amount=Decimal("300.00"),
                   currency="EUR", invoice=invoice)
    credit_note_record(customer=eur, number="CN1", issue_date=D(2026, 11, 12), amount=Decimal("200.00"),
                       currency="EUR", invoice=invoice)
    InvoiceFactory(customer=eur, amount=Decimal("420.10"), issue_date=D(2026, 11, 20), due_date=D(2026, 12, 20))
    OrderFactory(customer=eur, amount=Decimal("250.00"), order_date=D(2026, 11, 20))
    OrderFactory(customer=eur, amount=Decimal("999.00"), order_date=D(2026, 11, 20), status="invoiced")
    OrderFactory(customer=eur, amount=Decimal("777.00"), order_date=TODAY + dt.timedelta(days=1))
    usd = CustomerFactory(organization=org, currency="USD")
    for n, due in enumerate([D(2026, 11, 19), D(2026, 9, 15), D(2026, 12, 15)]):
        InvoiceFactory(customer=usd, amount=Decimal("100.05"), currency="USD", issue_date=due - dt.timedelta(days=30),
                       due_date=due, number=f"U{n}")
    part = InvoiceFactory(customer=usd, amount=Decimal("333.33"), currency="USD", issue_date=D(2026, 7, 1),
                          due_date=D(2026, 7, 31), number="U9")
    payment_record(customer=usd, reference="P2", received_on=D(2026, 8, 1), amount=Decimal("111.11"),
                   currency="USD", invoice=part)
    InvoiceFactory(customer=usd, amount=Decimal("55.55"), currency="EUR", issue_date=D(2026, 11, 1),
                   due_date=D(2026, 11, 2), number="U10")
    OrderFactory(customer=usd, amount=Decimal("1000.01"), currency="CNY", order_date=D(2026, 11, 1))
    OrderFactory(customer=usd, amount=Decimal("10.05"), currency="USD", order_date=D(2026, 11, 2))
    orders_only = CustomerFactory(organization=org)
    OrderFactory(customer=orders_only, amount=Decimal("80.00"), currency="CNY", order_date=D(2026, 11, 1))
    nothing = CustomerFactory(organization=org)
    settled = CustomerFactory(organization=org)
    paid = InvoiceFactory(customer=settled, amount=Decimal("60.00"), issue_date=D(2026, 9, 1))
    payment_record(customer=settled, reference="P3", received_on=D(2026, 9, 5), amount=Decimal("60.00"),
                   currency="EUR", invoice=paid)
    return [eur, usd, orders_only, nothing, settled]


def test_the_one_statement_standing_is_the_general_exposure_rule_to_the_cent(org):
    customers = book(org)
    ids = [c.pk for c in customers]
    for day in (TODAY, D(2026, 11, 11), D(2026, 8, 15)):  # before the credit note; before the USD payment
        balances = customer_balances(org, day, ids)
        rule = exposure_from(balances, open_orders_by_customer(org, day, ids))
        for customer in customers:
            standing = customer_standing(org, customer.pk, day)
            assert standing.exposure == rule.get(customer.pk, ZERO), (customer, day)
            assert standing.overdue == (balances[customer.pk].overdue if customer.pk in balances else ZERO)
            assert sum(standing.by_bucket.values(), ZERO) == standing.receivables
            read = check_read(org, customer.pk, day)
            assert read is not None and read.members == []
            fx = fx_for(org, day, position_currencies(read.rows))
            assert standing_from_rows(read.rows, fx) == standing
            result = credit_check(org, customer=customer, amount=Decimal("1.00"), currency="EUR",
                                  checkpoint="confirmation", as_of=day, record=False)
            assert result.exposure_base == rule.get(customer.pk, ZERO)
    # the figures themselves, by hand: 1000 - 300 - 200 + 420.10 + 250 (the invoiced and tomorrow's orders out)
    assert customer_standing(org, customers[0].pk, TODAY).exposure == Decimal("1170.10")
    # USD 3 x 100.05 + 222.22 = 522.37 converted once, 470.13 (bucket by bucket 470.15), + EUR 55.55; orders
    # CNY 1000.01 -> 129.10 and USD 10.05 -> 9.05
    usd = customer_standing(org, customers[1].pk, TODAY)
    assert (usd.receivables, usd.orders) == (Decimal("525.68"), Decimal("138.15"))
    assert len(usd.by_bucket) == 4 and usd.overdue == usd.receivables - usd.by_bucket["current"]


def test_a_check_of_an_existing_order_does_not_count_it_twice(org):
    customer = CustomerFactory(organization=org)
    order = OrderFactory(customer=customer, amount=Decimal("400.00"), order_date=D(2026, 11, 1))
    OrderFactory(customer=customer, amount=Decimal("50.00"), order_date=D(2026, 11, 1))
    assert customer_standing(org, customer.pk, TODAY).orders == Decimal("450.00")
    assert customer_standing(org, customer.pk, TODAY, exclude_order_id=order.pk).orders == Decimal("50.00")
    result = credit_check(org, customer=customer, amount=order.amount, currency="EUR", checkpoint="delivery",
                          order=order, record=False)
    assert result.exposure_base == Decimal("50.00")


def test_the_group_total_is_exposure_by_group_and_only_members_of_a_group_with_a_shared_limit_are_read(org, staff):
    customers = book(org)
    group = CustomerGroup.objects.create(organization=org, external_id="G1", name="Holding")
    for customer in customers[:3]:
        customer.group = group
        customer.save(update_fields=["group"])
    read = check_read(org, customers[0].pk, TODAY)
    assert read is not None and read.members == [] and read.state["group_limit"] is None  # no shared limit
    group_limit_set(organization=org, group=group, limit=Decimal("5000"), actor=staff(org), reason="cap")
    read = check_read(org, customers[0].pk, TODAY)
    assert read is not None and read.members == sorted(c.pk for c in customers[:3])
    assert read.state["group_limit"] == Decimal("5000.00")
    assert group_exposure(org, read.members, TODAY) == exposure_by_group(org, [group.pk], as_of=TODAY)[group.pk]


def test_the_state_is_read_with_the_position(org, staff):
    from credit_platform.roles import Role

    manager = staff(org, Role.CREDIT_MANAGER)
    FXRateFactory(organization=org, currency="USD", rate=Decimal("0.9"), rate_date=D(2026, 1, 1))
    customer = CustomerFactory(organization=org, currency="USD")
    decision_apply(organization=org, customer=customer, limit=Decimal("2000"), kind="approved", actor=None,
                   as_of=D(2026, 1, 1))
    hold_place(org, customer, kind="warn", reason="watch", actor=manager, source="manual")
    hold_place(org, customer, kind="hold", reason="late", actor=manager, source="manual")
    read = check_read(org, customer.pk, TODAY)
    assert read is not None
    state = read.state
    assert (state["currency"], state["credit_limit"], state["decision_kind"]) == ("USD", Decimal("2000.00"),
                                                                                  "approved")
    assert isinstance(state["valid_until"], dt.date) and state["valid_until"] >= TODAY
    assert (bool(state["block"]), bool(state["hold"]), bool(state["warn"])) == (False, True, True)
    assert (state["review_due"], state["grade"], state["group_id"], state["group_limit"]) == (None, None, None, None)


def test_another_organizations_customer_is_not_found(org, other_org):
    stranger = CustomerFactory(organization=other_org)
    assert check_read(org, stranger.pk, TODAY) is None
    with pytest.raises(AppError) as raised:
        credit_check(org, customer=stranger.pk, amount=Decimal("10"), currency="EUR", checkpoint="confirmation")
    assert raised.value.status == 404


def test_a_check_is_one_round_trip_and_a_held_one_adds_its_row(org, staff):
    clean = CustomerFactory(organization=org)
    decision_apply(organization=org, customer=clean, limit=Decimal("10000"), kind="approved", actor=None,
                   as_of=TODAY)
    new = CustomerFactory(organization=org)  # no limit: held
    abroad = CustomerFactory(organization=org, currency="USD")
    FXRateFactory(organization=org, currency="USD", rate=Decimal("0.9"), rate_date=D(2026, 1, 1))
    decision_apply(organization=org, customer=abroad, limit=Decimal("10000"), kind="approved", actor=None,
                   as_of=TODAY)
    group = CustomerGroup.objects.create(organization=org, external_id="G1", name="Holding")
    member = CustomerFactory(organization=org, group=group)
    decision_apply(organization=org, customer=member, limit=Decimal("10000"), kind="approved", actor=None,
                   as_of=TODAY)
    group_limit_set(organization=org, group=group, limit=Decimal("50000"), actor=staff(org), reason="cap")

    def round_trips(customer):
        with CaptureQueriesContext(connection) as queries:
            result = credit_check(org, customer=customer, amount=Decimal("100"), currency="EUR",
                                  checkpoint="confirmation")
        return result.outcome, len(queries)

    round_trips(clean)  # the policy, read once and kept for a few seconds
    assert round_trips(clean) == ("release", 1)
    assert round_trips(new) == ("hold", 2)  # the read and the held order's row
    assert round_trips(abroad) == ("release", 2)  # the read and the USD rate
    assert round_trips(member) == ("release", 2)  # the read and the group's members' position
    held = OrderCheck.objects.get(customer=new)
    assert (held.queue, held.outcome, held.amount, held.exposure_base, held.limit_base) == (
        "held", "hold", Decimal("100.00"), Decimal("0.00"), None)
    assert [r["code"] for r in held.reasons] == ["no_limit"] and held.created_at is not None


@pytest.mark.postgres
def test_postgresql_plans_the_read_once_per_connection(org, settings):
    customer = CustomerFactory(organization=org)

    def executions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(generic_plans + custom_plans) FROM pg_prepared_statements "
                           "WHERE statement LIKE %s", ["%limits_hold%"])
            return cursor.fetchone()[0] or 0

    for _ in range(3):
        credit_check(org, customer=customer, amount=Decimal("10"), currency="EUR", checkpoint="confirmation",
                     record=False)
    assert executions() == 3  # one statement, executed three times
    settings.DATABASE_PREPARED_STATEMENTS = False  # behind a pooler that does not keep them
    result = credit_check(org, customer=customer, amount=Decimal("10"), currency="EUR", checkpoint="confirmation",
                          record=False)
    assert result.codes == ["no_limit"] and executions() == 3
