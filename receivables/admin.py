from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import DateField, Value
from django.http import HttpRequest

from credit_platform.admin_base import ReadOnlyTenantAdmin, TenantAdmin
from credit_platform.audit import audit_append
from credit_platform.permissions import has_capability
from credit_platform.roles import Cap

from .models import (
    Allocation,
    CallNote,
    CollectionProfile,
    CollectionTask,
    CreditNote,
    Dispute,
    DunningAction,
    DunningLevel,
    DunningMessage,
    DunningPolicy,
    DunningRun,
    EclSettings,
    EclSnapshot,
    Invoice,
    Order,
    Payment,
    PromiseInvoice,
    PromiseToPay,
    StatementDispatch,
)


class AllocationInline(admin.TabularInline):
    model = Allocation
    fk_name = "invoice"
    extra = 0
    fields = ("allocated_on", "amount", "payment", "credit_note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(TenantAdmin):
    change_capability = Cap.RECEIVABLES_EDIT
    list_display = ["number", "customer", "order_date", "amount", "currency", "status"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "order_date"


class InvoiceStateFilter(admin.SimpleListFilter):
    """Open / overdue / settled, from the derived open balance (annotated by get_queryset)."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open"), ("overdue", "Overdue"), ("settled", "Settled")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "open":
            return queryset.filter(open_amount__gt=0)
        if self.value() == "overdue":
            return queryset.filter(open_amount__gt=0, due_date__lt=request.organization.local_date())  # type: ignore[attr-defined]
        if self.value() == "settled":
            return queryset.filter(open_amount__lte=0)
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(TenantAdmin):
    change_capability = Cap.RECEIVABLES_EDIT
    list_display = ["number", "customer", "issue_date", "due_date", "amount", "currency", "open_amount",
                    "days_past_due"]
    list_filter = [InvoiceStateFilter, "currency", "due_date"]
    search_fields = ["number", "customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "order"]
    readonly_fields = ["open_amount", "days_past_due"]
    inlines = [AllocationInline]
    date_hierarchy = "issue_date"

    def get_queryset(self, request: HttpRequest) -> Any:
        # Balances as of the organization's business date (receivables.balances), which rides on each row,
        # so the days-past-due column needs no per-request state.
        today = request.organization.local_date()  # type: ignore[attr-defined]
        business_date = Value(today, output_field=DateField())
        return super().get_queryset(request).with_balances(today).annotate(business_date=business_date)

    @admin.display(description="Open", ordering="open_amount")
    def open_amount(self, obj: Invoice) -> Any:
        return getattr(obj, "open_amount", None)

    @admin.display(description="Days past due")
    def days_past_due(self, obj: Invoice) -> int:
        return obj.days_past_due(obj.business_date, getattr(obj, "open_amount", None))  # type: ignore[attr-defined]


@admin.register(Payment)
class PaymentAdmin(TenantAdmin):
    change_capability = Cap.RECEIVABLES_EDIT
    list_display = ["reference", "customer", "received_on", "amount", "currency", "method", "unapplied"]
    list_filter = ["method", "currency"]
    search_fields = ["reference", "customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["unapplied"]
    date_hierarchy = "received_on"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).with_unapplied()


@admin.register(CreditNote)
class CreditNoteAdmin(TenantAdmin):
    change_capability = Cap.RECEIVABLES_EDIT
    list_display = ["number", "customer", "issue_date", "amount", "currency", "reason"]
    search_fields = ["number", "customer__legal_name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyTenantAdmin):
    list_display = ["invoice", "allocated_on", "amount", "payment", "credit_note"]
    search_fields = ["invoice__number", "payment__reference", "credit_note__number"]
    list_select_related = ["invoice", "payment", "credit_note"]


# --- collections ----------------------------------------------------------------------------------


class DunningLevelInline(admin.StackedInline):
    model = DunningLevel
    extra = 0
    fields = ["days", "name", "is_active", "send_message", "task", "credit_hold", "subject_en", "body_en",
              "subject_zh", "body_zh"]


@admin.register(DunningPolicy)
class DunningPolicyAdmin(TenantAdmin):
    """Edits here are audited like the page's: a policy change is a credit decision."""

    change_capability = Cap.POLICY_EDIT
    list_display = ["name", "is_default", "min_amount", "run_hour", "promise_grace_days"]
    inlines = [DunningLevelInline]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        fields = ("name", "min_amount", "run_hour", "promise_grace_days")
        audit_append(organization=obj.organization_id, actor=request.user, action="dunning.policy_changed",
                     obj=obj, after={f: getattr(obj, f) for f in fields}, reason="admin")

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for level in formset.save(commit=False):
            level.organization_id = form.instance.organization_id
            level.save()
            audit_append(organization=level.organization_id, actor=request.user,
                         action="dunning.level_changed",
                         obj=level, after={"days": level.days, "name": level.name, "task": level.task,
                                           "credit_hold": level.credit_hold, "is_active": level.is_active},
                         reason="admin")
        for level in formset.deleted_objects:
            level.delete()
        formset.save_m2m()


@admin.register(CollectionProfile)
class CollectionProfileAdmin(TenantAdmin):
    change_capability = Cap.COLLECTIONS
    list_display = ["customer", "collector", "policy", "do_not_dun", "language", "statement_monthly"]
    list_filter = ["do_not_dun", "statement_monthly", "language"]
    search_fields = ["customer__legal_name", "customer__external_id"]
    list_select_related = ["customer", "collector", "policy"]
    autocomplete_fields = ["customer"]


@admin.register(DunningRun)
class DunningRunAdmin(ReadOnlyTenantAdmin):
    list_display = ["run_date", "status", "attempts", "actions", "messages", "tasks", "holds",
                    "promises_broken",
                    "started_at", "finished_at"]
    list_filter = ["status"]
    date_hierarchy = "run_date"


@admin.register(DunningAction)
class DunningActionAdmin(ReadOnlyTenantAdmin):
    list_display = ["run_date", "invoice", "customer", "level", "open_amount", "currency"]
    list_select_related = ["invoice", "customer", "level"]
    search_fields = ["invoice__number", "customer__external_id"]
    show_full_result_count = False  # millions of rows: no COUNT(*) per page


@admin.register(DunningMessage)
class DunningMessageAdmin(ReadOnlyTenantAdmin):
    list_display = ["created_at", "customer", "level", "language", "to_email", "status", "attempts",
                    "sent_at"]
    list_filter = ["status", "language"]
    list_select_related = ["customer", "level"]
    search_fields = ["customer__external_id", "to_email"]
    show_full_result_count = False


@admin.register(CollectionTask)
class CollectionTaskAdmin(TenantAdmin):
    change_capability = Cap.COLLECTIONS
    list_display = ["due_date", "kind", "status", "customer", "assigned_to", "title"]
    list_filter = ["status", "kind"]
    list_select_related = ["customer", "assigned_to"]
    search_fields = ["customer__legal_name", "customer__external_id", "title"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["run", "completed_at", "completed_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """A hand-over of the managers' queue is closed by a credit manager only (as on the pages)."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_managers_handover and not has_capability(request, Cap.POLICY_EDIT):
            fields += ["status", "assigned_to"]
        return fields


class PromiseInvoiceInline(admin.TabularInline):
    model = PromiseInvoice
    extra = 0
    fields = ("invoice", "open_amount")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PromiseToPay)
class PromiseToPayAdmin(ReadOnlyTenantAdmin):
    """Promises are made on a customer's collections page or through the API (``promise_create``: the
    policy's horizon, the invoices covered, the ledger entry); here they are read."""

    list_display = ["customer", "made_on", "promised_date", "amount", "currency", "status", "received"]
    list_filter = ["status"]
    list_select_related = ["customer"]
    search_fields = ["customer__legal_name", "customer__external_id", "coverage__invoice__number"]
    inlines = [PromiseInvoiceInline]


@admin.register(Dispute)
class DisputeAdmin(TenantAdmin):
    change_capability = Cap.COLLECTIONS
    list_display = ["invoice", "customer", "reason", "amount", "status", "opened_on", "resolved_on"]
    list_filter = ["status", "reason"]
    list_select_related = ["customer", "invoice"]
    search_fields = ["invoice__number", "customer__legal_name", "customer__external_id"]
    autocomplete_fields = ["customer", "invoice"]


@admin.register(CallNote)
class CallNoteAdmin(TenantAdmin):
    change_capability = Cap.COLLECTIONS
    list_display = ["contacted_at", "customer", "author", "outcome", "next_action_on"]
    list_filter = ["outcome"]
    list_select_related = ["customer", "author"]
    search_fields = ["customer__legal_name", "customer__external_id", "note"]
    autocomplete_fields = ["customer"]


@admin.register(StatementDispatch)
class StatementDispatchAdmin(ReadOnlyTenantAdmin):
    list_display = ["created_at", "customer", "as_of", "kind", "to_email", "status", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["customer"]


@admin.register(EclSettings)
class EclSettingsAdmin(TenantAdmin):
    change_capability = Cap.POLICY_EDIT
    list_display = ["lookback_periods", "segment_by", "forward_factor", "recovery_rate", "updated_at"]


@admin.register(EclSnapshot)
class EclSnapshotAdmin(ReadOnlyTenantAdmin):
    list_display = ["as_of", "total", "collective", "individual", "base_currency", "created_by", "created_at"]
