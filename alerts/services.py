"""Writes to alerts: raise (idempotent by dedup key), acknowledge, resolve. Resolutions are credit
decisions and go to the audit ledger; raising is recorded by the rule that raised it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from credit_platform.audit import audit_append
from credit_platform.models import Organization

from .models import Alert


@transaction.atomic
def alert_raise(
    *, organization: Organization | int, kind: str, title: str, dedup_key: str, severity: str = Alert.Severity.MEDIUM,
    details: dict[str, Any] | None = None, customer_id: int | None = None,
) -> tuple[Alert, bool]:
    """Open an alert, or refresh the one with the same key (re-opening it when it was resolved).
    Returns (alert, created)."""
    org_id = organization if isinstance(organization, int) else organization.pk
    alert = Alert.objects.select_for_update().filter(organization_id=org_id, dedup_key=dedup_key).first()
    now = timezone.now()
    if alert is None:
        alert = Alert.objects.create(
            organization_id=org_id, kind=kind, title=title[:300], dedup_key=dedup_key, severity=severity,
            details=details or {}, customer_id=customer_id, last_raised_at=now,
        )
        return alert, True
    alert.title, alert.severity, alert.details = title[:300], severity, details or {}
    alert.occurrences += 1
    alert.last_raised_at = now
    if alert.status == Alert.Status.RESOLVED:
        alert.status, alert.resolved_at, alert.resolved_by = Alert.Status.OPEN, None, None
    alert.save()
    return alert, False


@transaction.atomic
def alert_set_status(*, alert: Alert, status: str, actor: Any, reason: str = "") -> Alert:
    before = alert.status
    if before == status:
        return alert
    alert.status = status
    if status == Alert.Status.RESOLVED:
        alert.resolved_at = timezone.now()
        alert.resolved_by = actor if getattr(actor, "is_authenticated", False) else None
    alert.save(update_fields=["status", "resolved_at", "resolved_by"])
    audit_append(organization=alert.organization_id, actor=actor, action=f"alert.{status}", obj=alert,
                 before={"status": before}, after={"status": status}, reason=reason)
    return alert
