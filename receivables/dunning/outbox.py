"""Sending the dunning outbox through Django's e-mail backend (console or file when embedded, SMTP by
settings).

Each message is claimed, rendered, sent and marked sent in one short transaction of its own: a message
marked sent is never sent again (it is no longer pending), and one that was not marked sent is sent by
the next pass. The one window for a duplicate e-mail is a crash after the mail server accepted the
message and before that transaction committed (milliseconds); e-mail has no idempotency key to close
it. On PostgreSQL, ``SKIP LOCKED`` lets two senders share the outbox without sending a message twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from credit_platform.models import Organization

from ..models import DunningAction, DunningLevel, DunningMessage
from .messages import Item, render

logger = logging.getLogger(__name__)

BATCH = 200  # messages rendered per read of their items (200 customers x ~10 items: one small query)
MAX_ATTEMPTS = 5


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0


def message_items(messages: list[DunningMessage]) -> dict[int, list[Item]]:
    """The invoices each message reports: its run's actions of sending levels for its customer."""
    if not messages:
        return {}
    by_key = {(m.run_id, m.customer_id): m.pk for m in messages}
    rows = (
        DunningAction.objects.filter(
            run_id__in={m.run_id for m in messages}, customer_id__in={m.customer_id for m in messages}
        )
        .select_related("invoice", "level")
        .order_by("invoice__due_date", "invoice__number")
    )
    out: dict[int, list[Item]] = defaultdict(list)
    for a in rows:
        key = by_key.get((a.run_id, a.customer_id))
        if key is None or not a.level.send_message:
            continue
        out[key].append(
            Item(
                number=a.invoice.number,
                issue_date=a.invoice.issue_date,
                due_date=a.invoice.due_date,
                open_amount=a.open_amount,
                currency=a.currency,
                days_past_due=max((a.run_date - a.invoice.due_date).days, 0),
                level=a.level.name,
            )
        )
    return out


def render_message(
    message: DunningMessage,
    items: list[Item],
    organization: Organization,
    level: DunningLevel,
    run_date: dt.date,
) -> tuple[str, str]:
    subject, body = level.template(message.language)
    customer = message.customer
    return render(
        subject,
        body,
        customer=customer.legal_name,
        customer_id=customer.external_id,
        organization=organization.name,
        level=level.name,
        run_date=run_date,
        items=items,
    )


def dunning_outbox_send(organization: Organization, *, limit: int | None = None) -> SendResult:
    """Send every pending (or failed, under ``MAX_ATTEMPTS``) message of the organization."""
    result = SendResult()
    last = 0
    connection = get_connection(fail_silently=False)
    while limit is None or result.sent + result.failed < limit:
        batch = list(
            DunningMessage.objects.for_organization(organization)
            .filter(
                pk__gt=last,
                status__in=[DunningMessage.Status.PENDING, DunningMessage.Status.FAILED],
                attempts__lt=MAX_ATTEMPTS,
            )
            .select_related("customer", "level", "run")
            .order_by("pk")[:BATCH]
        )
        if not batch:
            break
        last = batch[-1].pk
        items = message_items(batch)
        for message in batch:
            if limit is not None and result.sent + result.failed >= limit:
                break
            if _send_one(message, items.get(message.pk, []), organization, connection):
                result.sent += 1
            else:
                result.failed += 1
    return result


def _send_one(
    message: DunningMessage, items: list[Item], organization: Organization, connection: Any
) -> bool:
    with transaction.atomic():
        claimed = (
            DunningMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message.pk, status__in=[DunningMessage.Status.PENDING, DunningMessage.Status.FAILED])
            .first()
        )
        if claimed is None:
            return True  # sent meanwhile by another sender
        subject, body = render_message(message, items, organization, message.level, message.run.run_date)
        claimed.subject, claimed.body, claimed.attempts = subject, body, claimed.attempts + 1
        try:
            EmailMessage(
                subject, body, settings.DEFAULT_FROM_EMAIL, [message.to_email], connection=connection
            ).send()
        except (smtplib.SMTPException, OSError) as exc:
            logger.warning("dunning message %s to %s failed: %s", message.pk, message.to_email, exc)
            claimed.status, claimed.last_error = DunningMessage.Status.FAILED, str(exc)[:2000]
            claimed.save(update_fields=["subject", "body", "attempts", "status", "last_error"])
            return False
        claimed.status, claimed.sent_at, claimed.last_error = DunningMessage.Status.SENT, timezone.now(), ""
        claimed.save(update_fields=["subject", "body", "attempts", "status", "sent_at", "last_error"])
        return True
