"""Pages under /limits/: the approval queue, held orders, the review worklist, a customer's credit file
(recommendation step by step, decisions, holds) and the policy. Thin: parse, call a service, render."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from credit_platform.errors import AppError
from credit_platform.permissions import TenantViewMixin, has_capability, require_capability
from credit_platform.roles import Cap
from customers.models import Customer

from . import policy as rules
from . import services
from .checks import held_order_resolve
from .models import Hold, LimitDecision, LimitRequest, OrderCheck, RecommendedLimit, Review
from .selectors import held_orders, pending_requests, review_worklist, risk_summary


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject")),
                                          ("counter", gettext_lazy("Counter-offer"))])
    comment = forms.CharField(required=False, max_length=2000)
    amount = forms.DecimalField(required=False, min_value=0, max_digits=18, decimal_places=2)


class RequestForm(forms.Form):
    requested_limit = forms.DecimalField(label=gettext_lazy("Requested limit"), min_value=0, max_digits=18,
                                         decimal_places=2)
    requested_terms_days = forms.IntegerField(label=gettext_lazy("Requested terms (days)"), required=False,
                                              min_value=0, max_value=365)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000)


class HoldForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Hold.Kind.choices)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000)


class ReviewForm(forms.Form):
    conclusion = forms.CharField(label=gettext_lazy("Conclusion"), max_length=2000, widget=forms.Textarea)
    requested_limit = forms.DecimalField(label=gettext_lazy("Request a limit (optional)"), required=False,
                                         min_value=0, max_digits=18, decimal_places=2)


def _refused(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, AppError):
        text = exc.message
    elif isinstance(exc, ValidationError):
        text = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.message_dict.items()) if hasattr(
            exc, "error_dict") else "; ".join(exc.messages)
    else:
        text = str(exc)
    messages.error(request, _("Nothing was changed: %(reason)s") % {"reason": text})


def _form_errors(request: HttpRequest, form: forms.Form) -> None:
    messages.error(request, _("Nothing was changed: %(reason)s") % {"reason": "; ".join(
        f"{name}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items())})


class QueueView(TenantViewMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        org = request.organization  # type: ignore[attr-defined]
        day = org.local_date()
        items = [{"request": r, "risk": risk_summary(org, r.customer, day)} for r in pending_requests(org)[:50]]
        return render(request, "limits/queue.html", {
            "section": "limits", "items": items, "can_approve": has_capability(request, Cap.LIMITS_APPROVE),
            "policy": services.policy_current(org)})


class DecideView(TenantViewMixin, View):
    capability = Cap.LIMITS_APPROVE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        org = request.organization  # type: ignore[attr-defined]
        target = get_object_or_404(LimitRequest.objects.for_organization(org), pk=pk)
        form = DecideForm(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
            return HttpResponseRedirect(reverse("limits-queue"))
        v = form.cleaned_data
        try:
            if v["decision"] == "approve":
                services.limit_request_approve(organization=org, request=target, actor=request.user,
                                               comment=v["comment"])
            elif v["decision"] == "reject":
                services.limit_request_reject(organization=org, request=target, actor=request.user,
                                              comment=v["comment"])
            else:
                services.limit_request_counter(organization=org, request=target, actor=request.user,
                                               amount=v["amount"] if v["amount"] is not None else Decimal(-1),
                                               comment=v["comment"])
            messages.success(request, _("Your decision on request #%(id)s is recorded.") % {"id": target.pk})
        except (AppError, ValidationError) as exc:
            _refused(request, exc)
        return HttpResponseRedirect(reverse("limits-queue"))


class HeldView(TenantViewMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        org = request.organization  # type: ignore[attr-defined]
        return render(request, "limits/held.html", {
            "section": "limits", "checks": held_orders(org)[:200],
            "can_resolve": has_capability(request, Cap.LIMITS_APPROVE)})

    def post(self, request: HttpRequest) -> HttpResponse:
        require_capability(request, Cap.LIMITS_APPROVE)
        org = request.organization  # type: ignore[attr-defined]
        from credit_platform.forms import parse_id

        check = get_object_or_404(OrderCheck.objects.for_organization(org), pk=parse_id(request.POST.get("check")))
        form = ReasonForm(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
        else:
            try:
                held_order_resolve(org, check, release=request.POST.get("release") == "1",
                                   reason=form.cleaned_data["reason"], actor=request.user)
                messages.success(request, _("The order is resolved."))
            except (AppError, ValidationError) as exc:
                _refused(request, exc)
        return HttpResponseRedirect(reverse("limits-held"))


class ReviewsView(TenantViewMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        org = request.organization  # type: ignore[attr-defined]
        day = org.local_date()
        return render(request, "limits/reviews.html", {
            "section": "limits", "reviews": review_worklist(org, day)[:200], "today": day,
            "counts": services.review_due_counts(org, day), "can_review": has_capability(request, Cap.LIMITS_REQUEST),
            "form": ReviewForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        require_capability(request, Cap.LIMITS_REQUEST)
        org = request.organization  # type: ignore[attr-defined]
        from credit_platform.forms import parse_id

        review = get_object_or_404(Review.objects.for_organization(org), pk=parse_id(request.POST.get("review")))
        form = ReviewForm(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
        else:
            try:
                services.review_complete(organization=org, review=review, actor=request.user,
                                         conclusion=form.cleaned_data["conclusion"],
                                         requested_limit=form.cleaned_data["requested_limit"])
                messages.success(request, _("The review is recorded."))
            except (AppError, ValidationError) as exc:
                _refused(request, exc)
        return HttpResponseRedirect(reverse("limits-reviews"))


class CustomerCreditView(TenantViewMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        org = request.organization  # type: ignore[attr-defined]
        customer = get_object_or_404(Customer.objects.for_organization(org), pk=pk)
        return render(request, "limits/customer.html", {
            "section": "limits", "customer": customer, "risk": risk_summary(org, customer, org.local_date()),
            "recommended": RecommendedLimit.objects.filter(organization=org, customer=customer).first(),
            "decisions": LimitDecision.objects.for_organization(org).filter(customer=customer)[:20],
            "requests": LimitRequest.objects.for_organization(org).filter(customer=customer)[:20],
            "holds": Hold.objects.for_organization(org).filter(customer=customer)[:20],
            "request_form": RequestForm(), "hold_form": HoldForm(),
            "can_request": has_capability(request, Cap.LIMITS_REQUEST),
            "can_approve": has_capability(request, Cap.LIMITS_APPROVE)})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        require_capability(request, Cap.LIMITS_REQUEST)
        org = request.organization  # type: ignore[attr-defined]
        customer = get_object_or_404(Customer.objects.for_organization(org), pk=pk)
        what = request.POST.get("what")
        form: forms.Form = RequestForm(request.POST) if what == "request" else HoldForm(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
            return HttpResponseRedirect(reverse("limits-customer", args=[pk]))
        v = form.cleaned_data
        try:
            if what == "request":
                services.limit_request_create(organization=org, customer=customer,
                                              requested_limit=v["requested_limit"],
                                              requested_terms_days=v["requested_terms_days"], actor=request.user,
                                              source=LimitRequest.Source.OFFICER, reason=v["reason"])
                messages.success(request, _("The limit request is waiting for approval."))
            else:
                services.hold_place(org, customer, kind=v["kind"], reason=v["reason"], actor=request.user,
                                    source=Hold.Source.MANUAL)
                messages.success(request, _("The hold is placed."))
        except (AppError, ValidationError) as exc:
            _refused(request, exc)
        return HttpResponseRedirect(reverse("limits-customer", args=[pk]))


class PolicyView(TenantViewMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        org = request.organization  # type: ignore[attr-defined]
        policy = services.policy_current(org)
        return render(request, "limits/policy.html", {
            "section": "limits", "policy": policy, "grades": [rules.grade_rule(policy, g) for g in rules.GRADES],
            "can_edit": has_capability(request, Cap.POLICY_EDIT)})

    def post(self, request: HttpRequest) -> HttpResponse:
        require_capability(request, Cap.POLICY_EDIT)
        org = request.organization  # type: ignore[attr-defined]
        form = ReasonForm(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
        else:
            on = request.POST.get("downturn") == "1"
            services.policy_set_downturn(organization=org, on=on, actor=request.user,
                                         reason=form.cleaned_data["reason"])
            messages.success(request, _("Downturn mode is on.") if on else _("Downturn mode is off."))
        return HttpResponseRedirect(reverse("limits-policy"))
