"""Collections services, the worklist, statements of account and the payment behaviour."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from credit_platform.errors import AppError
from credit_platform.models import AuditEntry
from customers.models import Customer
from receivables.collections import (
    collections_file,
    customer_risk_weights,
    worklist,
    worklist_page,
)
from receivables.models import CollectionProfile, CollectionTask, Payment, PromiseToPay, StatementDispatch
from receivables.services import (
    call_note_add,
    collection_assign,
    credit_note_record,
    dispute_open,
    dispute_resolve,
    payment_apply_on_account,
    payment_record,
    promise_create,
)
from receivables.statements import statement_build, statement_pdf, statement_send, statements_send_scheduled
from tests.conftest import REQUIRE_SERVICES
from tests.factories import CustomerFactory, FXRateFactory

from .conftest import D, invoice, pay

pytestmark = pytest.mark.django_db


def test_payments_explicit_oldest_first_partial_and_overpayment(org):
    c = CustomerFactory(organization=org)
    old = invoice(c, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    new = invoice(c, "200.00", D(2026, 1, 10), D(2026, 2, 10))
    _p1, r1 = payment_record(
        customer=c, reference="P1", received_on=D(2026, 2, 5), amount=Decimal("150.00"), currency="EUR"
    )
    assert (r1.allocated, r1.unapplied) == (Decimal("150.00"), Decimal("0"))  # oldest first: 100 + 50
    assert old.open_amount_on(D(2026, 2, 5)) == 0 and new.open_amount_on(D(2026, 2, 5)) == Decimal("150.00")
    p2, r2 = payment_record(
        customer=c,
        reference="P2",
        received_on=D(2026, 2, 6),
        amount=Decimal("170.00"),
        currency="EUR",
        invoice=new,
    )
    assert (r2.allocated, r2.unapplied) == (Decimal("150.00"), Decimal("20.00"))  # overpaid: 20 on account
    assert Payment.objects.with_unapplied().get(pk=p2.pk).unapplied_amount == Decimal("20.00")
    third = invoice(c, "50.00", D(2026, 2, 7), D(2026, 3, 7))
    credit_note_record(
        customer=c,
        number="CN1",
        issue_date=D(2026, 2, 8),
        amount=Decimal("10.00"),
        currency="EUR",
        invoice=third,
    )
    payment_apply_on_account(payment=p2)
    assert third.open_amount_on(D(2026, 3, 1)) == Decimal("20.00")  # 50 - 10 credit - 20 on account
    with pytest.raises(AppError) as err:
        payment_record(
            customer=c, reference="P1", received_on=D(2026, 2, 5), amount=Decimal("1.00"), currency="EUR"
        )
    assert err.value.code == "conflict"
    assert AuditEntry.objects.filter(action="payment.recorded").count() == 2


def test_promise_dispute_call_and_assignment_are_audited(org, member):
    user = member(org, "collector")
    c = CustomerFactory(organization=org)
    inv = invoice(c, "500.00", D(2026, 1, 1), D(2026, 2, 1))
    promise = promise_create(
        customer=c,
        amount=Decimal("500.00"),
        promised_date=D(2026, 3, 1),
        actor=user,
        made_on=D(2026, 2, 20),
        invoice=inv,
    )
    assert promise.currency == "EUR" and promise.created_by == user
    dispute = dispute_open(invoice=inv, reason="quality", actor=user, description="damaged pallet")
    with pytest.raises(AppError):
        dispute_open(invoice=inv, reason="price", actor=user)
    dispute_resolve(dispute=dispute, status="resolved", actor=user, resolution="credit note agreed")
    call_note_add(
        customer=c,
        outcome="promised",
        actor=user,
        note="AP clerk confirms transfer",
        next_action_on=D(2026, 3, 2),
        next_action="Check the transfer arrived",
    )
    follow = CollectionTask.objects.get(kind="follow_up")
    assert follow.assigned_to == user and follow.due_date == D(2026, 3, 2)
    assert collection_assign(organization=org, customer_ids=[c.pk], collector=user, actor=user) == 1
    assert CollectionProfile.objects.get(customer=c).collector == user
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "promise.created",
        "dispute.opened",
        "dispute.resolved",
        "collections.call_logged",
        "collections.assigned",
    } <= actions


def test_worklist_is_sorted_by_overdue_times_risk(org):
    as_of = D(2026, 6, 30)
    big_fresh = CustomerFactory(organization=org, legal_name="Big fresh")
    small_old = CustomerFactory(organization=org, legal_name="Small old")
    defaulted = CustomerFactory(organization=org, legal_name="Defaulted", status=Customer.Status.IN_DEFAULT)
    current = CustomerFactory(organization=org, legal_name="Not overdue")
    invoice(big_fresh, "10000.00", D(2026, 5, 1), D(2026, 6, 25))  # 5 days: weight 1 + 5/90
    invoice(small_old, "4000.00", D(2026, 1, 1), D(2026, 2, 1))  # 149 days: weight 1 + 149/90
    invoice(defaulted, "2000.00", D(2026, 1, 1), D(2026, 3, 2))  # 120 days, in default: 3 x (1 + 120/90)
    invoice(current, "9000.00", D(2026, 6, 1), D(2026, 7, 30))
    rows = worklist(org, as_of)
    assert [r[0] for r in rows] == [defaulted.pk, small_old.pk, big_fresh.pk]
    weights = customer_risk_weights(org, [small_old.pk, defaulted.pk], as_of=as_of)
    assert weights[small_old.pk] == pytest.approx(1 + 149 / 90) and weights[defaulted.pk] == pytest.approx(
        7.0
    )
    assert rows[0][1] == Decimal("2000.00") * Decimal("7.0")
    PromiseToPay.objects.create(
        organization=org,
        customer=small_old,
        made_on=D(2026, 6, 20),
        promised_date=D(2026, 7, 5),
        amount=Decimal("4000.00"),
        currency="EUR",
    )
    items = worklist_page(org, as_of, rows)
    assert items[1].promise is not None and items[1].next_action == D(2026, 7, 5)
    assert items[1].max_dpd == 149


def test_collections_file_shows_dunning_state_and_history(org, member):
    user = member(org, "collector")
    c = CustomerFactory(organization=org)
    inv = invoice(c, "500.00", D(2026, 1, 1), D(2026, 2, 1))
    dispute_open(invoice=inv, reason="price", actor=user)
    call_note_add(customer=c, outcome="reached", actor=user, note="will check")
    f = collections_file(org, c, D(2026, 3, 1))
    assert f.invoices[0].dispute is not None and f.invoices[0].days_past_due == 28
    assert {kind for _w, kind, _t, _d in f.history} == {"dispute", "call"}


def test_statement_pdf_for_a_chinese_customer_and_totals_agree(org, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    FXRateFactory(organization=org, currency="CNY", rate_date=D(2026, 1, 1), rate=Decimal("0.1271"))
    c = CustomerFactory(
        organization=org,
        legal_name="深圳市华强电子有限公司",
        currency="CNY",
        country_id="CN",
        email="caiwu@huaqiang.example",
    )
    a = invoice(c, "12000.00", D(2026, 1, 1), D(2026, 2, 1))
    invoice(c, "8000.00", D(2026, 3, 1), D(2026, 4, 30))
    invoice(c, "100.00", D(2026, 3, 1), D(2026, 3, 20), currency="EUR")
    pay(a, "5000.00", D(2026, 3, 10))
    st = statement_build(org, c, D(2026, 4, 1))
    assert st.open_by_currency() == {"CNY": Decimal("15000.00"), "EUR": Decimal("100.00")}
    assert st.aging_total_by_currency() == st.open_by_currency()
    assert st.aging_by_currency["CNY"]["d31_60"] == Decimal("7000.00")
    assert st.aging_base.total == Decimal("1906.50") + Decimal("100.00")  # 15,000 x 0.1271 + 100
    pdf = statement_pdf(st)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    assert b"WenQuanYi" in pdf or b"STSong-Light" in pdf  # a CJK font is embedded or referenced
    d = statement_send(customer=c, as_of=D(2026, 4, 1), actor=None)
    from receivables.statements import statement_dispatch_send

    statement_dispatch_send(d)
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments[0][2] == "application/pdf"
    assert StatementDispatch.objects.get().status == "sent"


def test_cjk_text_is_extractable_from_the_pdf(org):
    pdftotext = __import__("shutil").which("pdftotext")
    if pdftotext is None:
        if REQUIRE_SERVICES:
            pytest.fail("pdftotext (Debian's poppler-utils) is required in CI")
        pytest.skip("pdftotext not installed")
    import subprocess

    c = CustomerFactory(organization=org, legal_name="上海华信贸易有限公司")
    invoice(c, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    pdf = statement_pdf(statement_build(org, c, D(2026, 3, 1)))
    done = subprocess.run([pdftotext, "-", "-"], input=pdf, capture_output=True, check=True)
    text = done.stdout.decode()
    assert "上海华信贸易有限公司" in text


def test_scheduled_statements_are_sent_once(org, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    owing, paid_up = CustomerFactory(organization=org, email="a@x.example"), CustomerFactory(organization=org)
    for c in (owing, paid_up):
        CollectionProfile.objects.create(organization=org, customer=c, statement_monthly=True)
    invoice(owing, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    assert statements_send_scheduled(organization=org, as_of=D(2026, 3, 1)) == 1
    assert statements_send_scheduled(organization=org, as_of=D(2026, 3, 1)) == 0
    assert len(mail.outbox) == 1


def test_statement_and_file_for_customer_without_items(org):
    c = CustomerFactory(organization=org)
    assert statement_pdf(statement_build(org, c, D(2026, 3, 1))).startswith(b"%PDF")
    assert collections_file(org, c, D(2026, 3, 1)).balance is None
    assert dt.date(2026, 3, 1)
