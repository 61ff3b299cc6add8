"""Customer profiles, groups, financial statements, external signals, and country/sector reference data."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credit_platform.bounds import ADDRESS_MAX_CHARS, bounded_text, date_field, money_validators
from credit_platform.money import CURRENCY_CHOICES, validate_currency
from credit_platform.tenancy import TenantOwned

from . import statements


def money_field(**kwargs: Any) -> models.DecimalField:
    """An amount: numeric(18, 2), bounded to +-MONEY_MAX (credit_platform.bounds) at every entry."""
    validators = [*money_validators(), *kwargs.pop("validators", [])]
    return models.DecimalField(max_digits=18, decimal_places=2, validators=validators, **kwargs)


class Country(models.Model):
    """ISO 3166 country with a country risk level (0 lowest .. 7 highest, the OECD scale)."""

    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=100)
    risk_level = models.PositiveSmallIntegerField(
        default=4, validators=[MaxValueValidator(7)], help_text=_("0 (lowest) to 7 (highest), OECD scale.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Sector(models.Model):
    """Industry sector (NACE Rev. 2 section) with a sector risk level (1 lowest .. 5 highest)."""

    code = models.CharField(max_length=8, primary_key=True)
    name = models.CharField(max_length=120)
    risk_level = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 (lowest) to 5 (highest)."),
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CustomerGroup(TenantOwned):
    """A parent company and its subsidiaries: exposure and concentration are also read per group."""

    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "external_id"], name="group_unique_extid")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(TenantOwned):
    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        ON_HOLD = "on_hold", _("On hold")
        BLOCKED = "blocked", _("Blocked")
        IN_DEFAULT = "in_default", _("In default")
        CLOSED = "closed", _("Closed")

    class Size(models.TextChoices):
        MICRO = "micro", _("Micro (<10 staff)")
        SMALL = "small", _("Small (10-49)")
        MEDIUM = "medium", _("Medium (50-249)")
        LARGE = "large", _("Large (250+)")

    external_id = models.CharField(
        max_length=64, help_text=_("The customer's id in your ERP; unique per organization.")
    )
    legal_name = models.CharField(max_length=200)
    registration_number = models.CharField(max_length=64, blank=True, default="")
    country = models.ForeignKey(Country, on_delete=models.PROTECT)
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT)
    size = models.CharField(max_length=8, choices=Size.choices, default=Size.SMALL)
    group = models.ForeignKey(CustomerGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="members")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    payment_terms_days = models.PositiveSmallIntegerField(default=30, validators=[MaxValueValidator(365)])
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    # The approved credit limit in the customer's currency; maintained by the limit workflow (scoring/).
    credit_limit = money_field(null=True, blank=True, validators=[MinValueValidator(0)])
    customer_since = date_field(null=True, blank=True)
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    address = bounded_text(ADDRESS_MAX_CHARS, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "external_id"], name="customer_unique_extid"),
            # Target of the documents' composite foreign keys (organization_id, customer_id).
            models.UniqueConstraint(fields=["organization", "id"], name="customer_unique_org_id"),
            models.CheckConstraint(condition=models.Q(payment_terms_days__lte=365), name="customer_terms_range"),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="customer_org_status_idx"),
            models.Index(fields=["organization", "legal_name"], name="customer_org_name_idx"),
        ]
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.external_id})"


class FinancialStatement(TenantOwned):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="statements")
    period_end = date_field()
    period_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    audited = models.BooleanField(default=False)
    source = models.CharField(max_length=60, blank=True, default="")
    # Balance sheet
    cash = money_field()
    receivables = money_field()
    inventory = money_field()
    current_assets = money_field()
    total_assets = money_field()
    current_liabilities = money_field()
    total_liabilities = money_field()
    equity = money_field()
    retained_earnings = money_field(null=True, blank=True)
    # Income statement
    revenue = money_field()
    ebit = money_field(verbose_name="EBIT")
    ebitda = money_field(verbose_name="EBITDA")
    interest_expense = money_field()
    net_income = money_field()
    # Cash flow
    operating_cash_flow = money_field(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "period_end"], name="statement_unique_period"),
            models.CheckConstraint(condition=models.Q(total_assets__gt=0), name="statement_assets_positive"),
        ]
        indexes = [models.Index(fields=["organization", "period_end"], name="statement_org_period_idx")]
        ordering = ["customer", "-period_end"]

    def __str__(self) -> str:
        return f"{self.customer_id} statement {self.period_end}"

    def amounts(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in statements.AMOUNT_FIELDS}

    def clean(self) -> None:
        missing = [f for f in statements.BALANCE_FIELDS + statements.INCOME_FIELDS if getattr(self, f) is None]
        if missing:
            return  # field-level validation reports the missing values
        errors: dict[str, list[str]] = {}
        for field, reason in statements.statement_errors(self.amounts()):
            errors.setdefault(field, []).append(reason)
        if errors:
            raise ValidationError(errors)

    @property
    def ratios(self) -> dict[str, float | None]:
        return statements.ratios(self.amounts())


class ExternalSignal(TenantOwned):
    class Kind(models.TextChoices):
        BUREAU_SCORE = "bureau_score", _("Bureau score")
        LITIGATION = "litigation", _("Litigation")
        INSOLVENCY_FILING = "insolvency_filing", _("Insolvency filing")
        NEGATIVE_NEWS = "negative_news", _("Negative news")
        PAYMENT_DEFAULT = "payment_default", _("Payment default reported")

    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="signals")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    observed_on = date_field()
    source = models.CharField(max_length=80)
    reference = models.CharField(max_length=120, help_text=_("The source's own id for this signal."))
    # Bureau score: 0 (worst) .. 100 (best). Other kinds may carry an amount (e.g. a claim's value).
    value = money_field(null=True, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.INFO)
    title = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "customer", "kind", "source", "reference"], name="signal_unique_ref"
            )
        ]
        indexes = [models.Index(fields=["organization", "kind", "observed_on"], name="signal_kind_date_idx")]
        ordering = ["-observed_on"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.observed_on}"

    def clean(self) -> None:
        if self.kind == self.Kind.BUREAU_SCORE and (self.value is None or not 0 <= self.value <= 100):
            raise ValidationError({"value": gettext('A bureau score needs a value between 0 and 100.')})
