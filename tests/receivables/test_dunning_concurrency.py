"""Two dunning runs of the same organization and date at the same time, on PostgreSQL: each in its own
thread with its own database connection, started together, as two beat deliveries (or a beat and a
"Run dunning now") picked up by two workers would be. Every (invoice, level) fires once, every customer
gets one message and one e-mail, and the ledger records the run once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from credit_platform.audit import audit_verify
from credit_platform.models import AuditEntry
from receivables.dunning.policy import dunning_policy_ensure_default
from receivables.dunning.run import dunning_run
from receivables.models import CollectionTask, DunningAction, DunningMessage, DunningRun
from tests.factories import CustomerFactory, OrganizationFactory

from .conftest import D, invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RUN_DATE = D(2026, 6, 1)
LATE_TO_LEVEL = {3: 1, 20: 15, 45: 30, 90: 60}  # days past due on RUN_DATE -> highest level reached


def _book(org: Any, customers: int) -> dict[str, int]:
    """Customers with invoices at every level; returns invoice number -> the level (days) it must get."""
    expected = {}
    for k in range(customers):
        c = CustomerFactory(organization=org, external_id=f"C{k:03d}", email=f"ap{k}@example.com")
        for j, late in enumerate(LATE_TO_LEVEL):
            if (k + j) % 4 == 0:
                continue
            inv = invoice(c, "250.00", D(2026, 1, 1), RUN_DATE - dt.timedelta(days=late), number=f"INV-{k}-{j}")
            expected[inv.number] = LATE_TO_LEVEL[late]
    return expected


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same instant; re-raise the first error."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def work(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except BaseException as exc:  # handed to the main thread, which re-raises it
            errors.append(exc)
        finally:
            connection.close()  # this thread's connection, so that the test database can be flushed

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a run did not finish (deadlock?)"
    if errors:
        raise errors[0]
    return results


def test_two_concurrent_runs_act_once_per_invoice_and_level_and_message_each_customer_once():
    # given a book of 40 customers due at every level, never dunned, and a competitor tenant
    org = OrganizationFactory(slug="acme")
    dunning_policy_ensure_default(org)
    expected = _book(org, 40)
    other = OrganizationFactory(slug="globex")
    dunning_policy_ensure_default(other)
    theirs = invoice(CustomerFactory(organization=other, email="ap@globex.example"), "99.00",
                     D(2026, 1, 1), D(2026, 5, 1))
    mail.outbox = []

    # when two runs of the same day start at the same time, in small chunks so that they interleave
    def run() -> Any:
        return dunning_run(organization=org, run_date=RUN_DATE, chunk_customers=3)

    first, second = _together(run, run)

    # then each (invoice, level) fired exactly once, and nothing was missed
    assert first.pk == second.pk
    pairs = list(DunningAction.objects.for_organization(org).values_list("invoice__number", "level__days"))
    assert max(Counter(pairs).values()) == 1
    assert dict(pairs) == expected
    # one outbox message per customer, and one e-mail to each
    per_customer = Counter(DunningMessage.objects.for_organization(org).values_list("customer_id", flat=True))
    assert len(per_customer) == 40 and set(per_customer.values()) == {1}
    sent_to = Counter(address for m in mail.outbox for address in m.to)
    assert len(sent_to) == 40 and set(sent_to.values()) == {1}
    assert set(DunningMessage.objects.for_organization(org).values_list("status", flat=True)) == {"sent"}
    # one task per customer and kind, the run's totals add up, the ledger records the run once
    tasks = Counter(CollectionTask.objects.for_organization(org).values_list("customer_id", "kind"))
    assert tasks and set(tasks.values()) == {1}
    run_row = DunningRun.objects.get(organization=org, run_date=RUN_DATE)
    assert (run_row.status, run_row.actions, run_row.messages) == ("completed", len(expected), 40)
    assert run_row.tasks == sum(tasks.values())
    assert AuditEntry.objects.for_organization(org).filter(action="dunning.run_completed").count() == 1
    holds = Counter(
        AuditEntry.objects.for_organization(org).filter(action="customer.status_changed").values_list(
            "object_id", flat=True
        )
    )
    assert run_row.holds == len(holds) > 0 and set(holds.values()) == {1}
    assert audit_verify(org)[1] is None
    # the other tenant was not touched
    assert not DunningAction.objects.filter(invoice=theirs).exists()
    assert not DunningRun.objects.for_organization(other).exists()

    # and two more concurrent runs the same day add nothing
    counts = (DunningAction.objects.count(), DunningMessage.objects.count(), AuditEntry.objects.count())
    _together(run, run)
    assert counts == (DunningAction.objects.count(), DunningMessage.objects.count(), AuditEntry.objects.count())
    assert len(mail.outbox) == 40
