"""Admin screens of the scoring app. Policy edits (expert scorecard factors, master scale) need
``policy.edit`` and go through services (validated, audited); promotion needs ``models.promote``.
Scores, runs and monitoring reports are written by the platform only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from credit_platform.admin_base import ReadOnlyTenantAdmin, TenantAdmin
from credit_platform.errors import AppError
from credit_platform.permissions import has_capability
from credit_platform.roles import Cap

from . import challengers, services
from .expert import Factor, validate_bins
from .features.catalog import feature
from .history import risk_level_change, validate_change
from .modeling.masterscale import MasterScale
from .models import (
    GradeChange,
    MasterScaleConfig,
    MonitoringReport,
    RiskLevelChange,
    Score,
    ScorecardFactor,
    ScoringModel,
    ScoringRun,
)


@admin.register(ScoringModel)
class ScoringModelAdmin(ReadOnlyTenantAdmin):
    list_display = ["version", "name", "algorithm", "status", "training_start", "training_end", "created_at"]
    list_filter = ["status", "kind"]
    readonly_fields = ["version", "kind", "name", "algorithm", "status", "training_start", "training_end",
                       "features", "metrics", "file_path", "sha256", "file_bytes", "created_at", "created_by",
                       "promoted_at", "promoted_by"]
    exclude = ["report", "config", "reference"]
    actions = ["promote"]

    @admin.action(description=gettext_lazy("Request (or approve) the promotion of the selected model"),
                  permissions=["promote"])
    def promote(self, request: HttpRequest, queryset: Any) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one model to promote.", messages.ERROR)
            return
        model = queryset.first()
        try:  # four eyes, as on the page: the first signature requests, a second person's promotes
            req = challengers.promotion_request_create(model=model, actor=request.user, reason="admin")
        except AppError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        if req.status == "approved":
            self.message_user(request, gettext("v%(version)s is now the champion.") % {"version": model.version})
        else:
            self.message_user(request, gettext(
                "Promotion of v%(version)s requested: a second person must approve it.") % {"version": model.version})

    def has_promote_permission(self, request: HttpRequest) -> bool:
        return has_capability(request, Cap.MODELS_PROMOTE)


class FactorForm(forms.ModelForm):
    class Meta:
        model = ScorecardFactor
        fields = ["feature", "weight", "bins", "missing_points", "note"]
        help_texts = {"bins": 'Bands as [[upper, points], ...], increasing, the last one [null, points]; e.g. '
                              '[[3, 10], [10, 0], [20, -15], [null, -75]]. Lower bound inclusive.'}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            validate_bins(data.get("feature", ""), data.get("bins"), data.get("missing_points", 0))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        return data


@admin.register(ScorecardFactor)
class ScorecardFactorAdmin(TenantAdmin):
    """The expert scorecard's factors. Edits are audited and take effect when the scorecard is
    published (scoring page), which registers a new version."""

    change_capability = Cap.POLICY_EDIT
    form = FactorForm
    list_display = ["feature", "label", "bands", "weight"]
    list_editable = ["weight"]
    search_fields = ["feature"]

    @admin.display(description=gettext_lazy("Factor"))
    def label(self, obj: ScorecardFactor) -> str:
        f = feature(obj.feature)
        return f.label if f else obj.feature

    @admin.display(description=gettext_lazy("Points by band"))
    def bands(self, obj: ScorecardFactor) -> str:
        try:
            return Factor(obj.feature, validate_bins(obj.feature, obj.bins, obj.missing_points),
                          float(obj.missing_points)).describe()
        except ValueError as exc:
            return f"invalid: {exc}"

    def save_model(self, request: HttpRequest, obj: ScorecardFactor, form: Any, change: bool) -> None:
        if not change:
            obj.organization = request.organization  # type: ignore[attr-defined]
        try:
            services.scorecard_factor_save(factor=obj, actor=request.user, reason="admin")
        except AppError as exc:
            self.message_user(request, exc.message, messages.ERROR)


class MasterScaleForm(forms.ModelForm):
    class Meta:
        model = MasterScaleConfig
        fields = ["upper_bounds"]
        help_texts = {"upper_bounds": "Nine increasing PD upper bounds between 0 and 1 for grades 1-9; grade 10 "
                                      "(default) is everything above the last."}

    def clean_upper_bounds(self) -> Any:
        value = self.cleaned_data["upper_bounds"]
        try:
            MasterScale(tuple(float(v) for v in value))
        except (TypeError, ValueError) as exc:
            raise ValidationError(str(exc)) from exc
        return value


@admin.register(MasterScaleConfig)
class MasterScaleAdmin(TenantAdmin):
    change_capability = Cap.POLICY_EDIT
    form = MasterScaleForm
    list_display = ["__str__", "upper_bounds", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: MasterScaleConfig, form: Any, change: bool) -> None:
        services.master_scale_update(organization=request.organization,  # type: ignore[attr-defined]
                                     upper_bounds=obj.upper_bounds, actor=request.user, reason="admin")


@admin.register(Score)
class ScoreAdmin(ReadOnlyTenantAdmin):
    list_display = ["customer", "as_of", "grade", "pd", "model_version", "trigger"]
    list_filter = ["grade", "trigger", "as_of"]
    search_fields = ["customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]
    date_hierarchy = "as_of"


@admin.register(GradeChange)
class GradeChangeAdmin(ReadOnlyTenantAdmin):
    list_display = ["customer", "as_of", "old_grade", "new_grade", "new_pd", "trigger"]
    list_filter = ["new_grade", "trigger"]
    search_fields = ["customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyTenantAdmin):
    list_display = ["as_of", "trigger", "model", "status", "customers", "scored", "grade_changes", "chunks_total",
                    "started_at", "finished_at"]
    list_filter = ["status", "trigger"]


@admin.register(MonitoringReport)
class MonitoringReportAdmin(ReadOnlyTenantAdmin):
    list_display = ["as_of", "model", "population", "psi_max", "alerts_raised"]


class RiskLevelChangeForm(forms.ModelForm):
    class Meta:
        model = RiskLevelChange
        fields = ["kind", "code", "risk_level", "valid_from", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            validate_change(data.get("kind", ""), data.get("code", ""), data.get("risk_level"),
                            data.get("valid_from"))
        except AppError as exc:
            field = exc.message.split(":", 1)[0]
            raise ValidationError({field if field in self.fields else "__all__": exc.message}) from exc
        return data


@admin.register(RiskLevelChange)
class RiskLevelChangeAdmin(admin.ModelAdmin):
    """Dated country and sector risk levels: platform operators add a change (it moves the current level
    and is written to the ledger); recorded changes are history and stay as they are."""

    form = RiskLevelChangeForm
    list_display = ["kind", "code", "risk_level", "valid_from", "recorded_at", "recorded_by", "reason"]
    list_filter = ["kind"]
    search_fields = ["code"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: RiskLevelChange, form: Any, change: bool) -> None:
        saved = risk_level_change(kind=obj.kind, code=obj.code, risk_level=obj.risk_level, valid_from=obj.valid_from,
                                  actor=request.user, reason=obj.reason or "admin")
        obj.pk = saved.pk
