"""Celery tasks of the alerts app: thin wrappers that take ids and call a service.

Evaluation is idempotent (alerts are keyed by indicator and customer), so tasks are acknowledged late
and retried on transient database errors.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from credit_platform.models import Organization

RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 3}


@shared_task(name="alerts.evaluate_customer", time_limit=5 * 60, soft_time_limit=4 * 60, **RETRY)
def evaluate_customer(organization_id: int, customer_id: int) -> dict[str, int]:
    from .services import evaluate_customers

    organization = Organization.objects.get(pk=organization_id)
    return evaluate_customers(organization=organization, customer_ids=[customer_id])


@shared_task(name="alerts.evaluate_customers", time_limit=10 * 60, soft_time_limit=9 * 60, **RETRY)
def evaluate_customer_list(organization_id: int, customer_ids: list[int]) -> dict[str, int]:
    from .services import evaluate_customers

    organization = Organization.objects.get(pk=organization_id)
    return evaluate_customers(organization=organization, customer_ids=customer_ids)


@shared_task(name="alerts.sweep", time_limit=30 * 60, soft_time_limit=29 * 60, **RETRY)
def sweep(organization_id: int, as_of: str | None = None) -> dict[str, int]:
    """The nightly sweep of every customer of one organization (after its scoring run)."""
    from .services import evaluate_customers

    organization = Organization.objects.get(pk=organization_id)
    day = dt.date.fromisoformat(as_of) if as_of else None
    return evaluate_customers(organization=organization, as_of=day)


@shared_task(name="alerts.deliver_webhook", time_limit=60, soft_time_limit=50, acks_late=True)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt; a failure re-queues this task for the delivery's next attempt time (backoff)."""
    from .models import WebhookDelivery
    from .webhooks import webhook_attempt

    delivery = webhook_attempt(delivery_id)
    eager = bool(deliver_webhook.app.conf.task_always_eager)  # in-process: the beat's sweep retries instead
    if delivery.status == WebhookDelivery.Status.PENDING and delivery.next_attempt_at is not None and not eager:
        deliver_webhook.apply_async((delivery_id,), eta=delivery.next_attempt_at)
    return delivery.status


@shared_task(name="alerts.webhook_retries", time_limit=5 * 60, soft_time_limit=4 * 60)
def webhook_retries() -> int:
    """Beat entry: re-queue the pending deliveries that are due (a lost retry message)."""
    from .webhooks import due_deliveries

    due = due_deliveries(timezone.now())
    for pk in due:
        deliver_webhook.delay(pk)
    return len(due)


@shared_task(name="alerts.digests", time_limit=10 * 60, soft_time_limit=9 * 60)
def digests() -> int:
    """Beat entry: each organization's per-user e-mail digest, once per local day after 07:00."""
    from .digest import digests_due

    return digests_due(timezone.now())
