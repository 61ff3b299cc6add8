from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from credit_platform.audit import audit_append

from .admin_base import ReadOnlyTenantAdmin, TenantAdmin
from .models import AuditEntry, FXRate, ImportLog, Membership, Organization
from .permissions import has_capability
from .roles import STAFF_ROLES, Cap


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Members see their own organization; its admins may change name, base currency and time zone."""

    list_display = ["name", "slug", "base_currency", "time_zone", "is_active"]
    search_fields = ["name", "slug"]

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        org = getattr(request, "organization", None)
        return qs.filter(pk=org.pk) if org else qs.none()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or has_capability(request, Cap.VIEW)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or has_capability(request, Cap.ORG_ADMIN)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        before = {f: form.initial.get(f) for f in form.changed_data} if change else None
        super().save_model(request, obj, form, change)
        audit_append(
            organization=obj, actor=request.user, action="organization.changed" if change else "organization.created",
            obj=obj, before=before, after={f: form.cleaned_data.get(f) for f in form.changed_data},
        )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "approval_limit", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request).select_related("user", "organization")
        if request.user.is_superuser:
            return qs
        org = getattr(request, "organization", None)
        return qs.filter(organization=org) if org else qs.none()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if request.user.is_superuser else ["organization"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or has_capability(request, Cap.ORG_ADMIN)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if not request.user.is_superuser:
            obj.organization = request.organization  # type: ignore[attr-defined]
        before = {f: form.initial.get(f) for f in form.changed_data} if change else None
        super().save_model(request, obj, form, change)
        if obj.role in STAFF_ROLES and not obj.user.is_staff:
            obj.user.is_staff = True
            obj.user.save(update_fields=["is_staff"])
        audit_append(
            organization=obj.organization, actor=request.user,
            action="membership.changed" if change else "membership.created", obj=obj, before=before,
            after={"user": obj.user.get_username(), "role": obj.role, "approval_limit": obj.approval_limit,
                   "is_active": obj.is_active},
        )


@admin.register(FXRate)
class FXRateAdmin(TenantAdmin):
    change_capability = Cap.ORG_ADMIN
    delete_capability = Cap.ORG_ADMIN
    list_display = ["currency", "rate_date", "rate", "source"]
    list_filter = ["currency"]
    date_hierarchy = "rate_date"


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyTenantAdmin):
    view_capability = Cap.AUDIT_VIEW
    list_display = ["seq", "created_at", "actor_label", "action", "object_type", "object_id", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "object_repr", "actor_label", "action"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]


@admin.register(ImportLog)
class ImportLogAdmin(ReadOnlyTenantAdmin):
    list_display = ["created_at", "kind", "file_name", "status", "rows", "created", "updated", "unchanged",
                    "error_count", "user"]
    list_filter = ["kind", "status"]
    search_fields = ["file_name", "file_sha256"]
    readonly_fields = [f.name for f in ImportLog._meta.fields]
