"""REST API of the limits app: the order credit check (order systems), limit requests and their decisions,
holds, exposure. One view per operation; each calls a service or a selector."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credit_platform.api import TenantAPIMixin
from credit_platform.errors import AppError, ErrorCode
from credit_platform.money import validate_currency
from credit_platform.permissions import HasCapability
from credit_platform.roles import Cap
from customers.models import Customer
from receivables.models import Order

from . import services
from .checks import credit_check
from .models import Hold, LimitRequest, OrderCheck
from .selectors import exposure_by_customer


def _customer(organization: Any, external_id: str) -> Customer:
    customer = Customer.objects.for_organization(organization).filter(external_id=external_id).first()
    if customer is None:
        raise serializers.ValidationError({"customer": f"'{external_id[:64]}': no customer with this external id "
                                                       "in your organization."})
    return customer


class CheckInput(serializers.Serializer):
    customer = serializers.CharField(max_length=64, help_text="the customer's external id")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.CharField(max_length=3, validators=[validate_currency])
    checkpoint = serializers.ChoiceField(choices=OrderCheck.Checkpoint.choices)
    order_number = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    prepaid = serializers.BooleanField(required=False, default=False)


class CreditCheckAPI(TenantAPIMixin, APIView):
    """POST an order (customer, amount, currency, checkpoint): ``release`` or ``hold`` with every reason
    as a code. An order number that exists is checked as that open order (not counted twice)."""

    permission_classes = [HasCapability]
    write_capability = Cap.RECEIVABLES_EDIT

    def post(self, request: Request) -> Response:
        data = CheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        org = request.organization  # type: ignore[attr-defined]
        customer = _customer(org, values["customer"])
        order = None
        if values["order_number"]:
            order = Order.objects.for_organization(org).filter(number=values["order_number"]).first()
            if order is not None and order.customer_id != customer.pk:
                raise serializers.ValidationError({"order_number": "this order belongs to another customer."})
        result = credit_check(org, customer=customer, amount=values["amount"], currency=values["currency"],
                              checkpoint=values["checkpoint"], order=order, order_number=values["order_number"],
                              prepaid=values["prepaid"])
        return Response(result.as_dict())


class RequestSerializer(serializers.ModelSerializer):
    """``reason`` in the request's language; the platform's own (the nightly run's) also as ``reason_code``
    and ``reason_details`` (``limits.reasons``), for integrators to act on."""

    customer = serializers.CharField(source="customer.external_id", read_only=True)
    reason = serializers.CharField(source="reason_text", read_only=True)

    class Meta:
        model = LimitRequest
        fields = ["id", "customer", "currency", "current_limit", "requested_limit", "requested_limit_base",
                  "requested_terms_days", "recommended_limit_base", "grade", "source", "reason", "reason_code",
                  "reason_details", "status", "approvers_required", "approver_roles", "expires_on", "created_at",
                  "decided_at"]
        read_only_fields = fields


class RequestInput(serializers.Serializer):
    customer = serializers.CharField(max_length=64)
    requested_limit = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal(0))
    requested_terms_days = serializers.IntegerField(min_value=0, max_value=365, required=False, allow_null=True)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RequestListCreate(TenantAPIMixin, generics.ListAPIView):
    queryset = LimitRequest.objects.select_related("customer")
    serializer_class = RequestSerializer
    permission_classes = [HasCapability]
    write_capability = Cap.LIMITS_REQUEST
    filterset_fields = ["status", "source"]

    def post(self, request: Request) -> Response:
        data = RequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        org = request.organization  # type: ignore[attr-defined]
        v = data.validated_data
        made = services.limit_request_create(
            organization=org, customer=_customer(org, v["customer"]), requested_limit=v["requested_limit"],
            requested_terms_days=v.get("requested_terms_days"), actor=request.user, source=LimitRequest.Source.API,
            reason=v["reason"])
        return Response(RequestSerializer(made).data, status=201)


class DecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject", "counter"])
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal(0), required=False)


class RequestDecide(TenantAPIMixin, APIView):
    permission_classes = [HasCapability]
    write_capability = Cap.LIMITS_APPROVE

    def post(self, request: Request, pk: int) -> Response:
        org = request.organization  # type: ignore[attr-defined]
        target = LimitRequest.objects.for_organization(org).filter(pk=pk).first()
        if target is None:
            raise AppError(ErrorCode.NOT_FOUND, "No such limit request.", status=404)
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        with transaction.atomic():
            if v["decision"] == "approve":
                done = services.limit_request_approve(organization=org, request=target, actor=request.user,
                                                      comment=v["comment"])
            elif v["decision"] == "reject":
                done = services.limit_request_reject(organization=org, request=target, actor=request.user,
                                                     comment=v["comment"])
            else:
                if v.get("amount") is None:
                    raise serializers.ValidationError({"amount": "a counter-offer needs an amount."})
                done = services.limit_request_counter(organization=org, request=target, actor=request.user,
                                                      amount=v["amount"], comment=v["comment"])
        return Response(RequestSerializer(done).data)


class HoldSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    release_reason = serializers.CharField(source="release_reason_text", read_only=True)

    class Meta:
        model = Hold
        fields = ["id", "customer", "kind", "source", "reason", "placed_on", "released_at", "release_reason",
                  "release_code", "release_details"]
        read_only_fields = fields


class HoldInput(serializers.Serializer):
    customer = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=Hold.Kind.choices)
    reason = serializers.CharField(max_length=2000)


class HoldListCreate(TenantAPIMixin, generics.ListAPIView):
    queryset = Hold.objects.select_related("customer").filter(released_at__isnull=True)
    serializer_class = HoldSerializer
    permission_classes = [HasCapability]
    write_capability = Cap.LIMITS_REQUEST

    def post(self, request: Request) -> Response:
        data = HoldInput(data=request.data)
        data.is_valid(raise_exception=True)
        org = request.organization  # type: ignore[attr-defined]
        v = data.validated_data
        hold = services.hold_place(org, _customer(org, v["customer"]), kind=v["kind"], reason=v["reason"],
                                   actor=request.user, source=Hold.Source.MANUAL)
        return Response(HoldSerializer(hold).data, status=201)


class HoldRelease(TenantAPIMixin, APIView):
    """Lifting a hold is a decision: ``limits.approve`` (an integrator's token cannot)."""

    permission_classes = [HasCapability]
    write_capability = Cap.LIMITS_APPROVE

    def post(self, request: Request, pk: int) -> Response:
        org = request.organization  # type: ignore[attr-defined]
        hold = Hold.objects.for_organization(org).filter(pk=pk).first()
        if hold is None:
            raise AppError(ErrorCode.NOT_FOUND, "No such hold.", status=404)
        reason = str(request.data.get("reason", "") if isinstance(request.data, dict) else "")[:2000]
        return Response(HoldSerializer(services.hold_release(org, hold, reason=reason, actor=request.user)).data)


class ExposureAPI(TenantAPIMixin, APIView):
    """GET ?customer=<external id>: exposure (open receivables + open orders) in base currency."""

    permission_classes = [HasCapability]

    def get(self, request: Request) -> Response:
        org = request.organization  # type: ignore[attr-defined]
        customer = _customer(org, str(request.query_params.get("customer", "")))
        exposure = exposure_by_customer(org, [customer.pk]).get(customer.pk)
        return Response({"customer": customer.external_id, "base_currency": org.base_currency,
                         "exposure": str(exposure or "0.00"),
                         "credit_limit": None if customer.credit_limit is None else str(customer.credit_limit),
                         "currency": customer.currency})
