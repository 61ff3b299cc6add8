"""Finance staff work here: the queue of pending limit requests (filters, the customer's risk summary and
the recommended limit beside each request, approve / reject / counter-offer as admin actions), held
orders, holds, policy versions. Every action calls the app's services (validated, audited)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credit_platform.admin_base import ReadOnlyTenantAdmin, TenantAdmin
from credit_platform.errors import AppError
from credit_platform.permissions import has_capability
from credit_platform.roles import Cap

from . import services
from .checks import held_order_resolve
from .models import (
    CreditPolicy,
    GroupLimit,
    Hold,
    LimitDecision,
    LimitRequest,
    OrderCheck,
    RecommendedLimit,
    Review,
)
from .selectors import risk_summary


class DecideForm(forms.Form):
    comment = forms.CharField(label=_("Comment or reason"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    amount = forms.DecimalField(label=_("Counter-offer (customer's currency)"), required=False, min_value=0,
                                max_digits=18, decimal_places=2)


def _run_each(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any, call: Any, done: str) -> None:
    """Apply ``call`` to each selected row; each refusal (four eyes, authority, expiry) is reported by row
    and changes nothing for that row."""
    ok = 0
    for obj in queryset:
        try:
            call(obj)
            ok += 1
        except (AppError, ValidationError) as exc:
            text = exc.message if isinstance(exc, AppError) else "; ".join(exc.messages)
            modeladmin.message_user(request, f"#{obj.pk}: {text}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, done % {"count": ok}, messages.SUCCESS)


def _intermediate(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any, action: str, title: str,
                  form: forms.Form, needs_amount: bool = False) -> HttpResponse:
    context = {
        **modeladmin.admin_site.each_context(request), "title": title, "objects": queryset, "form": form,
        "action": action, "needs_amount": needs_amount, "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "limits/admin/decide.html", context)


@admin.register(LimitRequest)
class LimitRequestAdmin(TenantAdmin):
    """The approval queue. Approvers act through the actions; officers add requests."""

    list_display = ["id", "customer", "requested_limit", "currency_code", "current_limit", "recommended",
                    "grade", "requested_terms_days", "source", "requested_by", "votes", "status", "expires_on"]
    list_filter = ["status", "source", "grade", "currency", "expires_on"]
    search_fields = ["customer__legal_name", "customer__external_id"]
    list_select_related = ["customer", "requested_by"]
    ordering = ["status", "expires_on", "pk"]
    actions = ["approve", "reject", "counter"]
    fields = ["customer", "requested_limit", "requested_terms_days", "reason", "summary"]
    readonly_fields = ["summary", "why"]
    autocomplete_fields = ["customer"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """A request's reason as its reader reads it (the nightly run's is a code, ``limits.reasons``)."""
        fields = list(super().get_fields(request, obj))
        return fields if obj is None else [("why" if f == "reason" else f) for f in fields]

    @admin.display(description=_("Reason"))
    def why(self, obj: LimitRequest) -> str:
        return obj.reason_text

    @admin.display(description=_("Currency"))
    def currency_code(self, obj: LimitRequest) -> str:
        return obj.currency

    @admin.display(description=_("Recommended (base)"))
    def recommended(self, obj: LimitRequest) -> Any:
        return obj.recommended_limit_base if obj.recommended_limit_base is not None else "-"

    @admin.display(description=_("Approvals"))
    def votes(self, obj: LimitRequest) -> str:
        done = obj.approvals.filter(vote__in=["approve", "counter"]).count()
        return f"{done}/{obj.approvers_required}"

    @admin.display(description=_("Risk summary and recommendation"))
    def summary(self, obj: LimitRequest) -> str:
        if obj.pk is None:
            return "-"
        org = obj.customer.organization
        risk = risk_summary(org, obj.customer, org.local_date())
        rec = risk["recommended"]
        rows = [
            (gettext("Grade / PD"), f"{risk['grade'] or '-'} / {risk['pd']:.2%}" if risk["pd"] is not None else "-"),
            (gettext("Exposure"), f"{risk['exposure']:,.2f} {org.base_currency}"),
            (gettext("Overdue"), f"{risk['overdue']:,.2f} {org.base_currency}"),
            (gettext("Active holds"), ", ".join(h.get_kind_display() for h in risk["holds"]) or "-"),
            (gettext("Requested"), f"{obj.requested_limit:,.2f} {obj.currency} ({obj.requested_limit_base:,.2f} "
                                   f"{org.base_currency})"),
            (gettext("Recommended"), f"{rec.amount:,.2f} {org.base_currency}, {rec.terms_days} d" if rec else "-"),
            (gettext("Routing"), f"{obj.approvers_required} × {', '.join(obj.approver_roles)}"),
        ]
        steps = format_html_join("", "<li>{}: {} <span class='help'>{}</span></li>",
                                 ((s["step"], s["value"], s["note"]) for s in (rec.steps if rec else [])))
        votes = format_html_join("", "<li>{} {}: {}</li>", ((a.approver, a.get_vote_display(), a.comment)
                                                           for a in obj.approvals.select_related("approver")))
        return format_html("<table>{}</table><p><b>{}</b></p><ol>{}</ol><ul>{}</ul>",
                           format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
                           gettext("Calculation"), steps, votes)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return has_capability(request, Cap.LIMITS_REQUEST)

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        if not has_capability(request, Cap.LIMITS_APPROVE):
            for name in ("approve", "reject", "counter"):
                actions.pop(name, None)
        return actions

    def save_model(self, request: HttpRequest, obj: LimitRequest, form: Any, change: bool) -> None:
        created = services.limit_request_create(
            organization=request.organization,  # type: ignore[attr-defined]
            customer=form.cleaned_data["customer"], requested_limit=form.cleaned_data["requested_limit"],
            requested_terms_days=form.cleaned_data.get("requested_terms_days"), actor=request.user,
            source=LimitRequest.Source.ADMIN, reason=form.cleaned_data.get("reason", ""))
        self.adopt(obj, created)

    def _decide(self, request: HttpRequest, queryset: Any, action: str, title: str) -> HttpResponse | None:
        form = DecideForm(request.POST if "apply" in request.POST else None)
        if "apply" not in request.POST or not form.is_valid():
            return _intermediate(self, request, queryset, action, title, form, needs_amount=action == "counter")
        org = request.organization  # type: ignore[attr-defined]
        comment, amount = form.cleaned_data["comment"], form.cleaned_data["amount"]
        calls = {
            "approve": lambda r: services.limit_request_approve(organization=org, request=r, actor=request.user,
                                                                comment=comment),
            "reject": lambda r: services.limit_request_reject(organization=org, request=r, actor=request.user,
                                                              comment=comment),
            "counter": lambda r: services.limit_request_counter(
                organization=org, request=r, actor=request.user,
                amount=amount if amount is not None else Decimal(-1), comment=comment),
        }
        _run_each(self, request, queryset, calls[action], gettext("%(count)d request(s) recorded."))
        return None

    @admin.action(description=_("Approve the selected requests"))
    def approve(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return self._decide(request, queryset, "approve", gettext("Approve limit requests"))

    @admin.action(description=_("Reject the selected requests"))
    def reject(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return self._decide(request, queryset, "reject", gettext("Reject limit requests"))

    @admin.action(description=_("Counter-offer a lower limit"))
    def counter(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return self._decide(request, queryset, "counter", gettext("Counter-offer"))


@admin.register(OrderCheck)
class OrderCheckAdmin(TenantAdmin):
    """The held-order queue: authorised users release or reject with a reason."""

    list_display = ["id", "customer", "order_number", "checkpoint", "amount", "currency_code", "exposure_base",
                    "limit_base", "reason_codes", "outcome", "queue", "created_at"]
    list_filter = ["queue", "outcome", "checkpoint"]
    search_fields = ["customer__legal_name", "customer__external_id", "order_number"]
    list_select_related = ["customer"]
    actions = ["release", "reject"]

    @admin.display(description=_("Currency"))
    def currency_code(self, obj: OrderCheck) -> str:
        return obj.currency

    @admin.display(description=_("Reasons"))
    def reason_codes(self, obj: OrderCheck) -> str:
        return ", ".join(r["code"] for r in obj.reasons)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _resolve(self, request: HttpRequest, queryset: Any, release: bool) -> HttpResponse | None:
        form = DecideForm(request.POST if "apply" in request.POST else None)
        if "apply" not in request.POST or not form.is_valid():
            title = gettext("Release held orders") if release else gettext("Reject held orders")
            return _intermediate(self, request, queryset, "release" if release else "reject", title, form)
        org = request.organization  # type: ignore[attr-defined]
        _run_each(self, request, queryset, lambda c: held_order_resolve(
            org, c, release=release, reason=form.cleaned_data["comment"], actor=request.user),
            gettext("%(count)d order(s) resolved."))
        return None

    @admin.action(description=_("Release the selected held orders"))
    def release(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return self._resolve(request, queryset, True)

    @admin.action(description=_("Reject the selected held orders"))
    def reject(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return self._resolve(request, queryset, False)


class HoldForm(forms.ModelForm):
    class Meta:
        model = Hold
        fields = ["customer", "kind", "reason"]


@admin.register(Hold)
class HoldAdmin(TenantAdmin):
    form = HoldForm
    list_display = ["customer", "kind", "source", "reason", "placed_on", "released_at", "why_lifted"]
    list_filter = ["kind", "source", ("released_at", admin.EmptyFieldListFilter)]
    search_fields = ["customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    actions = ["release"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return has_capability(request, Cap.LIMITS_REQUEST)

    @admin.display(description=_("Release reason"))
    def why_lifted(self, obj: Hold) -> str:
        return obj.release_reason_text

    def save_model(self, request: HttpRequest, obj: Hold, form: Any, change: bool) -> None:
        self.adopt(obj, services.hold_place(
            request.organization, form.cleaned_data["customer"],  # type: ignore[attr-defined]
            kind=form.cleaned_data["kind"], reason=form.cleaned_data["reason"], actor=request.user,
            source=Hold.Source.MANUAL))

    @admin.action(description=_("Lift the selected holds"))
    def release(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        form = DecideForm(request.POST if "apply" in request.POST else None)
        if "apply" not in request.POST or not form.is_valid():
            return _intermediate(self, request, queryset, "release", gettext("Lift holds"), form)
        org = request.organization  # type: ignore[attr-defined]
        _run_each(self, request, queryset, lambda h: services.hold_release(
            org, h, reason=form.cleaned_data["comment"], actor=request.user), gettext("%(count)d hold(s) lifted."))
        return None


class PolicyForm(forms.ModelForm):
    change_reason = forms.CharField(label=_("Reason for the change"), max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = CreditPolicy
        fields = list(services.POLICY_FIELDS)


@admin.register(CreditPolicy)
class CreditPolicyAdmin(TenantAdmin):
    """Versions of the policy. "Add" writes the next version from the current one (credit managers)."""

    form = PolicyForm
    list_display = ["version", "is_current", "downturn", "new_customer_rule", "over_limit_tolerance",
                    "overdue_tolerance", "created_by", "created_at", "reason"]
    list_filter = ["is_current", "downturn"]
    actions = ["downturn_on", "downturn_off"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return has_capability(request, Cap.POLICY_EDIT)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        current = services.policy_current(request.organization)  # type: ignore[attr-defined]
        return {f: getattr(current, f) for f in services.POLICY_FIELDS}

    def save_model(self, request: HttpRequest, obj: CreditPolicy, form: Any, change: bool) -> None:
        org = request.organization  # type: ignore[attr-defined]
        current = services.policy_current(org)
        changes = {f: form.cleaned_data[f] for f in services.POLICY_FIELDS
                   if str(form.cleaned_data[f]) != str(getattr(current, f))}
        self.adopt(obj, services.policy_update(organization=org, actor=request.user,
                                               reason=form.cleaned_data["change_reason"], **changes))

    def _downturn(self, request: HttpRequest, on: bool) -> None:
        if not has_capability(request, Cap.POLICY_EDIT):
            self.message_user(request, gettext("Your role may not change the policy."), messages.ERROR)
            return
        services.policy_set_downturn(organization=request.organization,  # type: ignore[attr-defined]
                                     on=on, actor=request.user,
                                     reason=gettext("downturn mode switched on") if on else
                                     gettext("downturn mode switched off"))
        self.message_user(request, gettext("Downturn mode is on.") if on else gettext("Downturn mode is off."))

    @admin.action(description=_("Switch downturn mode on"))
    def downturn_on(self, request: HttpRequest, queryset: Any) -> None:
        self._downturn(request, True)

    @admin.action(description=_("Switch downturn mode off"))
    def downturn_off(self, request: HttpRequest, queryset: Any) -> None:
        self._downturn(request, False)


@admin.register(GroupLimit)
class GroupLimitAdmin(TenantAdmin):
    list_display = ["group", "limit", "updated_at"]
    autocomplete_fields = ["group"]
    fields = ["group", "limit"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_capability(request, Cap.LIMITS_APPROVE)

    def save_model(self, request: HttpRequest, obj: GroupLimit, form: Any, change: bool) -> None:
        self.adopt(obj, services.group_limit_set(
            organization=request.organization,  # type: ignore[attr-defined]
            group=form.cleaned_data.get("group") or obj.group, limit=form.cleaned_data["limit"],
            actor=request.user, reason="admin"))


@admin.register(LimitDecision)
class LimitDecisionAdmin(ReadOnlyTenantAdmin):
    list_display = ["customer", "kind", "limit", "currency_code", "limit_base", "terms_days", "valid_from",
                    "valid_until", "decided_by", "policy_version"]
    list_filter = ["kind", "valid_from"]
    search_fields = ["customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]

    @admin.display(description=_("Currency"))
    def currency_code(self, obj: LimitDecision) -> str:
        return obj.currency


@admin.register(RecommendedLimit)
class RecommendedLimitAdmin(ReadOnlyTenantAdmin):
    list_display = ["customer", "grade", "amount", "terms_days", "security", "prepayment_share", "as_of"]
    list_filter = ["grade", "security"]
    search_fields = ["customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyTenantAdmin):
    list_display = ["customer", "kind", "due_on", "why", "status", "completed_on", "completed_by", "conclusion"]
    list_filter = ["status", "kind", "due_on"]
    search_fields = ["customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]
    exclude = ["reason", "reason_code", "reason_details"]
    readonly_fields = ["why"]

    @admin.display(description=_("Reason"))
    def why(self, obj: Review) -> str:
        return obj.reason_text
