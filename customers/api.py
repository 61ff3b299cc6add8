from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext
from rest_framework import mixins, viewsets

from credit_platform.api import TenantAPIMixin
from credit_platform.errors import AppError, ErrorCode
from credit_platform.roles import Cap

from .models import Customer, FinancialStatement
from .serializers import CustomerSerializer, FinancialStatementSerializer
from .services import customer_save, statement_create


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="name, external id or registration number")

    class Meta:
        model = Customer
        fields = ["status", "country", "sector", "size", "currency", "external_id"]

    def search(self, queryset: Any, name: str, value: str) -> Any:
        from django.db.models import Q

        return queryset.filter(
            Q(legal_name__icontains=value) | Q(external_id__iexact=value) | Q(registration_number__iexact=value)
        )


class CustomerViewSet(
    TenantAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    """Customers of the caller's organization. Writes are audited (status, credit limit)."""

    queryset = Customer.objects.select_related("country", "sector", "group")
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    write_capability = Cap.CUSTOMERS_EDIT

    def perform_create(self, serializer: Any) -> None:
        org = self.request.organization
        ext = serializer.validated_data["external_id"]
        existing = Customer.objects.for_organization(org).filter(external_id=ext).first()
        if existing is not None:
            raise AppError(
                ErrorCode.CONFLICT, gettext("external_id '%(ext)s' already exists (customer id %(pk)s); update it "
                                            "with PATCH /api/v1/customers/%(pk)s/") % {
                    'ext': ext, 'pk': existing.pk}, details={"id": existing.pk}, status=409,
            )
        self._save(Customer(organization=org, **serializer.validated_data), serializer)

    def perform_update(self, serializer: Any) -> None:
        customer = serializer.instance
        for key, value in serializer.validated_data.items():
            setattr(customer, key, value)
        self._save(customer, serializer)

    def _save(self, customer: Customer, serializer: Any) -> None:
        serializer.instance = customer_save(customer=customer, actor=self.request.user, reason="api")


class FinancialStatementViewSet(
    TenantAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = FinancialStatement.objects.select_related("customer")
    serializer_class = FinancialStatementSerializer
    filterset_fields = ["period_end"]
    write_capability = Cap.CUSTOMERS_EDIT

    def perform_create(self, serializer: Any) -> None:
        values = dict(serializer.validated_data)
        customer = values.pop("customer")
        serializer.instance = statement_create(customer=customer, actor=self.request.user, reason="api", **values)
