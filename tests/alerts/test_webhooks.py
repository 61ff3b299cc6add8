"""Outbound webhooks: a receiver verifies the HMAC-SHA256 signature; a failing receiver is retried with
backoff; the delivery log; re-delivery. Per-user e-mail digests."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from alerts.digest import alerts_digest_send
from alerts.models import Alert, AlertPolicy, WebhookDelivery, WebhookEndpoint
from alerts.services import alert_transition, evaluate_customers
from alerts.webhooks import SIGNATURE_HEADER, sign, verify, webhook_attempt, webhook_redeliver
from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from tests.factories import CustomerFactory, InvoiceFactory

from .conftest import AS_OF, days_ago

pytestmark = pytest.mark.django_db

SECRET = "whsec-test-0123456789"


class Receiver:
    """A local HTTP receiver that verifies each request's signature and fails the first ``failures``."""

    def __init__(self, failures: int):
        self.failures, self.received = failures, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((verify(SECRET, body, self.headers[SIGNATURE_HEADER]), json.loads(body)))
                failing = len(outer.received) <= outer.failures
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _alerting_customer(org):
    """A customer using 95% of its limit, the only one of the book (concentration switched off)."""
    AlertPolicy.objects.get_or_create(organization=org, defaults={"thresholds": {"concentration": {"enabled": False}}})
    customer = CustomerFactory(organization=org, credit_limit=Decimal("1000"))
    InvoiceFactory(customer=customer, organization=org, issue_date=days_ago(5), due_date=days_ago(-25),
                   amount=Decimal("950.00"))
    return customer


def test_signature_is_verified_and_a_failing_receiver_is_retried_with_backoff(
        org, member, django_capture_on_commit_callbacks):
    with Receiver(failures=1) as receiver:
        WebhookEndpoint.objects.create(organization=org, url=receiver.url, secret=SECRET, events=["alert.opened"])
        _alerting_customer(org)
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_customers(organization=org, as_of=AS_OF)  # opens an alert; the first attempt gets a 500

        [delivery] = WebhookDelivery.objects.for_organization(org)
        first_at = delivery.next_attempt_at - dt.timedelta(seconds=30)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        assert delivery.next_attempt_at > timezone.now() + dt.timedelta(seconds=25)  # retried after 30 s

        delivery = webhook_attempt(delivery.pk, now=first_at + dt.timedelta(seconds=31))

    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 204)
    assert [ok for ok, _ in receiver.received] == [True, True]
    body = receiver.received[-1][1]
    alert = Alert.objects.for_organization(org).get(kind="ews.limit_utilisation")
    assert (body["event"], body["alert"]["id"], body["alert"]["severity"]) == ("alert.opened", alert.pk, "medium")
    assert body["alert"]["reasons"]["zh-hans"][0].startswith("敞口 950.00 EUR（未结应收账款及订单）占用信用额度的 95%")


def test_signature_rejects_a_changed_body_and_an_old_timestamp():
    body = b'{"event":"alert.opened"}'
    header = sign(SECRET, body, 1_800_000_000)
    assert verify(SECRET, body, header, now=1_800_000_100)
    assert not verify(SECRET, body + b" ", header, now=1_800_000_100)
    assert not verify("another-secret", body, header, now=1_800_000_100)
    assert not verify(SECRET, body, header, now=1_800_000_000 + 301)
    assert not verify(SECRET, body, "garbage", now=1_800_000_100)


def test_backoff_doubles_and_gives_up_after_the_last_attempt(org):
    endpoint = WebhookEndpoint.objects.create(organization=org, url="http://127.0.0.1:9/closed", secret=SECRET)
    delivery = WebhookDelivery.objects.create(organization=org, endpoint=endpoint, event="alert.opened", payload={})
    now = timezone.now()
    gaps = []
    for _ in range(6):
        delivery = webhook_attempt(delivery.pk, now=now)
        if delivery.next_attempt_at:
            gaps.append(int((delivery.next_attempt_at - now).total_seconds()))
    assert gaps == [30, 60, 120, 240, 480]
    assert (delivery.status, delivery.attempts) == ("failed", 6)
    assert delivery.last_error


def test_redelivery_sends_again_and_is_in_the_ledger(org, member, django_capture_on_commit_callbacks):
    admin = member(org, Role.ADMIN)
    with Receiver(failures=0) as receiver:
        endpoint = WebhookEndpoint.objects.create(organization=org, url=receiver.url, secret=SECRET)
        delivery = WebhookDelivery.objects.create(organization=org, endpoint=endpoint, event="alert.opened",
                                                  payload={"event": "alert.opened"}, status="failed", attempts=6)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_redeliver(delivery=delivery, actor=admin)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.received)) == ("delivered", 1, 1)
    assert AuditEntry.objects.filter(organization=org, action="webhook.redelivered", actor=admin).exists()


def test_digest_lists_a_members_alerts_once_a_day(org, member):
    collector, auditor = member(org, Role.COLLECTOR), member(org, Role.AUDITOR)
    high = _alerting_customer(org)
    evaluate_customers(organization=org, as_of=AS_OF)
    alert = Alert.objects.for_organization(org).get(customer=high, kind="ews.limit_utilisation")
    alert_transition(alert=alert, action="assign", actor=collector, assignee=collector)

    assert alerts_digest_send(organization=org) == 1
    assert alerts_digest_send(organization=org) == 0  # the same day: nothing twice
    [message] = mail.outbox
    assert message.to == [collector.email]
    assert auditor.email not in message.to
    assert "exposure 950.00 EUR (open receivables and orders) uses 95% of the credit limit" in message.body

    alerts_digest_send(organization=org, now=timezone.now() + dt.timedelta(days=1), language="zh-hans")
    assert "额度使用率" in mail.outbox[-1].body
