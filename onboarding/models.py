"""A new client's first day: its fiscal calendar and the invitations that bring its team in."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from credit_platform.bounds import money_validators
from credit_platform.models import Organization
from credit_platform.roles import Role
from credit_platform.tenancy import TenantOwned

INVITATION_DAYS = 14  # an invitation link stays valid two weeks: long enough for holidays, short for leaks


class OrganizationProfile(models.Model):
    """What an organization says about its calendar (reports by fiscal year start from this month)."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, primary_key=True,
                                        related_name="profile")
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("Month (1-12) in which the fiscal year starts."),
    )

    def __str__(self) -> str:
        return f"profile of {self.organization_id}"

    def fiscal_year_start(self, day: dt.date) -> dt.date:
        """The first day of the fiscal year that contains ``day``."""
        month = self.fiscal_year_start_month
        year = day.year if day.month >= month else day.year - 1
        return dt.date(year, month, 1)


class Invitation(TenantOwned):
    """An e-mail invitation to join an organization with a role. Only the token's SHA-256 is stored: the
    link in the e-mail is the one copy of the secret."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")

    email = models.EmailField()
    role = models.CharField(max_length=32, choices=Role.choices)
    approval_limit = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True,
                                         validators=[*money_validators(), MinValueValidator(0)])
    token_sha256 = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "email"], condition=models.Q(status="pending"),
                                    name="invitation_one_pending"),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.email} ({self.status})"
