from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from credit_platform.admin_base import CorrectionForm, TenantAdmin
from credit_platform.roles import Cap

from . import statements
from .models import Country, Customer, CustomerGroup, ExternalSignal, FinancialStatement, Sector
from .services import (
    SIGNAL_EDITABLE,
    STATEMENT_EDITABLE,
    customer_group_save,
    customer_save,
    signal_correct,
    signal_create,
    statement_correct,
    statement_create,
)


class ReferenceAdmin(admin.ModelAdmin):
    """Countries and sectors are shared reference data: everyone reads, platform operators edit."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Country)
class CountryAdmin(ReferenceAdmin):
    list_display = ["code", "name", "risk_level"]
    readonly_fields = ["risk_level"]  # dated changes: scoring's "risk level changes" (history for training)
    list_filter = ["risk_level"]
    search_fields = ["code", "name"]


@admin.register(Sector)
class SectorAdmin(ReferenceAdmin):
    list_display = ["code", "name", "risk_level"]
    readonly_fields = ["risk_level"]  # dated changes: scoring's "risk level changes" (history for training)
    list_filter = ["risk_level"]
    search_fields = ["code", "name"]


@admin.register(CustomerGroup)
class CustomerGroupAdmin(TenantAdmin):
    change_capability = Cap.CUSTOMERS_EDIT
    list_display = ["name", "external_id", "country"]
    search_fields = ["name", "external_id"]

    def save_model(self, request: HttpRequest, obj: CustomerGroup, form: Any, change: bool) -> None:
        if not change:
            obj.organization = request.organization  # type: ignore[attr-defined]
        customer_group_save(group=obj, actor=request.user, reason="admin")


class StatementInline(admin.TabularInline):
    model = FinancialStatement
    extra = 0
    fields = ("period_end", "currency", "revenue", "ebit", "net_income", "total_assets", "equity")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CustomerAdminForm(forms.ModelForm):
    """The limit and terms are read-only (a decision writes them): a change is asked for here and becomes a
    limit request routed to the approvers; hold and block are placed as holds, not typed in as a status."""

    requested_credit_limit = forms.DecimalField(
        label=_("Request a new credit limit"), required=False, min_value=0, max_digits=18, decimal_places=2,
        help_text=_("In the customer's currency. Creates a limit request for approval; the limit changes when "
                    "it is approved."))
    requested_terms_days = forms.IntegerField(
        label=_("Request new payment terms (days)"), required=False, min_value=0, max_value=365)
    request_reason = forms.CharField(label=_("Reason for the request"), required=False, max_length=2000,
                                     widget=forms.Textarea(attrs={"rows": 2}))

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        before = self.instance.status if self.instance.pk else None
        held = (Customer.Status.ON_HOLD, Customer.Status.BLOCKED)
        if status != before and (status in held or before in held):
            raise forms.ValidationError(_("Credit hold and block are placed and lifted as holds (Credit limits > "
                                          "Holds), not by changing the status here."))
        return status

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        wants = data.get("requested_credit_limit") is not None or data.get("requested_terms_days") is not None
        if wants and not (data.get("request_reason") or "").strip():
            self.add_error("request_reason", _("Say why the limit or terms should change."))
        return data


@admin.register(Customer)
class CustomerAdmin(TenantAdmin):
    change_capability = Cap.CUSTOMERS_EDIT
    form = CustomerAdminForm
    posted_readonly_fields = ("payment_terms_days",)
    list_display = ["legal_name", "external_id", "country", "sector", "size", "status", "currency",
                    "credit_limit", "payment_terms_days"]
    list_filter = ["status", "size", "sector", "country", "currency"]
    search_fields = ["legal_name", "external_id", "registration_number", "email"]
    list_select_related = ["country", "sector"]
    autocomplete_fields = ["group", "country", "sector"]
    readonly_fields = ["credit_limit", "created_at", "updated_at"]
    inlines = [StatementInline]
    fieldsets = [
        (None, {"fields": ["external_id", "legal_name", "registration_number", "status"]}),
        ("Profile", {"fields": ["country", "sector", "size", "group", "customer_since"]}),
        ("Credit", {"fields": ["currency", "payment_terms_days", "credit_limit", "requested_credit_limit",
                               "requested_terms_days", "request_reason"]}),
        ("Contact", {"fields": ["email", "phone", "address"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        if not change:
            obj.organization = request.organization  # type: ignore[attr-defined]
        customer_save(customer=obj, actor=request.user, reason="admin")
        limit, terms = form.cleaned_data.get("requested_credit_limit"), form.cleaned_data.get("requested_terms_days")
        if limit is not None or terms is not None:
            from limits.models import LimitRequest
            from limits.services import limit_request_create

            limit_request_create(
                organization=request.organization,  # type: ignore[attr-defined]
                customer=obj, requested_limit=limit if limit is not None else (obj.credit_limit or Decimal(0)),
                requested_terms_days=terms, actor=request.user, source=LimitRequest.Source.ADMIN,
                reason=form.cleaned_data.get("request_reason", ""))
            self.message_user(request, _("A limit request was created; the limit changes when it is approved."))


@admin.register(FinancialStatement)
class FinancialStatementAdmin(TenantAdmin):
    """A statement's figures are corrected with a reason (``statement_correct``: old and new values in the
    ledger); its customer and period end are its identity."""

    change_capability = Cap.CUSTOMERS_EDIT
    form = CorrectionForm
    posted_readonly_fields = ("customer", "period_end")
    list_display = ["customer", "period_end", "currency", "revenue", "net_income", "total_assets", "equity",
                    "altman"]
    list_filter = ["period_end", "audited", "currency"]
    search_fields = ["customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["ratio_table"]
    date_hierarchy = "period_end"

    @admin.display(description=gettext_lazy("Altman Z''"))
    def altman(self, obj: FinancialStatement) -> str:
        z = obj.ratios["altman_z2"]
        return "-" if z is None else f"{z:.2f} ({statements.altman_zone(z)})"

    @admin.display(description=gettext_lazy("Ratios"))
    def ratio_table(self, obj: FinancialStatement) -> str:
        if obj.pk is None:
            return "-"
        rows = [(statements.RATIO_LABELS[k], "-" if v is None else f"{v:,.2f}") for k, v in obj.ratios.items()]
        return format_html_join("", "<div><b>{}</b>: {}</div>", rows)

    def save_model(self, request: HttpRequest, obj: FinancialStatement, form: Any, change: bool) -> None:
        if change:
            changes, reason = self.correction(form, STATEMENT_EDITABLE)
            statement_correct(statement=obj, changes=changes, actor=request.user, reason=reason)
            return
        values = {f: form.cleaned_data[f] for f in ("period_end", *STATEMENT_EDITABLE) if f in form.cleaned_data}
        self.adopt(obj, statement_create(customer=form.cleaned_data["customer"], actor=request.user, reason="admin",
                                         **values))


@admin.register(ExternalSignal)
class ExternalSignalAdmin(TenantAdmin):
    change_capability = Cap.CUSTOMERS_EDIT
    form = CorrectionForm
    posted_readonly_fields = ("customer", "kind", "source", "reference")
    list_display = ["customer", "kind", "observed_on", "severity", "value", "source", "title"]
    list_filter = ["kind", "severity", "source"]
    search_fields = ["customer__legal_name", "customer__external_id", "title", "reference"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "observed_on"

    def save_model(self, request: HttpRequest, obj: ExternalSignal, form: Any, change: bool) -> None:
        if change:
            changes, reason = self.correction(form, SIGNAL_EDITABLE)
            signal_correct(signal=obj, changes=changes, actor=request.user, reason=reason)
            return
        values = {f: form.cleaned_data[f] for f in ("kind", "source", "reference", *SIGNAL_EDITABLE)
                  if f in form.cleaned_data}
        self.adopt(obj, signal_create(customer=form.cleaned_data["customer"], actor=request.user, reason="admin",
                                      **values))
