from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from credit_platform.api import TenantAPIMixin, TenantReadOnlyViewSet
from credit_platform.roles import Cap
from customers.models import Customer

from .models import Dispute, Invoice, Payment, PromiseToPay
from .serializers import (
    DisputeInput,
    DisputeResolveInput,
    DisputeSerializer,
    InvoiceSerializer,
    PaymentSerializer,
    PromiseInput,
    PromiseSerializer,
)
from .services import dispute_open, dispute_resolve, promise_create


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
    """Invoices with their open balance (amount minus payments and credit notes applied) as of the
    organization's business date (``receivables.balances``)."""

    queryset = Invoice.objects.select_related("customer")
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter

    def get_queryset(self) -> Any:
        return super().get_queryset().with_balances(self.request.organization.local_date())


class PaymentViewSet(TenantReadOnlyViewSet):
    queryset = Payment.objects.select_related("customer").with_unapplied()
    serializer_class = PaymentSerializer
    filterset_fields = ["reference", "currency"]


class PromiseListCreate(TenantAPIMixin, generics.ListCreateAPIView):
    """Promises to pay: list (filter by customer external id, status) and record one (collections role)."""

    queryset = PromiseToPay.objects.select_related("customer").prefetch_related("coverage__invoice")
    serializer_class = PromiseSerializer
    write_capability = Cap.COLLECTIONS
    filterset_fields = ["status"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PromiseInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        org = request.organization  # type: ignore[attr-defined]
        customer = _get(Customer.objects.for_organization(org), "customer", external_id=v["customer"])
        numbers = list(dict.fromkeys([*v.get("invoices", []), *([v["invoice"]] if v.get("invoice") else [])]))
        invoices = [
            _get(Invoice.objects.for_organization(org).filter(customer=customer), "invoices", number=n)
            for n in numbers
        ]
        promise = promise_create(customer=customer, invoices=invoices, amount=v["amount"],
                                 promised_date=v["promised_date"], currency=v.get("currency"),
                                 note=v.get("note", ""), actor=request.user)
        return Response(PromiseSerializer(promise).data, status=201)


class DisputeListCreate(TenantAPIMixin, generics.ListCreateAPIView):
    """Disputes: list and open one on an invoice (collections role); dunning of the invoice pauses."""

    queryset = Dispute.objects.select_related("customer", "invoice")
    serializer_class = DisputeSerializer
    write_capability = Cap.COLLECTIONS
    filterset_fields = ["status", "reason"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = DisputeInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        invoice = _get(Invoice.objects.for_organization(request.organization), "invoice",  # type: ignore[attr-defined]
                       number=v["invoice"])
        dispute = dispute_open(invoice=invoice, reason=v["reason"], description=v.get("description", ""),
                               amount=v.get("amount"), actor=request.user)
        return Response(DisputeSerializer(dispute).data, status=201)


class DisputeResolve(TenantAPIMixin, generics.GenericAPIView):
    queryset = Dispute.objects.select_related("customer", "invoice")
    serializer_class = DisputeResolveInput
    write_capability = Cap.COLLECTIONS

    def post(self, request: Request, pk: int) -> Response:
        dispute = self.get_object()
        data = DisputeResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = dispute_resolve(dispute=dispute, status=data.validated_data["status"], actor=request.user,
                                  resolution=data.validated_data.get("resolution", ""))
        return Response(DisputeSerializer(dispute).data)


def _get(qs: Any, field: str, **lookup: Any) -> Any:
    obj = qs.filter(**lookup).first()
    if obj is None:
        value = next(iter(lookup.values()))
        raise ValidationError({field: [gettext("'%(value)s' does not exist in your organization.") % {'value': value}]})
    return obj
