"""Scoring pages: the portfolio view (grade distribution, registry, monitoring, runs), a model's
validation report, and the credit manager's actions (promote a model, publish the expert scorecard,
run the scoring now). Thin: parse, check the capability, call a service or selector."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, TemplateView

from credit_platform.errors import AppError
from credit_platform.forms import reason_param
from credit_platform.permissions import TenantViewMixin, has_capability, require_capability
from credit_platform.roles import Cap

from . import challengers, selectors, services
from .models import PromotionRequest, ScoringModel, TrainingRun, Trigger
from .recalibration import predicted_vs_observed


class ScoringHomeView(TenantViewMixin, TemplateView):
    template_name = "scoring/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org = self.request.organization
        today = org.local_date()
        champion_model = services.champion(org)
        context.update(
            champion_model=champion_model,
            calibration=predicted_vs_observed(champion_model),
            trainings=TrainingRun.objects.for_organization(org).select_related("model", "started_by")[:5],
            requests=PromotionRequest.objects.for_organization(org).select_related(
                "model", "requested_by", "decided_by")[:8],
            shadow=challengers.shadow_models(org),
            as_of=today,
            distribution=selectors.grade_distribution(org, today),
            models=selectors.registry(org),
            monitoring=selectors.latest_monitoring(org),
            runs=selectors.recent_runs(org),
            scale=selectors.scale_for(org).table().to_dict(orient="records"),
            factors=selectors.expert_factors(org),
            unpublished=selectors.expert_unpublished(org),
            can_promote=has_capability(self.request, Cap.MODELS_PROMOTE),
            can_edit_policy=has_capability(self.request, Cap.POLICY_EDIT),
        )
        return context


class ModelDetailView(TenantViewMixin, DetailView):
    model = ScoringModel
    template_name = "scoring/model_detail.html"
    context_object_name = "scoring_model"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        m = self.object
        report = m.report or {}
        oot = report.get("out_of_time_by_snapshot") or {}
        bands = selectors.grade_bands(self.request.organization)
        context.update(
            report=report, oot=oot, cv=report.get("cv") or {},
            candidates=report.get("candidates") or {},
            iv=list((report.get("information_value_all") or {}).items())[:15],
            oot_grades=[{**g, "band": bands.get(g["grade"])} for g in oot.get("grade_table", [])],
            cv_grades=[{**g, "band": bands.get(g["grade"])} for g in report.get("grade_table", [])],
            factors=[{**f, "bands": _bands(f)} for f in (m.config or {}).get("factors", [])],
            can_promote=has_capability(self.request, Cap.MODELS_PROMOTE),
            comparison=(challengers.comparison_report(self.request.organization, m)
                        if m.status == ScoringModel.Status.CANDIDATE else None),
        )
        return context


def _bands(factor: dict[str, Any]) -> str:
    from .expert import Factor

    return Factor(factor["feature"], tuple((b[0], float(b[1])) for b in factor["bins"]),
                  float(factor.get("missing_points", 0)), float(factor.get("weight", 1))).describe()


def _org(request: HttpRequest) -> Any:
    org = getattr(request, "organization", None)
    if org is None:
        raise Http404(gettext('You are not a member of any organization.'))
    return org


@login_required
@require_POST
def promote(request: HttpRequest, pk: int) -> HttpResponse:
    """Request (or second) a promotion: four eyes, so the model becomes champion only when a second
    person approves (``challengers.promotion_sign``)."""
    org = _org(request)
    require_capability(request, Cap.MODELS_PROMOTE)
    model = get_object_or_404(ScoringModel.objects.for_organization(org), pk=pk)
    try:
        req = challengers.promotion_request_create(model=model, actor=request.user, reason=reason_param(request))
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("scoring-home")
    if req.status == PromotionRequest.Status.APPROVED:
        messages.success(request, _("Model v%(version)s is now the champion; the next scoring run uses it.")
                         % {"version": model.version})
    else:
        messages.info(request, _("Promotion of v%(version)s requested: a second person must approve it.")
                      % {"version": model.version})
    return redirect("scoring-home")


@login_required
@require_POST
def promotion_decide(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request)
    require_capability(request, Cap.MODELS_PROMOTE)
    req = get_object_or_404(PromotionRequest.objects.for_organization(org), pk=pk)
    decision = request.POST.get("decision", "")
    try:
        if decision == "approve":
            req = challengers.promotion_sign(request=req, actor=request.user, reason=reason_param(request))
        elif decision == "reject":
            req = challengers.promotion_reject(request=req, actor=request.user, reason=reason_param(request))
        else:
            messages.error(request, _("decision: '%(value)s' is not approve or reject") % {"value": decision})
            return redirect("scoring-home")
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("scoring-home")
    if req.status == PromotionRequest.Status.APPROVED:
        messages.success(request, _("Model v%(version)s is now the champion; the next scoring run uses it.")
                         % {"version": req.model.version})
    elif req.status == PromotionRequest.Status.REJECTED:
        messages.info(request, _("Promotion request rejected."))
    else:
        messages.info(request, _("Signed: a second person must approve the promotion."))
    return redirect("scoring-home")


@login_required
@require_POST
def train_start(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    require_capability(request, Cap.MODELS_PROMOTE)
    run = challengers.training_run_start(organization=org, actor=request.user)
    messages.info(request, _("Training started on the history up to %(date)s; progress is shown below.")
                  % {"date": run.as_of.isoformat()})
    return redirect(f"{reverse('scoring-home')}#training")


@login_required
def training_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of a training run (polled by the page)."""
    org = _org(request)
    run = get_object_or_404(TrainingRun.objects.for_organization(org), pk=pk)
    return JsonResponse({"id": run.pk, "status": run.status, "progress": run.progress, "message": run.message,
                         "log": run.log[-5:], "model": run.model.version if run.model else None})


@login_required
@require_POST
def publish_expert(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    require_capability(request, Cap.POLICY_EDIT)
    try:
        model = services.expert_scorecard_publish(organization=org, actor=request.user,
                                                  reason=reason_param(request))
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("scoring-home")
    messages.success(request, _("Expert scorecard published as v%(version)s (%(status)s).") % {
        "version": model.version, "status": model.get_status_display()})
    return redirect("scoring-home")


@login_required
@require_POST
def run_now(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    require_capability(request, Cap.MODELS_PROMOTE)
    run = services.scoring_run_start(organization=org, trigger=Trigger.MANUAL)
    messages.info(request, _("Scoring run started for %(n)s customers as of %(day)s.") % {
        "n": run.customers, "day": run.as_of})
    return redirect("scoring-home")
