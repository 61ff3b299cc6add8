"""Alerts: something that needs a human, raised by a rule (score drift, the early-warning indicators).

One row per (organization, dedup key): raising the same alert again updates it instead of piling up
duplicates, and re-opens it if it had been resolved. The key names what the alert is about, e.g.
``scoring.psi:model-7:score`` or ``ews.overdue_frequency:customer-123``: one open alert per indicator and
customer.

Lifecycle: open -> acknowledged -> resolved, or dismissed with a reason (a false alarm); an open or
acknowledged alert may be snoozed until a date and assigned to a member. Every transition is in the audit
ledger (``alerts.services``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from credit_platform.bounds import NOTE_MAX_CHARS, bounded_text
from credit_platform.tenancy import TenantOwned

SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


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
        DISMISSED = "dismissed", _("Dismissed")

    ACTIVE = (Status.OPEN, Status.ACKNOWLEDGED)

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
    # The business date the condition was last seen on (the evaluation's as-of date).
    as_of = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts_assigned"
    )
    snoozed_until = models.DateField(null=True, blank=True)
    status_reason = bounded_text(NOTE_MAX_CHARS, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "dedup_key"], name="alert_unique_dedup")]
        indexes = [
            models.Index(fields=["organization", "status", "-last_raised_at"], name="alert_org_status_idx"),
            models.Index(fields=["organization", "customer", "status"], name="alert_org_customer_idx"),
        ]
        ordering = ["-last_raised_at", "-pk"]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def indicator(self) -> str:
        return self.kind.removeprefix("ews.")


class AlertPolicy(TenantOwned):
    """An organization's early-warning thresholds and contingency actions: overrides of the documented
    defaults (``alerts.indicators.DEFAULTS``, ``alerts.contingency.DEFAULT_ACTIONS``). Changed only through
    ``alert_policy_update`` (credit managers, in the ledger)."""

    thresholds = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="alertpolicy_unique_org")]
        verbose_name_plural = "alert policies"

    def __str__(self) -> str:
        return f"alert policy of {self.organization_id}"


class WebhookEndpoint(TenantOwned):
    """An integrator's receiver of alert events, signed with its own secret (HMAC-SHA256)."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    events = models.JSONField(default=list, blank=True, help_text=_("Event names; empty means all."))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(TenantOwned):
    """One event sent to one endpoint: the delivery log, with its attempts and the next retry."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        indexes = [models.Index(fields=["organization", "status", "next_attempt_at"], name="webhook_due_idx")]
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint_id} ({self.status})"


class DigestMark(TenantOwned):
    """When a member's last alert digest was sent: the next one lists what was raised since."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="digestmark_unique_user")]

    def __str__(self) -> str:
        return f"digest {self.user_id} {self.sent_at}"
