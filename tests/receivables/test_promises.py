"""Promises to pay cover what they name or what their amount pays, oldest first, within the policy's horizon;
hand-over tasks of the managers' queue are closed by credit managers only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from receivables.collections import collections_file
from receivables.dunning.run import dunning_run
from receivables.models import CollectionTask, DunningPolicy, PromiseInvoice, PromiseToPay
from receivables.services import promise_create, task_complete
from tests.factories import CustomerFactory

from .conftest import D, invoice, pay

pytestmark = pytest.mark.django_db

TODAY = D(2026, 11, 29)  # the suite's business date (tests/conftest.py)


def skipped_and_fired(org, run_date):
    from receivables.models import DunningAction

    run = dunning_run(organization=org, run_date=run_date)
    fired = set(DunningAction.objects.filter(run=run).values_list("invoice__number", flat=True))
    return run.skipped, fired


def test_a_promise_for_0_01_dated_9999_12_31_is_refused_and_a_small_promise_pauses_nothing(
    client, org, member, policy
):
    c = CustomerFactory(organization=org)
    for n in range(3):
        invoice(c, "1000.00", D(2026, 9, 1), D(2026, 10, 1), number=f"OLD-{n}")
    client.force_login(member(org, Role.COLLECTOR))
    url = reverse("collections-file", args=[c.pk])
    response = client.post(url, {"action": "promise", "amount": "0.01", "promised_date": "9999-12-31"})
    assert response.status_code == 200
    assert "promised_date" in response.context["promise_form"].errors
    assert not PromiseToPay.objects.exists()
    # within the horizon it is recorded, but 0.01 pays no invoice in full: it pauses nothing
    response = client.post(url, {"action": "promise", "amount": "0.01", "promised_date": "2026-12-10"})
    assert response.status_code == 302
    assert PromiseToPay.objects.get().coverage.count() == 0
    skipped, fired = skipped_and_fired(org, TODAY)
    assert "promised" not in skipped and fired == {"OLD-0", "OLD-1", "OLD-2"}


def test_a_50000_promise_covers_the_oldest_invoices_it_pays_in_full_not_the_whole_account(org, policy):
    c = CustomerFactory(organization=org)
    for n in range(85):
        invoice(c, "42500.00", D(2026, 1, 1) + dt.timedelta(days=n), D(2026, 2, 1) + dt.timedelta(days=n),
                number=f"INV-{n:03d}")
    promise = promise_create(customer=c, amount=Decimal("50000.00"), promised_date=D(2026, 12, 20), actor=None)
    assert list(promise.coverage.values_list("invoice__number", flat=True)) == ["INV-000"]
    skipped, fired = skipped_and_fired(org, TODAY)
    assert skipped.get("promised") == 1 and len(fired) == 84 and "INV-000" not in fired
    f = collections_file(org, c, TODAY)
    assert [line.invoice.number for line in f.invoices if line.promised] == ["INV-000"]
    entry = AuditEntry.objects.get(action="promise.created")
    assert entry.after["invoices"] == ["INV-000"] and entry.after["covered"] == "42500.00"


def test_oldest_first_stops_at_the_first_invoice_it_cannot_pay_in_full(org, policy):
    c = CustomerFactory(organization=org)
    a = invoice(c, "300.00", D(2026, 9, 1), D(2026, 10, 1))
    b = invoice(c, "500.00", D(2026, 9, 5), D(2026, 10, 5))
    invoice(c, "100.00", D(2026, 9, 9), D(2026, 10, 9))  # younger and smaller: not skipped to
    invoice(c, "900.00", D(2026, 9, 1), D(2026, 10, 1), currency="USD")  # another currency
    promise = promise_create(customer=c, amount=Decimal("850.00"), promised_date=D(2026, 12, 5), actor=None)
    assert set(promise.invoices.all()) == {a, b}


def test_a_promise_naming_invoices_covers_exactly_those(org, member, policy):
    c = CustomerFactory(organization=org)
    old = invoice(c, "900.00", D(2026, 9, 1), D(2026, 10, 1))
    named = invoice(c, "200.00", D(2026, 9, 20), D(2026, 10, 20))
    client = APIClient()
    client.force_authenticate(member(org, Role.COLLECTOR))
    response = client.post("/api/v1/promises/", {"customer": c.external_id, "amount": "200.00",
                                                 "promised_date": "2026-12-10", "invoices": [named.number]},
                           format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["invoices"] == [named.number]
    skipped, fired = skipped_and_fired(org, TODAY)
    assert fired == {old.number} and skipped.get("promised") == 1


def test_the_horizon_is_the_policys_and_a_credit_manager_may_change_it(client, org, member, policy):
    c = CustomerFactory(organization=org)
    invoice(c, "100.00", D(2026, 9, 1), D(2026, 10, 1))
    with pytest.raises(Exception) as err:
        promise_create(customer=c, amount=Decimal("100"), promised_date=TODAY + dt.timedelta(days=45), actor=None)
    assert "2026-12-29" in str(err.value)  # names the latest date the policy accepts (30 days)
    data = {"action": "policy", "name": policy.name, "min_amount": "0", "run_hour": "6",
            "promise_grace_days": "2", "promise_max_days": "60", "statement_day": "1"}
    client.force_login(member(org, Role.COLLECTOR))
    assert client.post(reverse("collections-dunning"), data).status_code == 403
    client.force_login(member(org, Role.CREDIT_MANAGER))
    assert client.post(reverse("collections-dunning"), data).status_code == 302
    assert DunningPolicy.objects.get(pk=policy.pk).promise_max_days == 60
    assert AuditEntry.objects.filter(action="dunning.policy_changed").latest("seq").after["promise_max_days"] == 60
    promise_create(customer=c, amount=Decimal("100"), promised_date=TODAY + dt.timedelta(days=45), actor=None)


def test_a_promise_written_around_the_service_with_a_far_date_pauses_nothing(org, policy):
    c = CustomerFactory(organization=org)
    inv = invoice(c, "100.00", D(2026, 9, 1), D(2026, 10, 1))
    p = PromiseToPay.objects.create(organization=org, customer=c, made_on=TODAY, promised_date=D(9999, 12, 31),
                                    amount=Decimal("100.00"), currency="EUR")
    PromiseInvoice.objects.create(organization=org, promise=p, invoice=inv, open_amount=Decimal("100.00"))
    _skipped, fired = skipped_and_fired(org, TODAY)
    assert fired == {inv.number}


def test_a_past_date_promise_shows_a_field_error_and_keeps_the_input(client, org, member, policy):
    c = CustomerFactory(organization=org)
    invoice(c, "100.00", D(2026, 9, 1), D(2026, 10, 1))
    client.force_login(member(org, Role.COLLECTOR))
    response = client.post(reverse("collections-file", args=[c.pk]),
                           {"action": "promise", "amount": "77.50", "promised_date": "2026-11-01", "note": "AP"})
    assert response.status_code == 200
    errors = response.context["promise_form"].errors
    assert "before 2026-11-29" in errors["promised_date"][0]
    html = response.content.decode()
    assert "is violated" not in html and "promise_date_after_made" not in html
    assert 'value="77.50"' in html and 'value="2026-11-01"' in html  # the input stays
    assert not PromiseToPay.objects.exists()


@pytest.fixture
def handover(org, member):
    c = CustomerFactory(organization=org)
    agency = CollectionTask.objects.create(organization=org, customer=c, kind="agency", due_date=TODAY,
                                           title="Hand-over to collection agency: 2 invoice(s)")
    call = CollectionTask.objects.create(organization=org, customer=c, kind="call", due_date=TODAY, title="Call")
    return c, agency, call


def test_a_collector_cannot_close_a_credit_managers_handover_task(client, org, member, handover):
    c, agency, call = handover
    collector = member(org, Role.COLLECTOR)
    client.force_login(collector)
    url = reverse("collections-file", args=[c.pk])
    html = client.get(url).content.decode()
    assert "a credit manager closes it" in html
    for action in ("task_done", "task_cancel"):
        response = client.post(url, {"action": action, "task": agency.pk})
        assert response.status_code == 403
        assert "Only a credit manager may close a hand-over task" in response.content.decode()
    agency.refresh_from_db()
    assert agency.status == "open" and not AuditEntry.objects.filter(action__startswith="collections.task").exists()
    assert client.post(url, {"action": "task_done", "task": call.pk}).status_code == 302  # their own work
    client.force_login(member(org, Role.CREDIT_MANAGER))
    assert client.post(url, {"action": "task_done", "task": agency.pk}).status_code == 302
    agency.refresh_from_db()
    assert agency.status == "done"


def test_the_handover_rule_holds_in_the_service_for_every_edge(org, member, handover):
    _c, agency, _call = handover
    with pytest.raises(Exception) as err:
        task_complete(task=agency, actor=member(org, Role.COLLECTOR))
    assert getattr(err.value, "status", None) == 403
    assert task_complete(task=agency, actor=None).status == "done"  # the system (a command) may


def test_the_admin_does_not_let_a_credit_officer_close_a_handover(client, org, member, handover):
    _c, agency, _call = handover
    client.force_login(member(org, Role.CREDIT_OFFICER))  # works collections, may use the admin
    page = client.get(reverse("admin:receivables_collectiontask_change", args=[agency.pk]))
    assert page.status_code == 200
    assert "status" not in page.context["adminform"].form.fields


def test_an_open_whole_account_promise_recorded_before_coverage_existed_keeps_pausing_its_oldest_invoices(
    org, policy
):
    """Upgrading must not start reminding a customer who promised: migration 0007 gives the open promises
    that 0006 left without coverage the coverage a new promise gets; closed promises stay as they were."""
    import importlib

    from django.apps import apps

    from receivables.services import promise_coverage

    migration = importlib.import_module("receivables.migrations.0007_cover_whole_account_promises")
    c = CustomerFactory(organization=org)
    a = invoice(c, "300.00", D(2026, 9, 1), D(2026, 10, 1))
    b = invoice(c, "500.00", D(2026, 9, 5), D(2026, 10, 5))
    pay(b, "200.00", D(2026, 10, 20))
    invoice(c, "900.00", D(2026, 9, 9), D(2026, 10, 9))
    invoice(c, "50.00", D(2026, 11, 25), D(2026, 12, 25))  # issued after the promise was made
    made = dict(organization=org, customer=c, made_on=D(2026, 11, 1), promised_date=D(2026, 12, 5),
                currency=c.currency)
    old = PromiseToPay.objects.create(amount=Decimal("700.00"), **made)
    kept = PromiseToPay.objects.create(amount=Decimal("700.00"), status=PromiseToPay.Status.KEPT, **made)

    migration.cover_whole_account_promises(apps, None)

    assert {(pi.invoice, pi.open_amount) for pi in old.coverage.all()} == {
        (a, Decimal("300.00")), (b, Decimal("300.00"))
    }
    assert set(promise_coverage(c, old.amount, old.currency, old.made_on, [])) == {
        (a, Decimal("300.00")), (b, Decimal("300.00"))
    }
    assert not kept.coverage.exists()
    skipped, fired = skipped_and_fired(org, TODAY)
    assert skipped.get("promised") == 2 and a.number not in fired and b.number not in fired
