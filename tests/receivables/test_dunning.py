"""The daily dunning run: each level once and only once per invoice, across re-runs and crashes; the
exceptions; broken promises; one message per customer; the outbox."""

from __future__ import annotations

import datetime as dt
import smtplib
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from credit_platform.models import AuditEntry
from customers.models import Customer
from receivables.dunning import run as run_mod
from receivables.dunning.outbox import dunning_outbox_send
from receivables.dunning.policy import dunning_policy_ensure_default
from receivables.dunning.run import dunning_run
from receivables.models import (
    CollectionProfile,
    CollectionTask,
    Dispute,
    DunningAction,
    DunningMessage,
    DunningRun,
    PromiseToPay,
)
from receivables.services import promise_create
from tests.factories import CustomerFactory, OrganizationFactory

from .conftest import D, invoice, pay

pytestmark = pytest.mark.django_db


def days_until(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def fired(org) -> list[tuple[str, int, dt.date]]:
    return sorted(
        DunningAction.objects.for_organization(org).values_list("invoice__number", "level__days", "run_date")
    )


def test_every_level_fires_once_on_its_day_over_daily_runs(org, policy):
    c = CustomerFactory(organization=org)
    inv = invoice(c, "1000.00", D(2026, 2, 1), D(2026, 3, 1))
    for day in days_until(D(2026, 2, 15), D(2026, 5, 31)):
        dunning_run(organization=org, run_date=day)
        dunning_run(organization=org, run_date=day)  # the same day's second run
    assert fired(org) == [
        (inv.number, -7, D(2026, 2, 22)),
        (inv.number, 1, D(2026, 3, 2)),
        (inv.number, 15, D(2026, 3, 16)),
        (inv.number, 30, D(2026, 3, 31)),
        (inv.number, 60, D(2026, 4, 30)),
    ]
    assert DunningMessage.objects.for_organization(org).count() == 5
    assert set(DunningRun.objects.for_organization(org).values_list("attempts", flat=True)) == {1}


def test_same_day_second_run_adds_nothing(org, policy):
    customers = [CustomerFactory(organization=org) for _ in range(3)]
    for i, c in enumerate(customers):
        invoice(c, "500.00", D(2025, 11, 1), D(2026, 2, 1) - dt.timedelta(days=20 * i))
    first = dunning_run(organization=org, run_date=D(2026, 3, 10))
    counts = (
        DunningAction.objects.count(),
        DunningMessage.objects.count(),
        CollectionTask.objects.count(),
        AuditEntry.objects.count(),
    )
    again = dunning_run(organization=org, run_date=D(2026, 3, 10))
    assert again.pk == first.pk and again.status == "completed"
    assert counts == (
        DunningAction.objects.count(),
        DunningMessage.objects.count(),
        CollectionTask.objects.count(),
        AuditEntry.objects.count(),
    )
    assert counts[0] == 3


def _book(org, customers: int = 12) -> dict[str, int]:
    """Customers with invoices at various levels; returns invoice number -> expected level days."""
    expected = {}
    for k in range(customers):
        c = CustomerFactory(organization=org, external_id=f"{org.slug}-C{k}")
        for j, late in enumerate((3, 20, 45, 90)):
            if (k + j) % 3 == 0:
                continue
            inv = invoice(
                c,
                f"{100 + k}.00",
                D(2026, 1, 1),
                D(2026, 6, 1) - dt.timedelta(days=late),
                number=f"{org.slug}-{k}-{j}",
            )
            expected[inv.number] = {3: 1, 20: 15, 45: 30, 90: 60}[late]
    return expected


def test_a_run_that_crashes_midway_and_is_rerun_duplicates_nothing_and_misses_nothing(
    org, policy, monkeypatch
):
    expected = _book(org)
    calls = {"n": 0}
    real = run_mod._insert_tasks

    def crash_on_third_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(run_mod, "_insert_tasks", crash_on_third_chunk)
    with pytest.raises(RuntimeError):
        dunning_run(organization=org, run_date=D(2026, 6, 1), chunk_customers=3)
    run = DunningRun.objects.get(organization=org)
    assert run.status == "failed" and "worker killed" in run.error
    done_customers = set(DunningAction.objects.values_list("customer_id", flat=True))
    assert len(done_customers) == 6  # two chunks of three customers committed; the third rolled back whole
    assert all(cid <= run.cursor for cid in done_customers)

    monkeypatch.setattr(run_mod, "_insert_tasks", real)
    run = dunning_run(organization=org, run_date=D(2026, 6, 1), chunk_customers=3)
    assert (run.status, run.attempts) == ("completed", 2)
    rows = list(DunningAction.objects.values_list("invoice__number", "level__days"))
    assert Counter(rows).most_common(1)[0][1] == 1  # nothing twice
    assert dict(rows) == expected  # nothing missed
    assert run.actions == len(expected)
    messages = Counter(DunningMessage.objects.values_list("customer_id", flat=True))
    assert len(messages) == 12 and set(messages.values()) == {1}
    # the same book run without a crash gives the same actions
    other = OrganizationFactory(slug="twin")
    dunning_policy_ensure_default(other)
    twin = _book(other)
    dunning_run(organization=other, run_date=D(2026, 6, 1), chunk_customers=5)
    assert sorted(
        DunningAction.objects.for_organization(other).values_list("level__days", flat=True)
    ) == sorted(twin.values())


def test_catch_up_fires_only_the_highest_level_reached(org, policy):
    c = CustomerFactory(organization=org)
    inv = invoice(c, "300.00", D(2026, 1, 1), D(2026, 2, 1))
    dunning_run(organization=org, run_date=D(2026, 2, 21))  # 20 days late: -7 and +1 were missed
    assert fired(org) == [(inv.number, 15, D(2026, 2, 21))]
    dunning_run(organization=org, run_date=D(2026, 2, 22))
    dunning_run(organization=org, run_date=D(2026, 3, 5))  # 32 days: final notice, once
    assert [lv for _n, lv, _d in fired(org)] == [15, 30]


def test_disputed_promised_do_not_dun_and_small_invoices_are_skipped(org, policy, member):
    policy.min_amount = Decimal("50.00")
    policy.save()
    a, b, dnd = (CustomerFactory(organization=org) for _ in range(3))
    disputed = invoice(a, "400.00", D(2026, 1, 1), D(2026, 2, 1))
    promised = invoice(a, "400.00", D(2026, 1, 1), D(2026, 2, 1))
    plain = invoice(a, "400.00", D(2026, 1, 1), D(2026, 2, 1))
    small = invoice(a, "49.99", D(2026, 1, 1), D(2026, 2, 1))
    account = invoice(b, "400.00", D(2026, 1, 1), D(2026, 2, 1))
    blocked = invoice(dnd, "400.00", D(2026, 1, 1), D(2026, 2, 1))
    Dispute.objects.create(
        organization=org, invoice=disputed, customer=a, reason="quality", opened_on=D(2026, 2, 2)
    )
    promise_create(customer=a, invoice=promised, made_on=D(2026, 2, 2), promised_date=D(2026, 3, 1),
                   amount=Decimal("400.00"), actor=None)
    # no invoice named: its 400 pays the account's one open invoice in full, so it covers it
    promise_create(customer=b, made_on=D(2026, 2, 2), promised_date=D(2026, 3, 1), amount=Decimal("400.00"),
                   actor=None)
    CollectionProfile.objects.create(organization=org, customer=dnd, do_not_dun=True)
    run = dunning_run(organization=org, run_date=D(2026, 2, 5))
    assert [n for n, _lv, _d in fired(org)] == [plain.number]
    assert run.skipped == {"disputed": 1, "promised": 2, "do_not_dun": 1, "under_threshold": 1}
    # the dispute is resolved: the invoice is dunned at the level it has reached by then
    Dispute.objects.filter(invoice=disputed).update(status="resolved")
    dunning_run(organization=org, run_date=D(2026, 2, 17))
    assert (disputed.number, 15, D(2026, 2, 17)) in fired(org)
    assert not {promised.number, account.number, blocked.number, small.number} & {
        n for n, _l, _d in fired(org)
    }


def test_a_broken_promise_is_flagged_escalated_and_dunning_resumes(org, policy):
    c, k = CustomerFactory(organization=org), CustomerFactory(organization=org)
    inv = invoice(c, "800.00", D(2026, 1, 1), D(2026, 2, 1))
    kept_inv = invoice(k, "800.00", D(2026, 1, 1), D(2026, 2, 1))
    broken = promise_create(customer=c, made_on=D(2026, 2, 3), promised_date=D(2026, 2, 10),
                            amount=Decimal("800.00"), actor=None)
    kept = promise_create(customer=k, invoice=kept_inv, made_on=D(2026, 2, 3), promised_date=D(2026, 2, 10),
                          amount=Decimal("300.00"), actor=None)
    pay(inv, "100.00", D(2026, 2, 9))  # short of the 800 promised
    pay(kept_inv, "300.00", D(2026, 2, 11))  # inside the two days of grace
    dunning_run(organization=org, run_date=D(2026, 2, 12))  # still within grace: nothing happens
    assert PromiseToPay.objects.filter(status="open").count() == 2 and not fired(org)
    run = dunning_run(organization=org, run_date=D(2026, 2, 13))
    broken.refresh_from_db()
    kept.refresh_from_db()
    assert (broken.status, broken.received, broken.closed_on) == ("broken", Decimal("100.00"), D(2026, 2, 13))
    assert kept.status == "kept"
    assert run.promises_broken == 1
    task = CollectionTask.objects.get(kind="broken_promise")
    assert task.customer == c and task.assigned_to is None and "800.00 EUR" in task.title
    assert AuditEntry.objects.filter(action="promise.broken", object_id=str(broken.pk)).exists()
    # dunning resumes at once for the broken promise's invoice, not for the kept one's
    assert [(n, lv) for n, lv, _d in fired(org)] == [(inv.number, 1), (kept_inv.number, 1)]


def test_one_message_per_customer_in_its_language(org, policy, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    de = CustomerFactory(organization=org, legal_name="Müller & Söhne GmbH", email="ap@mueller.example")
    cn = CustomerFactory(
        organization=org, legal_name="上海华信贸易有限公司", email="ap@huaxin.example", country_id="CN"
    )
    numbers = [
        invoice(de, "100.00", D(2026, 1, 1), D(2026, 3, 1) - dt.timedelta(days=d)).number for d in (-5, 2, 20)
    ]
    invoice(cn, "250.00", D(2026, 1, 1), D(2026, 2, 1))
    run = dunning_run(organization=org, run_date=D(2026, 3, 1))
    assert run.actions == 4 and run.messages == 2
    msg = DunningMessage.objects.get(customer=de)
    assert msg.level.days == 15 and msg.language == "en" and msg.status == "pending"
    assert dunning_outbox_send(org).sent == 2
    assert dunning_outbox_send(org).sent == 0  # a sent message is never sent again
    assert len(mail.outbox) == 2
    english = next(m for m in mail.outbox if m.to == ["ap@mueller.example"])
    assert "Dear Müller & Söhne GmbH" in english.body and "&amp;" not in english.body
    assert all(n in english.body for n in numbers) and "Total open: 300.00 EUR" in english.body
    assert (
        "(20 days overdue)" in english.body
        and "(2 days overdue)" in english.body
        and english.subject.startswith("Second reminder")
    )
    chinese = next(m for m in mail.outbox if m.to == ["ap@huaxin.example"])
    assert "尊敬的上海华信贸易有限公司" in chinese.body and "逾期 28 天" in chinese.body
    msg.refresh_from_db()
    assert msg.status == "sent" and msg.sent_at is not None and "Dear" in msg.body


def test_a_failed_send_is_retried_and_then_sent_once(org, policy, settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    c = CustomerFactory(organization=org, email="ap@x.example")
    invoice(c, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    dunning_run(organization=org, run_date=D(2026, 2, 3))
    from django.core.mail import EmailMessage

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    result = dunning_outbox_send(org)
    assert (result.sent, result.failed) == (0, 1)
    msg = DunningMessage.objects.get()
    assert (msg.status, msg.attempts) == ("failed", 1) and "connection lost" in msg.last_error
    monkeypatch.undo()
    assert dunning_outbox_send(org).sent == 1 and len(mail.outbox) == 1


def test_customer_without_email_is_flagged_not_sent(org, policy):
    c = CustomerFactory(organization=org, email="")
    invoice(c, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    dunning_run(organization=org, run_date=D(2026, 2, 3))
    assert DunningMessage.objects.get().status == "no_address"
    assert dunning_outbox_send(org).sent == 0


def test_final_notice_puts_active_customer_on_hold_and_tasks_go_to_the_collector(org, policy, member):
    collector = member(org, "collector")
    c = CustomerFactory(organization=org)
    CollectionProfile.objects.create(organization=org, customer=c, collector=collector)
    invoice(c, "900.00", D(2026, 1, 1), D(2026, 2, 1))
    dunning_run(organization=org, run_date=D(2026, 2, 16))  # +15: call task
    dunning_run(organization=org, run_date=D(2026, 3, 3))  # +30: final notice and credit hold
    c.refresh_from_db()
    assert c.status == Customer.Status.ON_HOLD
    hold = AuditEntry.objects.get(action="customer.status_changed")
    assert (hold.object_id, hold.before, hold.after["status"]) == (str(c.pk), {"status": "active"}, "on_hold")
    assert [e.after["credit_holds"] for e in AuditEntry.objects.filter(action="dunning.actions")] == [0, 1]
    call = CollectionTask.objects.get(kind="call")
    assert call.assigned_to == collector and call.title == "Second reminder: 1 invoice(s)"
    dunning_run(organization=org, run_date=D(2026, 4, 2))  # +60: hand-over, for the managers' queue
    agency = CollectionTask.objects.get(kind="agency")
    assert agency.assigned_to is None
    assert AuditEntry.objects.filter(action="dunning.actions").count() == 3


def test_a_customer_first_dunned_past_the_hold_level_is_put_on_hold(org, policy):
    """The catch-up rule fires only the highest level reached: an invoice found 70 days overdue on its
    first run gets the +60 hand-over (no hold flag of its own) and skips the +30 final notice, which
    carries the credit hold. The hold still applies; a customer only at +15 is not held."""
    late, early = CustomerFactory(organization=org), CustomerFactory(organization=org)
    invoice(late, "900.00", D(2026, 1, 1), D(2026, 2, 1))
    invoice(early, "900.00", D(2026, 1, 1), D(2026, 3, 20))
    run = dunning_run(organization=org, run_date=D(2026, 4, 12))  # late: +70, early: +23
    assert list(DunningAction.objects.filter(customer=late).values_list("level__days", flat=True)) == [60]
    late.refresh_from_db()
    early.refresh_from_db()
    assert (late.status, early.status, run.holds) == (Customer.Status.ON_HOLD, Customer.Status.ACTIVE, 1)
    entry = AuditEntry.objects.get(action="customer.status_changed")
    assert entry.object_id == str(late.pk) and "+60" in entry.reason


def test_each_customer_put_on_hold_gets_its_own_ledger_entry_and_the_chain_verifies(org, policy):
    # given customers past the final notice (+30, credit hold): seven active, one already on hold, one
    # blocked, one on the do-not-dun list, and one only at the second reminder
    final = policy.levels.get(days=30)
    active = [CustomerFactory(organization=org) for _ in range(7)]
    on_hold = CustomerFactory(organization=org, status=Customer.Status.ON_HOLD)
    blocked = CustomerFactory(organization=org, status=Customer.Status.BLOCKED)
    dnd = CustomerFactory(organization=org)
    CollectionProfile.objects.create(organization=org, customer=dnd, do_not_dun=True)
    early = CustomerFactory(organization=org)
    for c in [*active, on_hold, blocked, dnd]:
        invoice(c, "700.00", D(2026, 1, 1), D(2026, 2, 1))
        invoice(c, "300.00", D(2026, 1, 1), D(2026, 2, 5))
    invoice(early, "700.00", D(2026, 1, 1), D(2026, 2, 20))

    # when the run puts them on hold, in chunks of three customers
    run = dunning_run(organization=org, run_date=D(2026, 3, 5), chunk_customers=3)

    # then there is one ledger entry per customer whose status changed, and only for those
    assert run.holds == 7
    entries = list(AuditEntry.objects.filter(action="customer.status_changed").order_by("seq"))
    assert sorted(int(e.object_id) for e in entries) == sorted(c.pk for c in active)
    for e in entries:
        customer = Customer.objects.get(pk=e.object_id)
        assert customer.status == Customer.Status.ON_HOLD
        assert (e.object_type, e.object_repr) == ("customers.customer", str(customer))
        assert (e.before, e.after) == (
            {"status": "active"},
            {"status": "on_hold", "dunning_level": final.pk, "dunning_run": run.pk},
        )
        assert e.reason == "dunning level Final notice (+30 days), run of 2026-03-05"
        assert e.actor_label == "system"
    assert Customer.objects.get(pk=blocked.pk).status == Customer.Status.BLOCKED
    # the chunk entries count the holds, and the whole chain verifies
    assert sum(e.after["credit_holds"] for e in AuditEntry.objects.filter(action="dunning.actions")) == 7
    out = StringIO()
    call_command("verify_audit", organization=org.slug, stdout=out)
    assert "chain intact" in out.getvalue()
    # a later run finds them on hold already and adds an entry only for the customer it now holds
    dunning_run(organization=org, run_date=D(2026, 3, 25), chunk_customers=3)
    later = AuditEntry.objects.filter(action="customer.status_changed").exclude(pk__in=[e.pk for e in entries])
    assert [e.object_id for e in later] == [str(early.pk)]
    call_command("verify_audit", stdout=out)


def test_a_run_only_touches_its_own_organization(org, other_org, policy):
    dunning_policy_ensure_default(other_org)
    mine = invoice(CustomerFactory(organization=org), "100.00", D(2026, 1, 1), D(2026, 2, 1))
    invoice(CustomerFactory(organization=other_org), "100.00", D(2026, 1, 1), D(2026, 2, 1))
    dunning_run(organization=org, run_date=D(2026, 2, 3))
    assert list(DunningAction.objects.values_list("invoice_id", flat=True)) == [mine.pk]


def test_paid_and_partly_paid_invoices(org, policy):
    c = CustomerFactory(organization=org)
    paid = invoice(c, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    part = invoice(c, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    pay(paid, "100.00", D(2026, 2, 2))
    pay(part, "60.00", D(2026, 2, 2))
    dunning_run(organization=org, run_date=D(2026, 2, 3))
    action = DunningAction.objects.get()
    assert action.invoice == part and action.open_amount == Decimal("40.00")


def test_organization_without_policy_is_not_dunned(org):
    invoice(CustomerFactory(organization=org), "100.00", D(2026, 1, 1), D(2026, 2, 1))
    assert dunning_run(organization=org, run_date=D(2026, 2, 3)) is None
    assert not DunningAction.objects.exists()


def test_beat_starts_each_organization_after_its_local_run_hour(db):
    from receivables.tasks import due_organizations

    shanghai = OrganizationFactory(slug="sh", time_zone="Asia/Shanghai")
    new_york = OrganizationFactory(slug="ny", time_zone="America/New_York")
    dunning_policy_ensure_default(shanghai)
    dunning_policy_ensure_default(new_york)
    now = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai, 20:00 the day before in New York
    due = {org_id: day for org_id, day, _stmt in due_organizations(now)}
    assert due == {shanghai.pk: D(2026, 3, 2), new_york.pk: D(2026, 3, 1)}
    DunningRun.objects.create(organization=shanghai, run_date=D(2026, 3, 2), status="completed")
    assert [o for o, _d, _s in due_organizations(now)] == [new_york.pk]
    early = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)  # 04:00 in Shanghai: before its 06:00 run hour
    assert shanghai.pk not in {o for o, _d, _s in due_organizations(early)}


def test_the_letter_says_one_day_not_one_days():
    from receivables.dunning.messages import Item, default_templates, render

    templates = default_templates("Intro.", "说明。", "Reminder", "提醒")
    items = [
        Item("INV-1", D(2026, 1, 1), D(2026, 1, 31), Decimal("10.00"), "EUR", 1, "First reminder"),
        Item("INV-2", D(2026, 1, 1), D(2026, 1, 20), Decimal("5.00"), "EUR", 12, "First reminder"),
    ]
    _subject, body = render(
        templates["subject_en"], templates["body_en"], customer="A", customer_id="1", organization="O",
        level="First reminder", run_date=D(2026, 2, 1), items=items,
    )
    assert "(1 day overdue)" in body and "(12 days overdue)" in body and "1 days" not in body


def test_stored_letters_from_the_old_default_get_the_plural_and_rewritten_ones_are_left_alone(org, policy):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("receivables.migrations.0005_dunning_letters_day_plural")
    first, second = policy.levels.order_by("days")[:2]
    first.body_en = "Dear {{ customer }},\n{% for i in items %}{{ i.number }} " + migration.OLD + "{% endfor %}"
    first.save()
    second.body_en = "Custom wording: {{ customer }} is {{ i.days_past_due }} days late."
    second.save()
    migration.forwards(apps, None)
    first.refresh_from_db()
    second.refresh_from_db()
    assert migration.NEW in first.body_en and migration.OLD not in first.body_en
    assert second.body_en == "Custom wording: {{ customer }} is {{ i.days_past_due }} days late."
