"""Exposure and the order credit check: every hold reason, tolerance, checkpoints, prepaid pass, the held
order queue, graded holds and the dunning hold as one of them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from credit_platform.errors import AppError
from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import Customer, CustomerGroup
from limits.checks import credit_check, held_order_resolve
from limits.models import Hold, OrderCheck, Review
from limits.nightly import dunning_holds_lift
from limits.selectors import exposure_by_customer, exposure_by_group
from limits.services import decision_apply, group_limit_set, hold_place, hold_release, policy_update
from receivables.dunning.policy import dunning_policy_ensure_default
from receivables.dunning.run import dunning_run
from receivables.services import credit_note_record, payment_record
from tests.factories import CustomerFactory, FXRateFactory, InvoiceFactory, OrderFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 29)
D = dt.date


def limited(org, limit="10000", **kwargs):
    customer = CustomerFactory(organization=org, **kwargs)
    decision_apply(organization=org, customer=customer, limit=Decimal(limit), kind="approved", actor=None,
                   as_of=TODAY)
    return customer


def check(org, customer, amount, **kwargs):
    kwargs.setdefault("checkpoint", "confirmation")
    return credit_check(org, customer=customer, amount=Decimal(amount), currency=kwargs.pop("currency", "EUR"),
                        **kwargs)


def test_exposure_counts_open_invoices_after_partial_payments_and_credit_notes_plus_open_orders(org):
    customer = CustomerFactory(organization=org)
    invoice = InvoiceFactory(customer=customer, amount=Decimal("1000.00"), issue_date=D(2026, 11, 1))
    payment_record(customer=customer, reference="P1", received_on=D(2026, 11, 10), amount=Decimal("300.00"),
                   currency="EUR", invoice=invoice)
    credit_note_record(customer=customer, number="CN1", issue_date=D(2026, 11, 12), amount=Decimal("200.00"),
                       currency="EUR", invoice=invoice)
    OrderFactory(customer=customer, amount=Decimal("250.00"), order_date=D(2026, 11, 20))
    OrderFactory(customer=customer, amount=Decimal("999.00"), order_date=D(2026, 11, 20), status="invoiced")
    assert exposure_by_customer(org, [customer.pk], as_of=TODAY) == {customer.pk: Decimal("750.00")}
    # before the payment and the credit note: the whole invoice (no order yet)
    assert exposure_by_customer(org, [customer.pk], as_of=D(2026, 11, 5)) == {customer.pk: Decimal("1000.00")}


def test_exposure_converts_every_currency_to_base(org):
    FXRateFactory(organization=org, currency="USD", rate=Decimal("0.9"), rate_date=D(2026, 1, 1))
    FXRateFactory(organization=org, currency="CNY", rate=Decimal("0.13"), rate_date=D(2026, 1, 1))
    customer = CustomerFactory(organization=org, currency="USD")
    InvoiceFactory(customer=customer, amount=Decimal("1000.00"), currency="USD", issue_date=D(2026, 11, 1))
    InvoiceFactory(customer=customer, amount=Decimal("100.00"), currency="EUR", issue_date=D(2026, 11, 1))
    OrderFactory(customer=customer, amount=Decimal("1000.00"), currency="CNY", order_date=D(2026, 11, 1))
    assert exposure_by_customer(org, as_of=TODAY) == {customer.pk: Decimal("1130.00")}  # 900 + 100 + 130


def test_within_limit_releases_and_over_limit_beyond_tolerance_holds(org):
    customer = limited(org, "10000")
    InvoiceFactory(customer=customer, amount=Decimal("6000.00"), issue_date=D(2026, 11, 20))
    assert check(org, customer, "4000").outcome == "release"
    # 5% tolerance: 10,500 allowed
    assert check(org, customer, "4500").outcome == "release"
    result = check(org, customer, "4600")
    assert result.outcome == "hold" and result.codes == ["over_limit"]
    assert result.reasons[0]["allowed"] == "10500.00"


def test_splitting_an_order_cannot_dodge_the_check_because_open_orders_count(org):
    customer = limited(org, "10000")
    OrderFactory(customer=customer, amount=Decimal("6000.00"), order_date=D(2026, 11, 28))
    first_half = OrderFactory(customer=customer, amount=Decimal("3000.00"), order_date=D(2026, 11, 29))
    assert check(org, customer, "3000", order=first_half).outcome == "release"  # its own amount not twice
    assert check(org, customer, "3000").codes == ["over_limit"]  # the second half: 12,000 > 10,500


def test_no_limit_is_the_new_customer_gate_and_an_expired_limit_is_its_own_reason(org):
    new = CustomerFactory(organization=org)
    assert check(org, new, "100").codes == ["no_limit"]
    customer = limited(org, "10000")
    decision_apply(organization=org, customer=customer, limit=Decimal(0), kind="expired", actor=None, as_of=TODAY)
    assert check(org, customer, "100").codes == ["limit_expired"]


def test_blocked_on_hold_and_warning_holds_are_graded(org, member):
    manager = member(org, Role.CREDIT_MANAGER)
    customer = limited(org)
    warn = hold_place(org, customer, kind="warn", reason="watch", actor=manager, source="manual")
    result = check(org, customer, "100")
    assert result.outcome == "release" and [w["code"] for w in result.warnings] == ["warning_hold"]
    assert Customer.objects.get(pk=customer.pk).status == "active"
    hold = hold_place(org, customer, kind="hold", reason="late payer", actor=manager, source="manual")
    assert Customer.objects.get(pk=customer.pk).status == "on_hold"
    assert check(org, customer, "100").codes == ["customer_on_hold"]
    block = hold_place(org, customer, kind="block", reason="fraud suspicion", actor=manager, source="alert")
    assert Customer.objects.get(pk=customer.pk).status == "blocked"
    assert check(org, customer, "100").codes == ["customer_blocked"]
    hold_release(org, block, reason="cleared", actor=manager)
    assert Customer.objects.get(pk=customer.pk).status == "on_hold"
    hold_release(org, hold, reason="paid", actor=manager)
    hold_release(org, warn, reason="ok", actor=manager)
    assert Customer.objects.get(pk=customer.pk).status == "active"
    actions = list(AuditEntry.objects.filter(organization=org, action__in=["hold.placed", "hold.released",
                                                                           "customer.status_changed"])
                   .values_list("action", flat=True))
    assert actions.count("hold.placed") == 3 and actions.count("hold.released") == 3
    assert actions.count("customer.status_changed") == 4


def test_overdue_weighs_amount_age_and_grade_not_a_count(org, member):
    manager = member(org, Role.CREDIT_MANAGER)
    policy_update(organization=org, actor=manager, reason="tighter", overdue_tolerance=Decimal("1000"))
    many_small = limited(org, "100000")
    # unscored customers weigh as grade 6 (x 1.2)
    for n in range(5):  # five invoices 10 days late, 100 each: 5 x 100 x 0.5 x 1.2 = 300 weighted
        InvoiceFactory(customer=many_small, amount=Decimal("100.00"), issue_date=D(2026, 10, 20),
                       due_date=D(2026, 11, 19), number=f"S{n}")
    assert check(org, many_small, "100").outcome == "release"
    one_old = limited(org, "100000")  # one invoice 100 days late, 600: 600 x 2.0 x 1.2 = 1,440 weighted
    InvoiceFactory(customer=one_old, amount=Decimal("600.00"), issue_date=D(2026, 7, 1), due_date=D(2026, 8, 21))
    result = check(org, one_old, "100")
    assert result.codes == ["overdue"] and result.reasons[0]["weighted"] == "1440.00"


def test_group_limit_is_shared_by_its_members(org, member):
    approver = member(org, Role.FINANCE_APPROVER)
    group = CustomerGroup.objects.create(organization=org, external_id="G1", name="Holding")
    a, b = limited(org, "50000", group=group), limited(org, "50000", group=group)
    InvoiceFactory(customer=a, amount=Decimal("15000.00"), issue_date=D(2026, 11, 20))
    group_limit_set(organization=org, group=group, limit=Decimal("20000"), actor=approver, reason="group cap")
    assert exposure_by_group(org, as_of=TODAY) == {group.pk: Decimal("15000.00")}
    assert check(org, b, "5000").outcome == "release"
    assert check(org, b, "7000").codes == ["group_over_limit"]


def test_review_overdue_and_prepayment_required_and_prepaid_orders_pass(org):
    from scoring.models import CurrentScore
    from scoring.services import scoring_setup

    customer = limited(org, "10000")
    Review.objects.create(organization=org, customer=customer, kind="scheduled", due_on=D(2026, 11, 1))
    assert check(org, customer, "100").codes == ["review_overdue"]
    risky = limited(org, "10000")
    CurrentScore.objects.create(organization=org, customer=risky, as_of=TODAY, model=scoring_setup(organization=org),
                                model_version=1, pd=0.2, grade=8, computed_at=timezone.now())
    assert check(org, risky, "100").codes == ["prepayment_required"]
    assert check(org, risky, "100", prepaid=True).outcome == "release"
    assert check(org, risky, "100", checkpoint="quotation").checked is False  # not a checkpoint of the policy


def test_held_orders_wait_in_the_queue_until_an_approver_releases_or_rejects_them(org, member):
    approver, collector = member(org, Role.FINANCE_APPROVER), member(org, Role.COLLECTOR)
    customer = CustomerFactory(organization=org)
    first, second = check(org, customer, "100"), check(org, customer, "200")
    assert OrderCheck.objects.filter(queue="held").count() == 2
    held = OrderCheck.objects.get(pk=first.check_id)
    with pytest.raises(AppError):
        held_order_resolve(org, held, release=True, reason="ok", actor=collector)
    held_order_resolve(org, held, release=True, reason="customer paid in cash", actor=approver)
    held_order_resolve(org, OrderCheck.objects.get(pk=second.check_id), release=False, reason="no", actor=approver)
    assert sorted(OrderCheck.objects.values_list("queue", flat=True)) == ["rejected", "released"]
    assert AuditEntry.objects.filter(action="held_order.released").get().reason == "customer paid in cash"
    with pytest.raises(AppError, match="no longer held"):
        held_order_resolve(org, held, release=False, reason="again", actor=approver)


def test_the_dunning_credit_hold_is_a_hold_that_blocks_orders_and_lifts_when_the_overdue_is_cleared(org):
    dunning_policy_ensure_default(org)
    customer = limited(org, "100000")
    late = InvoiceFactory(customer=customer, amount=Decimal("5000.00"), issue_date=D(2026, 9, 1),
                          due_date=D(2026, 10, 1))
    dunning_run(organization=org, run_date=TODAY)
    hold = Hold.objects.get(customer=customer)
    assert (hold.kind, hold.source, hold.released_at) == ("hold", "dunning", None)
    assert "customer_on_hold" in check(org, customer, "100").codes
    assert dunning_holds_lift(org, TODAY) == 0  # still overdue
    payment_record(customer=customer, reference="P1", received_on=TODAY, amount=Decimal("5000.00"), currency="EUR",
                   invoice=late)
    assert dunning_holds_lift(org, TODAY) == 1
    assert Customer.objects.get(pk=customer.pk).status == "active"
    assert check(org, customer, "100").outcome == "release"
    assert AuditEntry.objects.filter(action="hold.released", actor__isnull=True).exists()


def test_a_manual_hold_needs_the_right_and_a_collector_cannot_lift_one(org, member):
    collector, manager = member(org, Role.COLLECTOR), member(org, Role.CREDIT_MANAGER)
    customer = CustomerFactory(organization=org)
    with pytest.raises(AppError):
        hold_place(org, customer, kind="hold", reason="x", actor=collector, source="manual")
    hold = hold_place(org, customer, kind="hold", reason="x", actor=manager, source="manual")
    with pytest.raises(AppError):
        hold_release(org, hold, reason="x", actor=collector)
    assert Customer.objects.get(pk=customer.pk).status == "on_hold"
