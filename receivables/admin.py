from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from credit_platform.admin_base import ReadOnlyTenantAdmin, TenantAdmin
from credit_platform.roles import Cap

from .models import Allocation, CreditNote, Invoice, Order, Payment


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
            return queryset.filter(open_amount__gt=0, due_date__lt=timezone.localdate())
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
        return super().get_queryset(request).with_balances()

    @admin.display(description="Open", ordering="open_amount")
    def open_amount(self, obj: Invoice) -> Any:
        return getattr(obj, "open_amount", None)

    @admin.display(description="Days past due")
    def days_past_due(self, obj: Invoice) -> int:
        return obj.days_past_due(timezone.localdate(), getattr(obj, "open_amount", None))


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
