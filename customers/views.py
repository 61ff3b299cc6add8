from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import DetailView, TemplateView

from credit_platform.bounds import parse_date_param
from credit_platform.exports import export_format, export_response
from credit_platform.permissions import TenantViewMixin, has_capability
from credit_platform.roles import Cap

from .dossier import customer_dossier
from .listing import CustomerQuery, customer_listing
from .models import Country, Customer, Sector
from .report import credit_report_pdf
from .selectors import customer_360


def as_of_param(request: Any) -> Any:
    """The ``as_of`` of the query string (a past book as it stood), else the organization's today."""
    return parse_date_param(request.GET.get("as_of", "")) or request.organization.local_date()


class CustomerListView(TenantViewMixin, TemplateView):
    template_name = "customers/list.html"

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        fmt = export_format(request)
        if fmt:
            return self.export(fmt)
        return super().get(request, *args, **kwargs)

    def export(self, fmt: str) -> HttpResponse:
        org = self.request.organization
        as_of = as_of_param(self.request)
        listing = customer_listing(org, CustomerQuery.from_params(self.request.GET), as_of, page_size=None)
        base = org.base_currency
        headers = [_("Customer"), _("External id"), _("Country"), _("Sector"), _("Status"), _("Grade"), _("PD"),
                   _("Exposure (%(currency)s)") % {"currency": base}, _("Overdue (%(currency)s)") % {"currency": base},
                   _("Days past due"), _("Credit limit (%(currency)s)") % {"currency": base}, _("Limit use (%)"),
                   _("Grade trend"), _("Collector"), _("Open alerts"), _("As of")]
        trend = {"up": _("worse"), "down": _("better"), "": ""}
        rows = (
            [r.customer.legal_name, r.customer.external_id, r.customer.country_id, r.customer.sector_id,
             r.customer.get_status_display(), r.grade, r.pd, r.exposure, r.overdue, r.max_dpd, r.limit_base,
             round(r.use, 1) if r.use is not None else None, trend[r.trend], r.collector,
             _("yes") if r.has_alerts else _("no"), as_of]
            for r in listing.rows
        )
        return export_response(fmt, f"customers-{as_of.isoformat()}", headers, rows)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org, params = self.request.organization, self.request.GET
        as_of = as_of_param(self.request)
        query = CustomerQuery.from_params(params)
        listing = customer_listing(org, query, as_of, page=params.get("page"))
        used = Customer.objects.for_organization(org)
        keep = params.copy()
        keep.pop("page", None)
        unsorted = keep.copy()
        unsorted.pop("sort", None)
        context.update({
            "as_of": as_of,
            "today": org.local_date(),
            "query": query,
            "rows": listing.rows,
            "page_obj": listing.page,
            "paginator": listing.page.paginator,
            "count": listing.count,
            "statuses": Customer.Status.choices,
            "sizes": Customer.Size.choices,
            "grades": range(1, 11),
            "sectors": Sector.objects.filter(pk__in=used.values("sector_id")),
            "countries": Country.objects.filter(pk__in=used.values("country_id")),
            "collectors": get_user_model().objects.filter(
                collection_profiles__organization=org).distinct().order_by("username"),
            "params": params,
            "querystring": keep.urlencode(),
            "sort_base": unsorted.urlencode(),
        })
        return context


class CustomerDetailView(TenantViewMixin, DetailView):
    model = Customer
    template_name = "customers/detail.html"
    context_object_name = "customer"

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("country", "sector", "group")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        as_of = as_of_param(self.request)
        context["as_of"] = as_of
        context["today"] = self.request.organization.local_date()
        org = self.request.organization
        context.update(customer_360(org, self.object, as_of))
        context.update(customer_dossier(org, self.object, as_of))
        context["can_work"] = has_capability(self.request, Cap.COLLECTIONS)
        context["can_audit"] = has_capability(self.request, Cap.AUDIT_VIEW) or has_capability(
            self.request, Cap.CUSTOMERS_EDIT)
        return context


class CustomerReportView(TenantViewMixin, DetailView):
    """The credit report of one customer as a PDF, in the reader's language (``?lang=en|zh-hans``)."""

    model = Customer

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("country", "sector", "group")

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        customer = self.get_object()
        language = request.GET.get("lang") or get_language() or "en"
        if language not in dict(settings.LANGUAGES):
            language = "en"
        as_of = as_of_param(request)
        pdf = credit_report_pdf(request.organization, customer, as_of, language)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(
            False, f"credit-report-{customer.external_id}-{as_of.isoformat()}.pdf") or ""
        return response
