"""Credit decisions: policy versions, recommended limits, limit requests and their approvals, the dated
limit decisions, holds, order credit checks (and the held-order queue) and reviews.

A customer's limit (``Customer.credit_limit``, in the customer's currency) is written only by
``limits.services.decision_apply``; every row here that changes a customer's credit is written by a
service of this app together with its audit-ledger entry.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from credit_platform.bounds import NOTE_MAX_CHARS, bounded_text, date_field
from credit_platform.money import CURRENCY_CHOICES, validate_currency
from credit_platform.tenancy import TenantOwned
from customers.models import money_field

from .reasons import reason_text

SHARE = [MinValueValidator(0), MaxValueValidator(1)]


def user_fk(related_name: str = "+") -> models.ForeignKey:
    return models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name=related_name)


class CreditPolicy(TenantOwned):
    """One version of an organization's credit policy. A change never edits a version: it writes the next
    one (``policy_update``), so a decision can always name the rules it was taken under.

    ``rules``: per grade ("1".."10") the limit rule, terms, security and review frequency (see
    ``limits.policy.DEFAULT_RULES``); ``authority``: the authority matrix (amount bands and grades to
    roles and the number of approvers); the other fields are organization-wide switches."""

    class NewCustomerRule(models.TextChoices):
        REVIEW_FIRST = "review_first", _("No limit before a first review")
        STARTER = "starter", _("Starter limit until the first review")

    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    rules = models.JSONField()
    authority = models.JSONField()
    new_customer_rule = models.CharField(max_length=16, choices=NewCustomerRule.choices,
                                         default=NewCustomerRule.REVIEW_FIRST)
    starter_limit = money_field(default=0, validators=[MinValueValidator(0)],
                                help_text=_("In base currency; used by the starter-limit rule."))
    no_statement_share = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.5"), validators=SHARE,
        help_text=_("Share of the sales-based limit granted to a customer without financial statements."))
    over_limit_tolerance = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.05"), validators=SHARE,
        help_text=_("Exposure may exceed the limit by this share before an order is held."))
    overdue_tolerance = money_field(
        default=1000, validators=[MinValueValidator(0)],
        help_text=_("Weighted overdue (base currency) tolerated before an order is held."))
    checkpoints = models.JSONField(default=list, help_text=_("Where the credit check applies."))
    auto_decrease = models.BooleanField(
        default=True, help_text=_("Apply the nightly decreases of deteriorated customers without approval."))
    request_expiry_days = models.PositiveSmallIntegerField(default=14, validators=[MaxValueValidator(365)])
    limit_validity_months = models.PositiveSmallIntegerField(default=12, validators=[MaxValueValidator(60)])
    downturn = models.BooleanField(default=False)
    downturn_terms_factor = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.5"), validators=SHARE)
    downturn_prepayment_add = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.2"), validators=SHARE)
    downturn_review_factor = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.5"), validators=SHARE)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    created_by = user_fk()
    reason = bounded_text(NOTE_MAX_CHARS, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="creditpolicy_unique_version"),
            models.UniqueConstraint(fields=["organization"], condition=Q(is_current=True),
                                    name="creditpolicy_one_current"),
        ]
        ordering = ["-version"]
        verbose_name = _("credit policy")
        verbose_name_plural = _("credit policies")

    def __str__(self) -> str:
        return f"v{self.version}" + (" (downturn)" if self.downturn else "")


class GroupLimit(TenantOwned):
    """A limit shared by the members of a customer group (base currency)."""

    group = models.OneToOneField("customers.CustomerGroup", on_delete=models.CASCADE, related_name="credit_limit")
    limit = money_field(validators=[MinValueValidator(0)])
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("group limit")

    def __str__(self) -> str:
        return f"{self.group_id}: {self.limit}"


class RecommendedLimit(TenantOwned):
    """The policy's recommended limit and terms for a customer, with the calculation step by step."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="recommended_limit")
    as_of = models.DateField()
    policy_version = models.PositiveIntegerField()
    grade = models.PositiveSmallIntegerField(null=True, blank=True)
    pd = models.FloatField(null=True, blank=True)
    amount = money_field(help_text=_("Base currency"))
    terms_days = models.PositiveSmallIntegerField()
    security = models.CharField(max_length=20)
    prepayment_share = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    review_months = models.PositiveSmallIntegerField()
    steps = models.JSONField(default=list)
    computed_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("recommended limit")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.amount}"


class LimitRequest(TenantOwned):
    class Source(models.TextChoices):
        OFFICER = "officer", _("Credit officer")
        API = "api", _("API")
        IMPORT = "import", _("Import")
        ADMIN = "admin", _("Admin")
        NIGHTLY = "nightly", _("Nightly run")
        REVIEW = "review", _("Review")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        COUNTERED = "countered", _("Approved at a counter-offer")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="limit_requests")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    current_limit = money_field(null=True, blank=True)
    requested_limit = money_field(validators=[MinValueValidator(0)], verbose_name=_("requested limit"))
    requested_limit_base = money_field()
    requested_terms_days = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(365)])
    recommended_limit_base = money_field(null=True, blank=True)
    grade = models.PositiveSmallIntegerField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    requested_by = user_fk("limit_requests")
    reason = bounded_text(NOTE_MAX_CHARS, blank=True, default="")
    # the platform's own reason (the nightly run's) as a code and its values, worded when read (limits.reasons)
    reason_code = models.CharField(_("reason code"), max_length=32, blank=True, default="")
    reason_details = models.JSONField(_("reason details"), default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    approvers_required = models.PositiveSmallIntegerField(default=1)
    approver_roles = models.JSONField(default=list)
    policy_version = models.PositiveIntegerField()
    expires_on = date_field()
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "status", "expires_on"], name="limitrequest_queue_idx")]
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(status="pending"),
                                    name="limitrequest_one_pending"),
        ]
        ordering = ["-created_at", "-pk"]
        verbose_name = _("limit request")

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer_id}: {self.requested_limit} {self.currency} ({self.status})"

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language (``limits.reasons``)."""
        return reason_text(self.reason_code, self.reason_details, self.reason)


class LimitApproval(TenantOwned):
    """One approver's vote or comment on a request."""

    class Vote(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        COUNTER = "counter", _("Counter-offer")
        COMMENT = "comment", _("Comment")

    request = models.ForeignKey(LimitRequest, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    vote = models.CharField(max_length=8, choices=Vote.choices)
    amount = money_field(null=True, blank=True)
    comment = bounded_text(NOTE_MAX_CHARS, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.vote} by {self.approver_id}"


class LimitDecision(TenantOwned):
    """A dated decision on a customer's limit: the history ``limits.history.limits_as_of`` reads."""

    class Kind(models.TextChoices):
        APPROVED = "approved", _("Approved")
        COUNTERED = "countered", _("Counter-offer")
        AUTO_DECREASE = "auto_decrease", _("Automatic decrease")
        EXPIRED = "expired", _("Expired")
        STARTER = "starter", _("Starter limit")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="limit_decisions")
    request = models.ForeignKey(LimitRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    limit = money_field(validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    limit_base = money_field()
    terms_days = models.PositiveSmallIntegerField(null=True, blank=True)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    decided_by = models.CharField(max_length=300)
    policy_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        indexes = [models.Index(fields=["organization", "customer", "valid_from"], name="limitdecision_cust_idx")]
        ordering = ["-valid_from", "-pk"]
        verbose_name = _("limit decision")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.valid_from}: {self.limit} {self.currency}"


class Hold(TenantOwned):
    """A graded credit hold: ``warn`` flags orders, ``hold`` holds them, ``block`` blocks the customer."""

    class Kind(models.TextChoices):
        WARN = "warn", _("Warning")
        HOLD = "hold", _("Hold orders")
        BLOCK = "block", _("Block the customer")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        DUNNING = "dunning", _("Dunning")
        ALERT = "alert", _("Early-warning alert")
        POLICY = "policy", _("Credit policy")
        IMPORT = "import", _("Import")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="holds")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    reason = bounded_text(NOTE_MAX_CHARS)
    placed_by = user_fk()
    placed_on = models.DateField()
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = user_fk()
    release_reason = bounded_text(NOTE_MAX_CHARS, blank=True, default="")
    # the policy's reason for lifting the hold as a code and its values, worded when read (limits.reasons)
    release_code = models.CharField(_("release reason code"), max_length=32, blank=True, default="")
    release_details = models.JSONField(_("release reason details"), default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer"], condition=Q(released_at__isnull=True),
                                name="hold_active_idx")]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.customer_id} ({self.source})"

    @property
    def active(self) -> bool:
        return self.released_at is None

    @property
    def release_reason_text(self) -> str:
        """Why the hold was lifted, in the reader's language (``limits.reasons``)."""
        return reason_text(self.release_code, self.release_details, self.release_reason)


class OrderCheck(TenantOwned):
    """One credit check of an order at a checkpoint; a held one waits in the queue until released or
    rejected by an authorised user."""

    class Checkpoint(models.TextChoices):
        QUOTATION = "quotation", _("Quotation")
        CONFIRMATION = "confirmation", _("Order confirmation")
        DELIVERY = "delivery", _("Delivery")
        INVOICE = "invoice", _("Invoice")

    class Outcome(models.TextChoices):
        RELEASE = "release", _("Release")
        HOLD = "hold", _("Hold")

    class Queue(models.TextChoices):
        NONE = "", _("Not held")
        HELD = "held", _("Held")
        RELEASED = "released", _("Released by a user")
        REJECTED = "rejected", _("Rejected")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="order_checks")
    order = models.ForeignKey("receivables.Order", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="credit_checks", db_constraint=False)
    order_number = models.CharField(max_length=64, blank=True, default="")
    checkpoint = models.CharField(max_length=12, choices=Checkpoint.choices)
    amount = money_field()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    amount_base = money_field()
    exposure_base = money_field()
    limit_base = money_field(null=True, blank=True)
    prepaid = models.BooleanField(default=False)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    reasons = models.JSONField(default=list)
    queue = models.CharField(max_length=8, choices=Queue.choices, default=Queue.NONE, blank=True)
    as_of = models.DateField()
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    resolved_by = user_fk()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = bounded_text(NOTE_MAX_CHARS, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["organization", "queue"], condition=Q(queue="held"),
                                name="ordercheck_held_idx")]
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order credit check")

    def __str__(self) -> str:
        return f"{self.order_number or self.pk}: {self.outcome}"


class Review(TenantOwned):
    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        NEW_CUSTOMER = "new_customer", _("New customer")
        DOWNGRADE = "downgrade", _("After a downgrade")
        ALERT = "alert", _("After a severe alert")
        MANUAL = "manual", _("Requested")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    due_on = models.DateField()
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    reason = bounded_text(NOTE_MAX_CHARS, blank=True, default="")
    # the platform's own reason (the nightly run's) as a code and its values, worded when read (limits.reasons)
    reason_code = models.CharField(_("reason code"), max_length=32, blank=True, default="")
    reason_details = models.JSONField(_("reason details"), default=dict, blank=True)
    conclusion = bounded_text(NOTE_MAX_CHARS, blank=True, default="")
    completed_by = user_fk()
    completed_on = models.DateField(null=True, blank=True)
    limit_request = models.ForeignKey(LimitRequest, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(status="open"), name="review_one_open"),
        ]
        indexes = [models.Index(fields=["organization", "status", "due_on"], name="review_worklist_idx")]
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return f"review of {self.customer_id} due {self.due_on}"

    @property
    def reason_text(self) -> str:
        """Why the review is due, in the reader's language (``limits.reasons``)."""
        return reason_text(self.reason_code, self.reason_details, self.reason)
