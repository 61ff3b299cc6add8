from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from credit_platform.models import FXRate, Organization
from customers.models import Country, Customer, FinancialStatement, Sector
from receivables.models import Invoice, Order, Payment


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    base_currency = "EUR"
    time_zone = "Europe/Berlin"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    external_id = factory.Sequence(lambda n: f"C{n:05d}")
    legal_name = factory.Sequence(lambda n: f"Customer {n} GmbH")
    country = factory.LazyFunction(lambda: Country.objects.get(code="DE"))
    sector = factory.LazyFunction(lambda: Sector.objects.get(code="C"))
    currency = "EUR"
    payment_terms_days = 30
    status = Customer.Status.ACTIVE


class StatementFactory(factory.django.DjangoModelFactory):
    """A balanced statement: TA 1000 = TL 600 + E 400."""

    class Meta:
        model = FinancialStatement

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    period_end = dt.date(2025, 12, 31)
    currency = "EUR"
    cash = Decimal("100")
    receivables = Decimal("200")
    inventory = Decimal("150")
    current_assets = Decimal("500")
    total_assets = Decimal("1000")
    current_liabilities = Decimal("250")
    total_liabilities = Decimal("600")
    equity = Decimal("400")
    retained_earnings = Decimal("300")
    revenue = Decimal("2000")
    ebit = Decimal("120")
    ebitda = Decimal("160")
    interest_expense = Decimal("30")
    net_income = Decimal("70")
    operating_cash_flow = Decimal("110")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    number = factory.Sequence(lambda n: f"SO-{n:06d}")
    order_date = dt.date(2026, 1, 1)
    amount = Decimal("100.00")
    currency = factory.SelfAttribute("customer.currency")


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    number = factory.Sequence(lambda n: f"INV-{n:06d}")
    issue_date = dt.date(2026, 1, 1)
    due_date = factory.LazyAttribute(lambda o: o.issue_date + dt.timedelta(days=30))
    amount = Decimal("100.00")
    currency = factory.SelfAttribute("customer.currency")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    reference = factory.Sequence(lambda n: f"PAY-{n:06d}")
    received_on = dt.date(2026, 2, 1)
    amount = Decimal("100.00")
    currency = factory.SelfAttribute("customer.currency")


class FXRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FXRate

    organization = factory.SubFactory(OrganizationFactory)
    currency = "USD"
    rate_date = dt.date(2025, 1, 1)
    rate = Decimal("0.9")
