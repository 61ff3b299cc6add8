from __future__ import annotations

from typing import Any

import django_filters

from credit_platform.api import TenantReadOnlyViewSet

from .models import Invoice, Payment
from .serializers import InvoiceSerializer, PaymentSerializer


class InvoiceFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(field_name="customer__external_id")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lt")
    is_open = django_filters.BooleanFilter(method="filter_open", label="only invoices with an open balance")

    class Meta:
        model = Invoice
        fields = ["number", "currency"]

    def filter_open(self, queryset: Any, name: str, value: bool) -> Any:
        return queryset.filter(open_amount__gt=0) if value else queryset.filter(open_amount__lte=0)


class InvoiceViewSet(TenantReadOnlyViewSet):
    """Invoices with their open balance (amount minus payments and credit notes applied)."""

    queryset = Invoice.objects.select_related("customer").with_balances()
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter


class PaymentViewSet(TenantReadOnlyViewSet):
    queryset = Payment.objects.select_related("customer").with_unapplied()
    serializer_class = PaymentSerializer
    filterset_fields = ["reference", "currency"]
