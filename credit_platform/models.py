"""Tenants, memberships, the audit ledger, FX rates and import logs."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .bounds import date_field, money_validators
from .errors import AppError, ErrorCode
from .money import CURRENCY_CHOICES, validate_currency
from .roles import Role
from .tenancy import TenantOwned, TenantQuerySet


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(gettext("'%(value)s' is not an IANA time zone (e.g. 'Europe/Berlin').") % {
            'value': value})


class Organization(models.Model):
    """A tenant: a client company using the platform."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    base_currency = models.CharField(
        max_length=3, choices=CURRENCY_CHOICES, default="EUR", validators=[validate_currency],
        help_text=_("Totals, limits and reports are computed in this currency."),
    )
    time_zone = models.CharField(max_length=64, default="Europe/Berlin", validators=[validate_time_zone])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def local_time(self, now: dt.datetime | None = None) -> dt.datetime:
        """``now`` (default: the current time) in the organization's own time zone."""
        return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(self.time_zone))

    def local_date(self, now: dt.datetime | None = None) -> dt.date:
        """The organization's calendar date at ``now`` in its own time zone: the date its daily runs
        (dunning, statements, the nightly re-score) are keyed by, which differs from the server's (UTC)
        date near midnight."""
        return self.local_time(now).date()


class UserPreference(models.Model):
    """What a user chose for themself, kept across browsers and devices: the interface language (set by
    the language switcher, applied at sign-in by ``credit_platform.middleware.UserLanguageMiddleware``)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference",
                                verbose_name=_("user"))
    language = models.CharField(_("language"), max_length=16, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    # Authority matrix: the largest limit (in base currency) this member may approve; null = no authority.
    approval_limit = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True, validators=[*money_validators(), MinValueValidator(0)]
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"


class FXRate(TenantOwned):
    """Units of the organization's base currency for one unit of ``currency``, valid from ``rate_date``."""

    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    rate_date = date_field()
    rate = models.DecimalField(max_digits=20, decimal_places=10, validators=[MinValueValidator(0)])
    source = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "currency", "rate_date"], name="fxrate_unique_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="fxrate_positive"),
        ]
        ordering = ["currency", "-rate_date"]
        verbose_name = "FX rate"

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} on {self.rate_date}"


class AuditQuerySet(TenantQuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppError(ErrorCode.AUDIT_IMMUTABLE, gettext('The audit ledger is append-only; entries cannot be '
                                                          'changed.'))

    def delete(self) -> Any:
        raise AppError(ErrorCode.AUDIT_IMMUTABLE, gettext('The audit ledger is append-only; entries cannot be '
                                                          'deleted.'))


class AuditHead(models.Model):
    """The last link of an organization's chain: the row appends lock, and what verification checks
    the chain's tail against (so that deleting the newest entries does not go unnoticed)."""

    organization = models.OneToOneField(Organization, on_delete=models.PROTECT, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"ledger head of {self.organization_id}: #{self.seq}"


class AuditEntry(TenantOwned):
    """One credit decision: who, what, when, before and after; hash-chained per organization.

    Append-only three times over: the model refuses save-on-existing and delete, the queryset
    refuses bulk update and delete, and on PostgreSQL a trigger refuses UPDATE and DELETE.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", editable=False)
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    # No FK constraint: the ledger outlives users, and a FK cascade would be an UPDATE of history.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditQuerySet.as_manager()  # type: ignore[assignment,misc]

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "seq"], name="audit_unique_seq")]
        indexes = [models.Index(fields=["organization", "object_type", "object_id"], name="audit_object_idx")]
        ordering = ["organization", "seq"]
        verbose_name_plural = "audit entries"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppError(ErrorCode.AUDIT_IMMUTABLE, gettext('The audit ledger is append-only; entries cannot be '
                                                              'changed.'))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppError(ErrorCode.AUDIT_IMMUTABLE, gettext('The audit ledger is append-only; entries cannot be '
                                                          'deleted.'))

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class ImportLog(TenantOwned):
    """One imported file: what it was, who sent it, what it did, and every located error."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Imported")
        REJECTED = "rejected", _("Rejected (nothing written)")
        FAILED = "failed", _("Failed (nothing written)")

    kind = models.CharField(max_length=32)
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500, blank=True, default="")
    file_sha256 = models.CharField(max_length=64, blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    dry_run = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # The first errors, each {"row", "column", "value", "reason"}; error_count has the total.
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="importlog_recent_idx")]

    def __str__(self) -> str:
        return f"{self.kind} import of {self.file_name} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
