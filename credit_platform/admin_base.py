"""The admin's tenancy: every ModelAdmin of tenant-owned data inherits ``TenantAdmin``.

Querysets, foreign-key choices and autocomplete are scoped to the user's organization; another
tenant's object answers 404; permissions come from the member's role capabilities, not from Django's
per-model permission table (one source of truth for pages, API and admin).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from .permissions import has_capability
from .roles import Cap
from .tenancy import TenantOwned


@admin.display(description="Currency", ordering="currency")
def currency_code(obj: Any) -> str:
    return obj.currency


class TenantAdmin(admin.ModelAdmin):
    """Filters list only values the organization uses (its 3 currencies, not ISO 4217's 180) and
    currencies show as codes."""

    view_capability: str = Cap.VIEW
    change_capability: str | None = None
    delete_capability: str | None = None
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> Any:
        qs: Any = super().get_queryset(request)
        org = getattr(request, "organization", None)
        return qs.for_organization(org) if org is not None else qs.none()

    def get_list_filter(self, request: HttpRequest) -> Any:
        out: list[Any] = []
        for spec in super().get_list_filter(request):
            if spec == "currency":
                out.append(("currency", admin.AllValuesFieldListFilter))
            elif spec in ("country", "sector", "customer", "group"):
                out.append((spec, admin.RelatedOnlyFieldListFilter))
            else:
                out.append(spec)
        return out

    def get_list_display(self, request: HttpRequest) -> Any:
        return [currency_code if f == "currency" else f for f in super().get_list_display(request)]

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """A list address whose filters, sort or page cannot be applied (an unknown field, a year of 20
        digits) answers 400 saying so, rather than a redirect to an error flag or a 500."""
        try:
            return super().get_changelist_instance(request)
        except (IncorrectLookupParameters, OverflowError, ValueError) as exc:
            raise BadRequest(_("The list's filter, sort or page in the address is not valid: %(reason)s") % {
                "reason": str(exc)[:200] or type(exc).__name__}) from None

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Another organization's object is as absent as a missing one: 404, not a redirect.
            raise Http404("No such object in your organization.")
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_capability(request, self.view_capability)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_capability(request, self.view_capability)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.change_capability is not None and has_capability(request, self.change_capability)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.delete_capability is not None and has_capability(request, self.delete_capability)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        org = getattr(request, "organization", None)
        if isinstance(related, type) and issubclass(related, TenantOwned) and org is not None:
            kwargs["queryset"] = related.objects.for_organization(org)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        base = super().get_form(request, obj, change, **kwargs)
        org = getattr(request, "organization", None)

        class TenantForm(base):  # type: ignore[valid-type, misc]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                if self.instance.organization_id is None and org is not None:
                    self.instance.organization = org

            def _get_validation_exclusions(self) -> Any:
                # Validate unique constraints that include the organization (e.g. external ids).
                excluded = super()._get_validation_exclusions()
                excluded.discard("organization")
                return excluded

        return TenantForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.organization = request.organization  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)


class ReadOnlyTenantAdmin(TenantAdmin):
    """Records that are written by services only (ledger, logs, allocations)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
