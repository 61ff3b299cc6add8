"""A small hand-made book whose features are computed by hand in the tests (as of 2026-04-30)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from customers.models import Customer, ExternalSignal
from receivables.models import Allocation, Invoice, Order
from tests.factories import (
    CustomerFactory,
    FXRateFactory,
    InvoiceFactory,
    OrderFactory,
    PaymentFactory,
    StatementFactory,
)

AS_OF = dt.date(2026, 4, 30)
D = dt.date


def pay(invoice: Invoice, day: dt.date, amount: str | Decimal | None = None) -> Allocation:
    amount = Decimal(amount) if amount is not None else invoice.amount
    payment = PaymentFactory(customer=invoice.customer, received_on=day, amount=amount, currency=invoice.currency)
    return Allocation.objects.create(organization=invoice.organization, invoice=invoice, payment=payment,
                                     amount=amount, allocated_on=day)


def invoice(customer: Customer, issue: dt.date, due: dt.date, amount: str) -> Invoice:
    return InvoiceFactory(customer=customer, issue_date=issue, due_date=due, amount=Decimal(amount),
                          currency=customer.currency)


def signal(customer: Customer, kind: str, day: dt.date, value: Any = None, ref: str = "") -> ExternalSignal:
    return ExternalSignal.objects.create(organization=customer.organization, customer=customer, kind=kind,
                                         observed_on=day, source="test", reference=ref or f"{kind}:{day}",
                                         value=value)


@dataclass
class Book:
    a: Customer  # pays late, one invoice open 30 days past due, statements, bureau, litigation
    b: Customer  # prospect with no data at all
    c: Customer  # USD customer with one overdue invoice
    d: Customer  # regular small orders, then one large order
    other: Customer  # another organization's customer with the same data as a


def make_book(org: Any, other_org: Any) -> Book:
    a = CustomerFactory(organization=org, external_id="A", credit_limit=Decimal("5000"), size="medium",
                        customer_since=D(2020, 1, 1), payment_terms_days=30)
    # due in the 3-month window (2026-01-29, 2026-04-30]: DBT 10, 30, and 30 (still open at t)
    i1 = invoice(a, D(2026, 1, 1), D(2026, 1, 31), "1000.00")
    pay(i1, D(2026, 2, 10))
    i2 = invoice(a, D(2026, 2, 1), D(2026, 3, 3), "3000.00")
    pay(i2, D(2026, 3, 1), "1000.00")  # part paid early,
    pay(i2, D(2026, 4, 2), "2000.00")  # settled 30 days late
    i3 = invoice(a, D(2026, 3, 1), D(2026, 3, 31), "2000.00")
    pay(i3, D(2026, 5, 5))  # after t: unknown at t, so i3 is open and 30 days past due
    invoice(a, D(2026, 4, 20), D(2026, 5, 20), "500.00")  # not yet due
    invoice(a, D(2026, 5, 2), D(2026, 6, 1), "9999.00")  # issued after t
    OrderFactory(customer=a, order_date=D(2026, 4, 25), amount=Decimal("1000.00"))  # open: exposure
    OrderFactory(customer=a, order_date=D(2026, 5, 3), amount=Decimal("7000.00"))  # after t
    StatementFactory(customer=a, period_end=D(2024, 12, 31), revenue=Decimal("1600"))
    StatementFactory(customer=a, period_end=D(2025, 12, 31))  # available from 2026-04-30 (+120 days)
    StatementFactory(customer=a, period_end=D(2026, 3, 31), equity=Decimal("-50"), total_liabilities=Decimal("1050"))
    signal(a, "bureau_score", D(2026, 1, 15), 60)
    signal(a, "bureau_score", D(2026, 4, 15), 48)
    signal(a, "bureau_score", D(2026, 5, 10), 10)  # after t
    signal(a, "litigation", D(2025, 12, 1), ref="L1")
    signal(a, "litigation", D(2025, 3, 1), ref="L0")  # more than 12 months before t
    signal(a, "negative_news", D(2026, 5, 1), ref="N1")  # after t

    b = CustomerFactory(organization=org, external_id="B", status=Customer.Status.PROSPECT)

    FXRateFactory(organization=org, currency="USD", rate_date=D(2026, 1, 1), rate=Decimal("0.9"))
    FXRateFactory(organization=org, currency="USD", rate_date=D(2026, 5, 1), rate=Decimal("0.5"))  # after t
    c = CustomerFactory(organization=org, external_id="C", currency="USD", credit_limit=Decimal("2000"))
    invoice(c, D(2026, 2, 1), D(2026, 3, 1), "1000.00")  # open, 60 days past due at t

    d = CustomerFactory(organization=org, external_id="D")
    for day, amount in ((D(2025, 6, 1), "100"), (D(2025, 8, 1), "100"), (D(2025, 10, 1), "100"),
                        (D(2025, 12, 1), "100"), (D(2026, 1, 15), "200"), (D(2026, 4, 20), "500")):
        OrderFactory(customer=d, order_date=day, amount=Decimal(amount))
    OrderFactory(customer=d, order_date=D(2026, 4, 21), amount=Decimal("900"), status=Order.Status.CANCELLED)

    other = CustomerFactory(organization=other_org, external_id="A")
    invoice(other, D(2026, 1, 1), D(2026, 1, 31), "1000.00")
    return Book(a, b, c, d, other)
