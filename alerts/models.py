"""Alerts: something that needs a human, raised by a rule (score drift now, early warnings later).

One row per (organization, dedup key): raising the same alert again updates it instead of piling up
duplicates, and re-opens it if it had been resolved. The key names what the alert is about, e.g.
``scoring.psi:model-7:score`` or ``ews.overdue:customer-123``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from credit_platform.tenancy import TenantOwned


class Alert(TenantOwned):
    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    kind = models.CharField(max_length=60, help_text=_("The rule that raised it, e.g. scoring.psi."))
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    title = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    dedup_key = models.CharField(max_length=200)
    occurrences = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    last_raised_at = models.DateTimeField(db_default=Now())
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "dedup_key"], name="alert_unique_dedup")]
        indexes = [models.Index(fields=["organization", "status", "-last_raised_at"], name="alert_org_status_idx")]
        ordering = ["-last_raised_at", "-pk"]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"
