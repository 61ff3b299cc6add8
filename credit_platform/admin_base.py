"""The admin's tenancy: every ModelAdmin of tenant-owned data inherits ``TenantAdmin``.

Querysets, foreign-key choices and autocomplete are scoped to the user's organization; another
tenant's object answers 404; permissions come from the member's role capabilities, not from Django's
per-model permission table (one source of truth for pages, API and admin).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.core.exceptions import BadRequest, ImproperlyConfigured, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from .errors import AppError
from .models import Membership
from .permissions import has_capability
from .roles import Cap
from .tenancy import TenantOwned


def organization_users(organization: Any) -> Any:
    """The people who may be named on a tenant's record (collector, assignee...): its active members,
    never the users of other tenants."""
    ids = Membership.objects.filter(organization=organization, is_active=True).values("user_id")
    return get_user_model().objects.filter(pk__in=ids).order_by("username")


def is_user_model(model: Any) -> bool:
    return isinstance(model, type) and getattr(model, "_meta", None) is not None and \
        model._meta.label == settings.AUTH_USER_MODEL  # type: ignore[attr-defined]


class CorrectionForm(forms.ModelForm):
    """The admin form of a posted record: a change needs a reason, which goes to the ledger with the old
    and new values of what changed (the add form has no such field, see ``TenantAdmin.get_form``)."""

    correction_reason = forms.CharField(
        label=_("Reason for the correction"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the audit ledger with the old and new values."),
    )


@admin.display(description=gettext_lazy("Currency"), ordering="currency")
def currency_code(obj: Any) -> str:
    return obj.currency


class TenantAdmin(admin.ModelAdmin):
    """Filters list only values the organization uses (its 3 currencies, not ISO 4217's 180) and
    currencies show as codes."""

    view_capability: str = Cap.VIEW
    change_capability: str | None = None
    delete_capability: str | None = None
    # Fields a posted record keeps: read-only on its change form (a correction is a new document or an
    # audited correction of the other fields, never a silent rewrite).
    posted_readonly_fields: tuple[str, ...] = ()
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
            raise Http404(gettext('No such object in your organization.'))
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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [f for f in self.posted_readonly_fields if f not in fields]
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        org = getattr(request, "organization", None)
        if isinstance(related, type) and issubclass(related, TenantOwned) and org is not None:
            kwargs["queryset"] = related.objects.for_organization(org)
        elif is_user_model(related):
            kwargs["queryset"] = organization_users(org) if org is not None else get_user_model().objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None and "correction_reason" in getattr(self.form, "declared_fields", {}):
            # A new record is not a correction: its form has no reason field.
            kwargs.setdefault("form", type(self.form.__name__, (self.form,), {"correction_reason": None}))
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

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """A service that refuses a write (a rule the form could not check, e.g. a concurrent change) rolls
        the save back (the admin's transaction) and the form comes back with the reason, not a 500."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (AppError, ValidationError) as exc:
            if request.method != "POST":
                raise
            text = exc.message if isinstance(exc, AppError) else "; ".join(exc.messages)
            self.message_user(request, _("Nothing was saved: %(reason)s") % {"reason": text}, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Every admin write goes through its app's service (validated, audited): an admin that may add
        or change records says which by overriding this."""
        raise ImproperlyConfigured(f"{type(self).__name__} must save through a service (override save_model).")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        raise ImproperlyConfigured(f"{type(self).__name__} must delete through a service (override delete_model).")

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    @staticmethod
    def correction(form: Any, fields: tuple[str, ...]) -> tuple[dict[str, Any], str]:
        """The changed values among ``fields`` and the reason given for them."""
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in fields}
        return changes, form.cleaned_data.get("correction_reason", "")

    @staticmethod
    def adopt(obj: Any, saved: Any) -> None:
        """Point the admin's unsaved instance at the row a service created (for the redirect and log)."""
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db


class ReadOnlyTenantAdmin(TenantAdmin):
    """Records that are written by services only (ledger, logs, allocations)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
