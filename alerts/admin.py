from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from credit_platform.admin_base import TenantAdmin
from credit_platform.permissions import has_capability
from credit_platform.roles import Cap

from .models import Alert, WebhookDelivery, WebhookEndpoint
from .services import alert_set_status


@admin.register(Alert)
class AlertAdmin(TenantAdmin):
    """Alerts are raised by rules; people acknowledge and resolve them (audited)."""

    list_display = ["title", "kind", "severity", "status", "customer", "occurrences", "last_raised_at"]
    list_filter = ["status", "severity", "kind"]
    search_fields = ["title", "dedup_key", "customer__legal_name"]
    list_select_related = ["customer"]
    readonly_fields = ["kind", "severity", "customer", "title", "details", "status", "dedup_key", "occurrences",
                       "created_at", "last_raised_at", "resolved_at", "resolved_by"]
    actions = ["acknowledge", "resolve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _set(self, request: HttpRequest, queryset: Any, status: str) -> None:
        for alert in queryset:
            alert_set_status(alert=alert, status=status, actor=request.user, reason="admin")
        self.message_user(request, f"{queryset.count()} alert(s) {status}.")

    @admin.action(description="Acknowledge selected alerts", permissions=["work"])
    def acknowledge(self, request: HttpRequest, queryset: Any) -> None:
        self._set(request, queryset, Alert.Status.ACKNOWLEDGED)

    @admin.action(description="Resolve selected alerts", permissions=["work"])
    def resolve(self, request: HttpRequest, queryset: Any) -> None:
        self._set(request, queryset, Alert.Status.RESOLVED)

    def has_work_permission(self, request: HttpRequest) -> bool:
        return has_capability(request, Cap.COLLECTIONS) or has_capability(request, Cap.POLICY_EDIT)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantAdmin):
    """Integrators' receivers; saved through ``webhook_endpoint_save`` (administrators, in the ledger)."""

    list_display = ["url", "events", "is_active", "created_at"]
    fields = ["url", "secret", "events", "is_active"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from .webhooks import webhook_endpoint_save

        if obj.organization_id is None:
            obj.organization = request.organization  # type: ignore[attr-defined]
        webhook_endpoint_save(endpoint=obj, actor=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantAdmin):
    """The delivery log; failed deliveries can be sent again."""

    list_display = ["event", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = ["endpoint", "event", "payload", "status", "attempts", "next_attempt_at", "last_status_code",
                       "last_error", "delivered_at", "created_at"]
    actions = ["redeliver"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Deliver again")
    def redeliver(self, request: HttpRequest, queryset: Any) -> None:
        from .webhooks import webhook_redeliver

        for delivery in queryset:
            webhook_redeliver(delivery=delivery, actor=request.user)
        self.message_user(request, f"{queryset.count()} delivery(ies) queued again.")
