"""Scoring data: the model registry, the expert scorecard's factors, the rating master scale, scores
with their history and grade changes, nightly runs and their monitoring reports.

Scores are keyed by (organization, customer, as-of date): re-running a night, or refreshing a
customer twice on one day, overwrites the same row (upsert), so every write path is idempotent.
``CurrentScore`` holds each customer's latest score for the pages and the grade distribution (one
row per customer, so portfolio reads never scan the history).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from credit_platform.tenancy import TenantOwned

from .modeling.masterscale import DEFAULT_UPPER_BOUNDS


class ScoringModel(TenantOwned):
    """One version of a PD model of an organization: an expert scorecard (its factors frozen in
    ``config``) or a trained model (its file under MEDIA_ROOT, hash-checked on load)."""

    class Kind(models.TextChoices):
        EXPERT = "expert", _("Expert scorecard")
        TRAINED = "trained", _("Trained model")

    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        CHAMPION = "champion", _("Champion")
        RETIRED = "retired", _("Retired")

    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=120)
    algorithm = models.CharField(max_length=20, help_text=_("expert, scorecard, gbm or blend"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CANDIDATE)
    training_start = models.DateField(null=True, blank=True)
    training_end = models.DateField(null=True, blank=True)
    features = models.JSONField(default=list, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True, help_text=_("Validation report"))
    config = models.JSONField(default=dict, blank=True, help_text=_("Expert scorecard: its factors"))
    # Monitoring baseline: per variable, bin edges and the share of the reference population per bin.
    reference = models.JSONField(default=dict, blank=True)
    file_path = models.CharField(max_length=300, blank=True, default="", help_text=_("Relative to MEDIA_ROOT"))
    sha256 = models.CharField(max_length=64, blank=True, default="")
    file_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    promoted_at = models.DateTimeField(null=True, blank=True)
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="scoringmodel_unique_version"),
            models.UniqueConstraint(fields=["organization"], condition=Q(status="champion"),
                                    name="scoringmodel_one_champion"),
        ]
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}"


class ScorecardFactor(TenantOwned):
    """One factor of the organization's expert scorecard: points by band of the feature's value.

    ``bins`` is a list of ``[upper, points]`` pairs in increasing order of ``upper`` (exclusive), the
    last one with ``upper`` null (everything above); ``missing_points`` apply when the value is
    unknown. Points are added to the base score (600 = odds 50:1, every 20 points halve the odds of
    default); ``weight`` scales the factor as a whole (0 switches it off).
    """

    feature = models.CharField(max_length=60)
    weight = models.DecimalField(max_digits=6, decimal_places=3, default=1)
    bins = models.JSONField()
    missing_points = models.FloatField(default=0)
    note = models.CharField(max_length=300, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "feature"], name="factor_unique_feature")]
        ordering = ["feature"]

    def __str__(self) -> str:
        return self.feature


def default_bounds() -> list[float]:
    return list(DEFAULT_UPPER_BOUNDS)


class MasterScaleConfig(TenantOwned):
    """The organization's rating master scale: nine PD upper bounds -> grades 1..10 (10 = default)."""

    upper_bounds = models.JSONField(default=default_bounds)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="masterscale_one_per_org")]
        verbose_name = "rating master scale"

    def __str__(self) -> str:
        return "Rating master scale"


class Trigger(models.TextChoices):
    NIGHTLY = "nightly", _("Nightly run")
    EVENT = "event", _("New data")
    MANUAL = "manual", _("Manual run")
    BACKFILL = "backfill", _("Backfill")


class Score(TenantOwned):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="scores")
    as_of = models.DateField()
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="scores")
    model_version = models.PositiveIntegerField()
    pd = models.FloatField(verbose_name="PD")
    grade = models.PositiveSmallIntegerField()
    points = models.FloatField(null=True, blank=True, help_text=_("Scorecard points (expert scorecard)"))
    # [{"code": feature, "value": its value, "impact": log-odds added}], worst first
    reasons = models.JSONField(default=list)
    flags = models.JSONField(default=list)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "customer", "as_of"], name="score_unique_day")
        ]
        indexes = [models.Index(fields=["organization", "as_of"], name="score_org_asof_idx")]
        ordering = ["-as_of"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.as_of}: grade {self.grade}"


class CurrentScore(TenantOwned):
    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="current_score")
    as_of = models.DateField()
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="+")
    model_version = models.PositiveIntegerField()
    pd = models.FloatField(verbose_name="PD")
    grade = models.PositiveSmallIntegerField()
    points = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=list)
    flags = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["organization", "grade"], name="currentscore_org_grade_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}: grade {self.grade}"


class GradeChange(TenantOwned):
    """A customer's grade moved (or was first assigned: ``old_grade`` null)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="grade_changes")
    as_of = models.DateField()
    old_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    new_grade = models.PositiveSmallIntegerField()
    old_pd = models.FloatField(null=True, blank=True)
    new_pd = models.FloatField()
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["organization", "customer", "as_of"], name="gradechange_cust_idx")]
        ordering = ["-as_of", "-pk"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.as_of}: {self.old_grade} -> {self.new_grade}"


class ScoringRun(TenantOwned):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    as_of = models.DateField()
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    chunk_size = models.PositiveIntegerField()
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    grade_changes = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "as_of"], condition=Q(trigger="nightly"),
                                    name="scoringrun_one_nightly_per_day")
        ]
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.as_of} ({self.status})"

    @property
    def seconds(self) -> float | None:
        if self.finished_at and self.started_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class ScoringRunChunk(TenantOwned):
    """One slice of a run: customers with ids in [first_id, last_id]. ``stats`` holds the counts per
    monitoring bin of this slice, summed over the slices when the run ends."""

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    done = models.BooleanField(default=False)
    scored = models.PositiveIntegerField(default=0)
    grade_changes = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    stats = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="runchunk_unique_index")]
        ordering = ["run", "index"]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index}"


class MonitoringReport(TenantOwned):
    """Population stability of the score and key features against the model's reference sample, and
    the backtest of scores given a year ago against the defaults that followed."""

    run = models.OneToOneField(ScoringRun, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="monitoring")
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="monitoring")
    as_of = models.DateField()
    population = models.PositiveIntegerField()
    psi = models.JSONField(default=dict)  # variable -> PSI
    psi_max = models.FloatField(null=True, blank=True)
    backtest = models.JSONField(default=dict)
    alerts_raised = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["-as_of", "-pk"]

    def __str__(self) -> str:
        return f"Monitoring {self.as_of} (model v{self.model.version})"


class RiskLevelChange(models.Model):
    """Dated history of the country and sector risk levels (shared reference data, so not tenant-owned):
    the level of a country or sector on day t is the one of its latest change with ``valid_from`` on or
    before t. A country or sector with no change recorded has kept its level since the reference data
    was loaded. Written only by ``history.risk_level_change`` (which also moves the current level on
    ``customers.Country``/``Sector`` and writes the ledger), so training snapshots and back-filled
    scores read the level that was valid on their date, never today's."""

    class Kind(models.TextChoices):
        COUNTRY = "country", _("Country")
        SECTOR = "sector", _("Sector")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    code = models.CharField(max_length=8)
    risk_level = models.PositiveSmallIntegerField()
    valid_from = models.DateField()
    reason = models.CharField(max_length=300, blank=True, default="")
    recorded_at = models.DateTimeField(db_default=Now(), editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "code", "valid_from"], name="risklevel_unique_day")]
        ordering = ["kind", "code", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.kind} {self.code}: {self.risk_level} from {self.valid_from}"


class ShadowScore(TenantOwned):
    """A candidate model's score of a customer on a night, computed beside the champion's (same features,
    same run) and never shown as the customer's score: the material of the comparison report."""

    run = models.ForeignKey(ScoringRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="shadow_scores")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    pd = models.FloatField(verbose_name="PD")
    grade = models.PositiveSmallIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "customer", "as_of"], name="shadowscore_unique_day")
        ]
        indexes = [models.Index(fields=["organization", "model", "as_of"], name="shadowscore_model_idx")]

    def __str__(self) -> str:
        return f"v{self.model_id} {self.customer_id} {self.as_of}: grade {self.grade}"


class TrainingRun(TenantOwned):
    """A training started from the Scoring page (or proposed by the nightly run), run as a Celery task;
    ``progress`` (0-100) and ``log`` are updated as it goes."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    log = models.JSONField(default=list)
    message = models.TextField(blank=True, default="")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    model = models.ForeignKey(ScoringModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"training {self.as_of} ({self.status})"


class PromotionRequest(TenantOwned):
    """Four eyes on a promotion: two different people sign (the requester and an approver). A request
    proposed by the nightly run has no requester yet; its first signature makes the signer the requester."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="promotion_requests")
    champion = models.ForeignKey(ScoringModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by_system = models.BooleanField(default=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    reason = models.CharField(max_length=500, blank=True, default="")
    report = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model"], condition=Q(status="pending"), name="promotion_one_pending")
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"promote v{self.model_id} ({self.status})"
