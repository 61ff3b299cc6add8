"""Outbound webhooks: alert events as JSON, signed, retried with backoff, logged, re-deliverable.

Signature (the scheme Stripe and Slack use): the header ``X-Alerts-Signature: t=<unix time>,v1=<hex>`` where
``<hex>`` is HMAC-SHA256 with the endpoint's secret over ``"<t>.<raw body>"``. A receiver recomputes it
and rejects a timestamp older than its tolerance (``verify`` below does both; 300 s by default), so that
a captured request cannot be replayed later.

Each event to each endpoint is one ``WebhookDelivery`` row (the delivery log). An attempt that fails
(connection error, timeout, any status outside 2xx) is retried after ``BACKOFF_SECONDS * 2**(attempts-1)``
(30 s, 1 min, 2 min, ... ) up to ``MAX_ATTEMPTS``, then marked failed; ``webhook_redeliver`` queues a
failed or delivered one again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from credit_platform.audit import audit_append

from .models import Alert, WebhookDelivery, WebhookEndpoint

SIGNATURE_HEADER = "X-Alerts-Signature"
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30
TIMEOUT_SECONDS = 10
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: recompute the signature and check the timestamp is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def payload_of(alert: Alert, event: str) -> dict[str, Any]:
    from .explain import explain

    return {
        "event": event, "alert": {
            "id": alert.pk, "kind": alert.kind, "severity": alert.severity, "status": alert.status,
            "customer_id": alert.customer_id, "title": alert.title, "as_of": alert.as_of.isoformat() if alert.as_of
            else None, "reasons": {"en": explain(alert.details, "en"), "zh-hans": explain(alert.details, "zh-hans")},
            "assignee_id": alert.assignee_id,
        },
    }


def webhook_enqueue(*, alerts: Sequence[Alert], event: str) -> int:
    """Log one delivery per alert and subscribed endpoint, and send them after commit."""
    if not alerts:
        return 0
    org_id = alerts[0].organization_id
    endpoints = [e for e in WebhookEndpoint.objects.filter(organization_id=org_id, is_active=True)
                 if not e.events or event in e.events]
    if not endpoints:
        return 0
    rows = [WebhookDelivery(organization_id=org_id, endpoint=e, event=event, payload=payload_of(a, event),
                            next_attempt_at=timezone.now())
            for a in alerts for e in endpoints]
    WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    ids = [r.pk for r in rows]

    def send() -> None:
        from .tasks import deliver_webhook

        for pk in ids:
            deliver_webhook.delay(pk)

    transaction.on_commit(send)
    return len(rows)


def webhook_attempt(delivery_id: int, *, now: dt.datetime | None = None) -> WebhookDelivery:
    """One attempt at a delivery. Success marks it delivered; a failure schedules the next attempt
    (``next_attempt_at``) with exponential backoff, or marks it failed after ``MAX_ATTEMPTS``."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return delivery
    now = now or timezone.now()
    body = json.dumps({**delivery.payload, "delivery_id": delivery.pk}, separators=(",", ":"),
                      ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - the integrator's configured https/http URL
        delivery.endpoint.url, data=body, method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "credit-platform-webhooks/1",
                 SIGNATURE_HEADER: sign(delivery.endpoint.secret, body, int(now.timestamp())),
                 "X-Alerts-Event": delivery.event, "X-Alerts-Delivery": str(delivery.pk)})
    code, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            code = response.status
    except urllib.error.HTTPError as exc:
        code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = str(exc)[:300]
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = code, error
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (WebhookDelivery.Status.DELIVERED, now,
                                                                            None)
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
    else:
        delivery.next_attempt_at = now + dt.timedelta(seconds=backoff(delivery.attempts))
    delivery.save(update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at",
                                 "next_attempt_at"])
    return delivery


def backoff(attempts: int) -> int:
    return BACKOFF_SECONDS * 2 ** (attempts - 1)


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery, actor: Any) -> WebhookDelivery:
    """Queue a delivery again (a receiver that was down, or one that asks for an event twice)."""
    delivery.status, delivery.attempts, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, 0, timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_append(organization=delivery.organization_id, actor=actor, action="webhook.redelivered", obj=delivery,
                 after={"event": delivery.event, "endpoint": delivery.endpoint_id})
    from .tasks import deliver_webhook

    transaction.on_commit(lambda: deliver_webhook.delay(delivery.pk))
    return delivery


def due_deliveries(now: dt.datetime) -> list[int]:
    """Pending deliveries whose next attempt is due (the beat's sweep, in case a retry message was lost)."""
    return list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:1000])
