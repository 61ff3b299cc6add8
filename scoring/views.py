"""Scoring pages: the portfolio view (grade distribution, registry, monitoring, runs), a model's
validation report, and the credit manager's actions (promote a model, publish the expert scorecard,
run the scoring now). Thin: parse, check the capability, call a service or selector."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, TemplateView

from credit_platform.errors import AppError
from credit_platform.forms import reason_param
from credit_platform.permissions import TenantViewMixin, has_capability, require_capability
from credit_platform.roles import Cap

from . import selectors, services
from .models import ScoringModel, Trigger


class ScoringHomeView(TenantViewMixin, TemplateView):
    template_name = "scoring/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org = self.request.organization
        today = org.local_date()
        context.update(
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
    org = _org(request)
    require_capability(request, Cap.MODELS_PROMOTE)
    model = get_object_or_404(ScoringModel.objects.for_organization(org), pk=pk)
    services.model_promote(model=model, actor=request.user, reason=reason_param(request))
    messages.success(request, _("Model v%(version)s is now the champion; the next scoring run uses it.") % {
        "version": model.version})
    return redirect("scoring-home")


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
