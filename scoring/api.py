"""REST: a customer's current score and history; the portfolio's grade distribution. Tenant-scoped
through ``TenantAPIMixin`` (another organization's customer answers 404), read with ``portfolio.view``."""

from __future__ import annotations

from typing import Any

from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from credit_platform.api import TenantAPIMixin
from customers.models import Customer

from . import selectors
from .serializers import CustomerScoreSerializer, GradeRowSerializer


class CustomerScoreAPI(TenantAPIMixin, generics.RetrieveAPIView):
    """GET /api/v1/customers/<id>/score/: current PD, grade, reasons (EN/ZH), flags, the score
    history (last 24 as-of dates) and the latest grade changes."""

    queryset = Customer.objects.all()
    serializer_class = CustomerScoreSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        org = request.organization  # type: ignore[attr-defined]
        card = selectors.customer_score_card(org, customer)
        data = {
            "customer": customer.pk, "external_id": customer.external_id, "current": card["current"],
            "history": card["history"],
            "grade_changes": [{"as_of": c.as_of, "old_grade": c.old_grade, "new_grade": c.new_grade,
                               "new_pd": c.new_pd, "trigger": c.trigger} for c in card["changes"]],
        }
        return Response(CustomerScoreSerializer(data).data)


class GradeDistributionAPI(TenantAPIMixin, generics.GenericAPIView):
    """GET /api/v1/grades/: customers and exposure (base currency) per current grade."""

    queryset = Customer.objects.all()
    serializer_class = GradeRowSerializer
    pagination_class = None

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = request.organization  # type: ignore[attr-defined]
        dist = selectors.grade_distribution(org, org.local_date())
        return Response({
            "scored_on": dist["scored_on"], "customers": dist["customers"], "unscored": dist["unscored"],
            "base_currency": org.base_currency,
            "grades": GradeRowSerializer(dist["rows"], many=True).data,
        })
