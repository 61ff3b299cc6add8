from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
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
    """Customers of the caller's organization. Writes are audited. A ``credit_limit`` (or, on an update, new
    ``payment_terms_days``) sent here becomes a limit request for the approvers; hold and block statuses
    are refused (they are holds: ``/api/v1/limits/holds/``)."""

    queryset = Customer.objects.select_related("country", "sector", "group")
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    write_capability = Cap.CUSTOMERS_EDIT

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with transaction.atomic():  # the customer and its limit request: both or neither
            return self._with_request(super().create(request, *args, **kwargs))

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with transaction.atomic():
            return self._with_request(super().update(request, *args, **kwargs))

    def _with_request(self, response: Any) -> Any:
        """A limit or terms sent with a customer becomes a limit request: the answer names it, and the
        customer's ``credit_limit`` stays what the last decision set."""
        made = getattr(self, "_limit_request", None)
        if made is not None and isinstance(response.data, dict):
            response.data["limit_request"] = {"id": made.pk, "status": made.status,
                                              "requested_limit": str(made.requested_limit),
                                              "requested_terms_days": made.requested_terms_days,
                                              "approvers_required": made.approvers_required}
        return response

    def _pop_credit_terms(self, serializer: Any, customer: Customer | None) -> tuple[Any, Any]:
        data = serializer.validated_data
        limit = data.pop("credit_limit", None)
        terms = data.pop("payment_terms_days", None) if customer is not None else None
        current_limit = customer.credit_limit if customer is not None else None
        if limit is not None and limit == current_limit:
            limit = None
        if terms is not None and customer is not None and terms == customer.payment_terms_days:
            terms = None
        return limit, terms

    def _request_limit(self, customer: Customer, limit: Any, terms: Any) -> None:
        if limit is None and terms is None:
            return
        from decimal import Decimal

        from limits.models import LimitRequest
        from limits.services import limit_request_create

        self._limit_request = limit_request_create(
            organization=self.request.organization, customer=customer,
            requested_limit=limit if limit is not None else (customer.credit_limit or Decimal(0)),
            requested_terms_days=terms, actor=self.request.user, source=LimitRequest.Source.API,
            reason=str(self.request.data.get("limit_reason", "") or "api")[:2000])

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
        limit, terms = self._pop_credit_terms(serializer, None)
        self._save(Customer(organization=org, **serializer.validated_data), serializer)
        self._request_limit(serializer.instance, limit, terms)

    def perform_update(self, serializer: Any) -> None:
        customer = serializer.instance
        limit, terms = self._pop_credit_terms(serializer, customer)
        for key, value in serializer.validated_data.items():
            setattr(customer, key, value)
        self._save(customer, serializer)
        self._request_limit(customer, limit, terms)

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
