"""The dunning page's "Run dunning now": the daily run for the organization's local date, queued as the
beat's Celery task (eager here, as in the embedded demo), once per day, audited, reported, and only for the
user's own organization.

Transactional tests: the task is queued on commit, so the request must really commit, as it does when a
user presses the button."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse

from credit_platform.audit import audit_verify
from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import Customer
from receivables.dunning import run as run_mod
from receivables.dunning.policy import dunning_policy_ensure_default
from receivables.dunning.run import RunRequest, dunning_run_request
from receivables.models import CollectionTask, DunningAction, DunningMessage, DunningRun
from tests.factories import CustomerFactory, OrganizationFactory

from .conftest import invoice

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _book(org: Any) -> dict[str, int]:
    """Three customers, one invoice each, at the first reminder, the second and the final notice (credit
    hold) on the organization's today; returns invoice number -> level days."""
    today = org.local_date()
    expected = {}
    for k, (late, level) in enumerate([(3, 1), (20, 15), (40, 30)]):
        c = CustomerFactory(organization=org, email=f"ap{k}@{org.slug}.example")
        inv = invoice(c, "500.00", today - dt.timedelta(days=90), today - dt.timedelta(days=late))
        expected[inv.number] = level
    return expected


def _user_client(org: Any, member: Any, role: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member(org, role))
    return client


def _press_run(client: Client) -> Any:
    """GET the page, take the form's CSRF token, POST the button (without JavaScript: the confirmation
    page), confirm there, follow the redirect."""
    page = client.get(reverse("collections-dunning"))
    assert "Run dunning now" in page.content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    runs = list(DunningRun.objects.values_list("pk", "status", "attempts"))
    ask = client.post(reverse("collections-dunning"), {"action": "run", "csrfmiddlewaretoken": token})
    assert ask.status_code == 200 and "Run today's dunning now?" in html.unescape(ask.content.decode())
    assert list(DunningRun.objects.values_list("pk", "status", "attempts")) == runs  # nothing ran before "yes"
    return client.post(
        reverse("collections-dunning"), {"action": "run", "confirm": "1", "csrfmiddlewaretoken": token}, follow=True
    )


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _counts(org: Any) -> tuple[int, ...]:
    return (
        DunningAction.objects.for_organization(org).count(),
        DunningMessage.objects.for_organization(org).count(),
        CollectionTask.objects.for_organization(org).count(),
        AuditEntry.objects.for_organization(org).count(),
        sum(a.endswith(f"@{org.slug}.example") for m in mail.outbox for a in m.to),
    )


def test_a_collector_runs_todays_dunning_once_and_sees_what_it_created(member):
    # given a book due at three levels, and another tenant with overdue invoices of its own
    org = OrganizationFactory(slug="acme", time_zone="Asia/Shanghai")
    dunning_policy_ensure_default(org)
    expected = _book(org)
    other = OrganizationFactory(slug="globex")
    dunning_policy_ensure_default(other)
    _book(other)
    mail.outbox = []
    theirs = _counts(other)
    collector = _user_client(org, member, Role.COLLECTOR)

    # when the collector presses "Run dunning now"
    response = _press_run(collector)

    # then today's run (the organization's local date) has completed, once per invoice and level
    today = org.local_date()
    run = DunningRun.objects.get(organization=org)
    assert (run.run_date, run.status) == (today, "completed")
    assert dict(
        DunningAction.objects.for_organization(org).values_list("invoice__number", "level__days")
    ) == expected
    assert _messages(response) == [
        f"Dunning run of {today.isoformat()} completed: 3 action(s) created, 3 customer message(s), "
        "1 customer(s) put on credit hold."
    ]
    # the messages went out through the outbox, as after a scheduled run
    assert sorted(a for m in mail.outbox for a in m.to) == [f"ap{k}@acme.example" for k in range(3)]
    assert Customer.objects.for_organization(org).filter(status="on_hold").count() == 1
    # the request is in the ledger under the collector's name, and the chain verifies
    requested = AuditEntry.objects.get(organization=org, action="dunning.run_requested")
    assert requested.actor_id == response.wsgi_request.user.pk
    assert requested.after == {"run_date": today.isoformat(), "run_status": None}
    assert audit_verify(org)[1] is None
    # the page now says today's run is done instead of offering the button
    page = collector.get(reverse("collections-dunning")).content.decode()
    assert "Run dunning now" not in page and f"Today's run ({today.isoformat()}) has completed" in page

    # when it is pressed again the same day (a stale page, a second tab), nothing is added
    before = _counts(org)
    token = collector.cookies["csrftoken"].value
    again = collector.post(
        reverse("collections-dunning"), {"action": "run", "csrfmiddlewaretoken": token}, follow=True
    )
    assert _counts(org) == before
    assert _messages(again) == [
        f"Today's dunning run ({today.isoformat()}) has already completed; running it again adds nothing."
    ]
    # and the other tenant was never touched
    assert _counts(other) == theirs and not DunningRun.objects.for_organization(other).exists()


def test_run_now_needs_a_post_with_csrf_and_the_dunning_capability(member):
    org = OrganizationFactory(slug="acme")
    dunning_policy_ensure_default(org)
    _book(org)
    url = reverse("collections-dunning")
    for role in (Role.CREDIT_OFFICER, Role.AUDITOR, Role.FINANCE_APPROVER, Role.INTEGRATOR):
        client = _user_client(org, member, role)
        page = client.get(url).content.decode()
        assert "Run dunning now" not in page, role
        token = client.cookies["csrftoken"].value
        assert client.post(url, {"action": "run", "csrfmiddlewaretoken": token}).status_code == 403, role
    manager = _user_client(org, member, Role.CREDIT_MANAGER)
    assert "Run dunning now" in manager.get(url).content.decode()
    assert manager.get(url, {"action": "run"}).status_code == 200  # a GET runs nothing
    assert manager.post(url, {"action": "run"}).status_code == 403  # no CSRF token
    assert not DunningRun.objects.exists()
    assert not AuditEntry.objects.filter(action="dunning.run_requested").exists()


def test_a_run_that_fails_is_reported_and_the_next_press_resumes_it(member, monkeypatch):
    org = OrganizationFactory(slug="acme")
    dunning_policy_ensure_default(org)
    expected = _book(org)
    manager = _user_client(org, member, Role.CREDIT_MANAGER)

    def crash(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("worker killed")

    real = run_mod._insert_tasks
    monkeypatch.setattr(run_mod, "_insert_tasks", crash)
    failed = _press_run(manager)
    today = org.local_date().isoformat()
    assert _messages(failed) == [
        f"Dunning run of {today} failed (RuntimeError('worker killed')); the next run resumes where it stopped."
    ]
    assert DunningRun.objects.get(organization=org).status == "failed"

    monkeypatch.setattr(run_mod, "_insert_tasks", real)
    resumed = _press_run(manager)
    assert _messages(resumed)[0].startswith(f"Dunning run of {today} completed: 3 action(s) created")
    assert DunningAction.objects.count() == len(expected)
    assert AuditEntry.objects.filter(action="dunning.run_requested").count() == 2


@pytest.mark.django_db  # not transactional: the task is captured on commit instead of run, as with workers
def test_with_workers_the_request_is_queued_for_the_organizations_local_date(
    member, django_capture_on_commit_callbacks
):
    org = OrganizationFactory(slug="sh", time_zone="Asia/Shanghai")
    dunning_policy_ensure_default(org)
    user = member(org, Role.COLLECTOR)
    now = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)  # already 2 March, 04:00, in Shanghai
    with django_capture_on_commit_callbacks() as queued:
        result = dunning_run_request(organization=org, actor=user, now=now)
    assert (result.state, result.run_date, result.run) == (RunRequest.State.QUEUED, dt.date(2026, 3, 2), None)
    assert len(queued) == 1 and not DunningRun.objects.exists()
    queued[0]()  # what the worker does with the queued task
    assert DunningRun.objects.get(organization=org).run_date == dt.date(2026, 3, 2)


def test_with_workers_and_the_broker_down_the_page_says_nothing_was_queued(member, django_capture_on_commit_callbacks):
    """A real broker address where nothing listens (port 1): the task cannot be published, so the
    request reports that nothing was queued (not "queued"), and nothing ran."""
    from receivables.tasks import dunning_run_org

    org = OrganizationFactory(slug="down")
    dunning_policy_ensure_default(org)
    user = member(org, Role.COLLECTOR)
    app = dunning_run_org.app
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url", "broker_connection_retry",
                                       "broker_connection_max_retries", "task_publish_retry")}
    app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:1/0", broker_connection_retry=False,
                    broker_connection_max_retries=0, task_publish_retry=False)
    # The app caches its connection and producer pools (Celery._after_fork resets the same two): drop the
    # caches so that the address above is used, and again afterwards. Never close the pools themselves:
    # kombu shares them process-wide, and every later task call of this process (eager ones included, as
    # Celery acquires a producer even then) would fail with "Acquire on closed pool".
    app._pool = None
    app.amqp._producer_pool = None
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = dunning_run_request(organization=org, actor=user)
    finally:
        app.conf.update(saved)
        app._pool = None
        app.amqp._producer_pool = None
    assert result.state == RunRequest.State.NOT_QUEUED and "Error" in result.error
    assert not DunningRun.objects.filter(organization=org).exists()
    assert AuditEntry.objects.filter(organization=org, action="dunning.run_requested").count() == 1
