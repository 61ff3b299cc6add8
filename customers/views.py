from __future__ import annotations

from typing import Any

from django.views.generic import DetailView, ListView

from credit_platform.permissions import TenantViewMixin

from .models import Country, Customer, Sector
from .selectors import customer_360, customer_list, page_balances

FILTERS = {"status": "status", "sector": "sector_id", "country": "country_id", "size": "size"}


class CustomerListView(TenantViewMixin, ListView):
    model = Customer
    template_name = "customers/list.html"
    paginate_by = 50

    def get_queryset(self) -> Any:
        params = self.request.GET
        filters = {field: params.get(name, "") for name, field in FILTERS.items()}
        return customer_list(self.request.organization, q=params.get("q", "").strip(), filters=filters)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        as_of = self.request.organization.local_date()
        context["rows"] = page_balances(self.request.organization, list(context["object_list"]), as_of)
        context["statuses"] = Customer.Status.choices
        context["sizes"] = Customer.Size.choices
        used = Customer.objects.for_organization(self.request.organization)
        context["sectors"] = Sector.objects.filter(pk__in=used.values("sector_id"))
        context["countries"] = Country.objects.filter(pk__in=used.values("country_id"))
        context["params"] = self.request.GET
        query = self.request.GET.copy()
        query.pop("page", None)
        context["querystring"] = query.urlencode()
        return context


class CustomerDetailView(TenantViewMixin, DetailView):
    model = Customer
    template_name = "customers/detail.html"
    context_object_name = "customer"

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("country", "sector", "group")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        as_of = self.request.organization.local_date()
        context["as_of"] = as_of
        context.update(customer_360(self.request.organization, self.object, as_of))
        return context
