"""Pages under /alerts/: the alert list with filters, bulk acknowledge/assign and pagination, and one
alert with its actions. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from credit_platform.errors import AppError
from credit_platform.forms import form_errors_text, require_valid
from credit_platform.permissions import TenantViewMixin, has_capability, require_capability
from credit_platform.roles import Cap

from . import services
from .explain import INDICATOR_NAMES, explain, indicator_name
from .forms import ActionForm, BulkForm, FilterForm, member_choices
from .models import Alert, WebhookDelivery
from .selectors import AlertFilters, alerts_for

PAGE_SIZE = 50


class AlertListView(TenantViewMixin, TemplateView):
    template_name = "alerts/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        req, org = self.request, self.request.organization
        form = FilterForm(req.GET)
        data = form.cleaned_data if form.is_valid() else {}
        filters = AlertFilters(status=data.get("status") or "active", severity=data.get("severity") or "",
                               indicator=data.get("indicator") or "", assignee=data.get("assignee") or "",
                               customer=(data.get("customer") or "").strip())
        # the most severe first, then the most recently raised: a long list still starts with what matters
        rank = Case(*[When(severity=value, then=Value(i)) for i, value in enumerate(reversed(Alert.Severity.values))],
                    default=Value(len(Alert.Severity.values)), output_field=IntegerField())
        qs = alerts_for(org, filters, user=req.user).order_by(rank, "-last_raised_at", "-pk")
        page = Paginator(qs, PAGE_SIZE).get_page(req.GET.get("page"))
        kinds = (Alert.objects.for_organization(org).values_list("kind", flat=True).distinct().order_by("kind"))
        query = req.GET.copy()
        query.pop("page", None)
        severities = dict(alerts_for(org, AlertFilters()).order_by().values_list("severity").annotate(n=Count("pk")))
        return {
            **super().get_context_data(**kwargs),
            "section": "alerts", "filters": filters, "filter_form": form, "page_obj": page,
            "rows": [(a, explain(a.details or {})) for a in page.object_list],
            "indicators": [(k, indicator_name(k.removeprefix("ews.")) if k.startswith("ews.") else k) for k in kinds],
            "members": member_choices(org), "bulk_form": BulkForm(organization=org),
            "can_work": has_capability(req, Cap.COLLECTIONS), "querystring": query.urlencode(),
            "by_severity": [(s, label, severities.get(s, 0)) for s, label in reversed(Alert.Severity.choices)],
            "indicator_names": INDICATOR_NAMES,
        }

    def post(self, request: HttpRequest) -> HttpResponse:
        require_capability(request, Cap.COLLECTIONS)
        data = require_valid(BulkForm(request.POST, organization=request.organization))  # type: ignore[attr-defined]
        if not data["alerts"]:
            messages.error(request, _("Tick the alerts first."))
            return redirect(request.get_full_path())
        try:
            n = services.alerts_bulk(organization=request.organization, alert_ids=data["alerts"],  # type: ignore[attr-defined]
                                     action=data["action"], actor=request.user, assignee=data["assignee"])
        except AppError as exc:
            messages.error(request, exc.message)
            return redirect(request.get_full_path())
        messages.success(request, _("%(n)s alert(s) updated.") % {"n": n})
        return redirect(request.get_full_path())


class AlertDetailView(TenantViewMixin, TemplateView):
    template_name = "alerts/detail.html"

    def alert(self) -> Alert:
        return get_object_or_404(Alert.objects.for_organization(self.request.organization)
                                 .select_related("customer", "assignee", "resolved_by"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        alert = self.alert()
        org = self.request.organization
        return {
            **super().get_context_data(**kwargs), "section": "alerts", "alert": alert,
            "reasons": explain(alert.details or {}), "form": kwargs.get("form") or ActionForm(organization=org),
            "can": {a: services.may(self.request.user, org.pk, a) and alert.status in services.TRANSITIONS[a][1]
                    for a in services.TRANSITIONS},
            "deliveries": WebhookDelivery.objects.for_organization(org).filter(
                payload__alert__id=alert.pk).select_related("endpoint")[:20],
        }

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        alert = self.alert()
        form = ActionForm(request.POST, organization=request.organization)  # type: ignore[attr-defined]
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return self.render_to_response(self.get_context_data(form=form))
        data = form.cleaned_data
        try:
            services.alert_transition(alert=alert, action=data["action"], actor=request.user,
                                      reason=data["reason"], assignee=data["assignee"], until=data["until"])
        except AppError as exc:
            messages.error(request, exc.message)
            return self.render_to_response(self.get_context_data(form=form), status=exc.status)
        messages.success(request, _("Alert updated."))
        return redirect("alert-detail", pk=alert.pk)


class AlertPolicyView(TenantViewMixin, TemplateView):
    """The organization's thresholds beside the documented defaults; credit managers change them."""

    template_name = "alerts/policy.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from .indicators import DEFAULTS, thresholds_for

        org = self.request.organization
        current = thresholds_for(org)
        rows = [(name, indicator_name(name), [(key, default, current[name].get(key), f"{name}.{key}")
                                              for key, default in values.items()])
                for name, values in DEFAULTS.items()]
        return {**super().get_context_data(**kwargs), "section": "alerts", "rows": rows,
                "can_edit": has_capability(self.request, Cap.POLICY_EDIT)}

    def post(self, request: HttpRequest) -> HttpResponse:
        from .indicators import DEFAULTS, thresholds_for

        require_capability(request, Cap.POLICY_EDIT)
        org = request.organization  # type: ignore[attr-defined]
        current = thresholds_for(org)
        changes: dict[str, dict[str, Any]] = {}
        for name, values in DEFAULTS.items():
            for key in values:
                field = f"{name}.{key}"
                if key == "enabled":
                    posted: Any = field in request.POST
                elif field in request.POST:
                    posted = request.POST[field].strip()
                else:
                    continue
                if str(posted) != str(current[name][key]):
                    changes.setdefault(name, {})[key] = posted
        if not changes:
            messages.info(request, _("Nothing changed."))
            return redirect("alert-policy")
        try:
            services.alert_policy_update(organization=org, actor=request.user, thresholds=changes,
                                         reason=request.POST.get("reason", "").strip()[:2000])
        except AppError as exc:
            messages.error(request, exc.message)
            return self.render_to_response(self.get_context_data(), status=exc.status)
        messages.success(request, _("Thresholds saved."))
        return redirect("alert-policy")
