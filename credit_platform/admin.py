from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .admin_base import ReadOnlyTenantAdmin, TenantAdmin
from .models import AuditEntry, FXRate, ImportLog, Membership, Organization
from .permissions import has_capability
from .roles import Cap
from .services import (
    MEMBERSHIP_FIELDS,
    ORGANIZATION_FIELDS,
    fx_rate_delete,
    fx_rate_save,
    membership_grant,
    membership_invite,
    membership_revoke,
    membership_update,
    organization_create,
    organization_update,
    user_find,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Members see their own organization; its admins may change name, base currency and time zone.
    Creation and changes go through ``organization_create`` / ``organization_update`` (audited)."""

    list_display = ["name", "slug", "base_currency", "time_zone", "is_active"]
    search_fields = ["name", "slug"]

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        org = getattr(request, "organization", None)
        return qs.filter(pk=org.pk) if org else qs.none()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["slug"] if obj is not None else []

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
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in ORGANIZATION_FIELDS}
            organization_update(organization=obj, actor=request.user, reason="admin", **changes)
            return
        data = form.cleaned_data
        org = organization_create(name=data["name"], slug=data["slug"], base_currency=data["base_currency"],
                                  time_zone=data["time_zone"], actor=request.user)
        TenantAdmin.adopt(obj, org)


class MembershipInviteForm(forms.ModelForm):
    """An organization admin adds a person by username or e-mail (an exact match: other tenants' users
    are never listed), or creates the account when none matches."""

    identifier = forms.CharField(label=_("Username or e-mail"), max_length=254)
    email = forms.EmailField(label=_("E-mail (new account)"), required=False)
    password = forms.CharField(label=_("Password (new account)"), required=False, strip=False,
                               widget=forms.PasswordInput(render_value=False),
                               help_text=_("Only when no account has this username or e-mail."))
    organization: Organization | None = None

    class Meta:
        model = Membership
        fields = ["role", "approval_limit"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        identifier = data.get("identifier", "")
        if not identifier:
            return data
        user = user_find(identifier)
        if user is not None:
            if Membership.objects.filter(user=user, organization=self.organization).exists():
                self.add_error("identifier", _("%(user)s is already a member of this organization.")
                               % {"user": user.get_username()})
            return data
        password = data.get("password", "")
        if not password:
            self.add_error("password", _("No account has this username or e-mail: give a password to create it."))
            return data
        candidate = get_user_model()(username=identifier.strip(), email=data.get("email") or "")
        try:
            candidate.full_clean(exclude=["password"])
            validate_password(password, candidate)
        except ValidationError as exc:
            self.add_error("password" if not hasattr(exc, "error_dict") else None, exc)
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Organization admins manage their own organization's members; every grant, change and removal goes
    through ``membership_invite`` / ``membership_grant`` / ``membership_update`` / ``membership_revoke``."""

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

    def _invites(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None and not request.user.is_superuser

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if self._invites(request, obj):
            return [(None, {"fields": ["identifier", "email", "password", "role", "approval_limit"]})]
        return super().get_fieldsets(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if self._invites(request, obj):
            org = getattr(request, "organization", None)
            return type("MembershipInviteForm", (MembershipInviteForm,), {"organization": org})
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return ["user", "organization"]
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
        data = form.cleaned_data
        if change:
            changes = {f: data[f] for f in form.changed_data if f in MEMBERSHIP_FIELDS}
            membership_update(membership=obj, actor=request.user, reason="admin", **changes)
            return
        if self._invites(request, None):
            saved = membership_invite(
                organization=request.organization,  # type: ignore[attr-defined]
                identifier=data["identifier"], email=data.get("email") or "", password=data.get("password") or "",
                role=data["role"], approval_limit=data.get("approval_limit"), actor=request.user, reason="admin",
            )
        else:
            saved = membership_grant(organization=data["organization"], user=data["user"], role=data["role"],
                                     approval_limit=data.get("approval_limit"), actor=request.user, reason="admin")
        obj.user, obj.organization = saved.user, saved.organization
        TenantAdmin.adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_revoke(membership=obj, actor=request.user, reason="admin")

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for membership in queryset:
            self.delete_model(request, membership)


@admin.register(FXRate)
class FXRateAdmin(TenantAdmin):
    change_capability = Cap.ORG_ADMIN
    delete_capability = Cap.ORG_ADMIN
    list_display = ["currency", "rate_date", "rate", "source"]
    list_filter = ["currency"]
    date_hierarchy = "rate_date"

    def save_model(self, request: HttpRequest, obj: FXRate, form: Any, change: bool) -> None:
        if not change:
            obj.organization = request.organization  # type: ignore[attr-defined]
        fx_rate_save(rate=obj, actor=request.user, reason="admin")

    def delete_model(self, request: HttpRequest, obj: FXRate) -> None:
        fx_rate_delete(rate=obj, actor=request.user, reason="admin")


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
