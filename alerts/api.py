"""REST API of alerts: list (filters as on the page) and update one alert (an action of its lifecycle)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from credit_platform.api import TenantAPIMixin
from credit_platform.bounds import NOTE_MAX_CHARS
from credit_platform.roles import Cap

from . import services
from .explain import explain
from .models import Alert
from .selectors import AlertFilters, alerts_for


class AlertSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(read_only=True)
    reasons = serializers.SerializerMethodField()
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True, default=None)
    assignee = serializers.CharField(source="assignee.username", read_only=True, default=None)

    class Meta:
        model = Alert
        fields = ["id", "kind", "indicator", "severity", "status", "customer", "customer_external_id", "title",
                  "reasons", "details", "assignee", "snoozed_until", "status_reason", "occurrences", "as_of",
                  "created_at", "last_raised_at", "resolved_at"]

    def get_reasons(self, alert: Alert) -> dict[str, list[str]]:
        return {"en": explain(alert.details or {}, "en"), "zh-hans": explain(alert.details or {}, "zh-hans")}


class AlertUpdateInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(services.TRANSITIONS))
    reason = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_CHARS)
    until = serializers.DateField(required=False, allow_null=True)
    assignee = serializers.CharField(required=False, allow_null=True, max_length=150,
                                     help_text="username; null to unassign")


class AlertList(TenantAPIMixin, generics.ListAPIView):
    """Alerts of the organization; ``?status=active|snoozed|open|acknowledged|resolved|dismissed|all``,
    ``severity``, ``indicator`` (a kind such as ``ews.overdue_frequency``), ``assignee`` (an id, ``me``,
    ``none``), ``customer`` (an id or a name)."""

    queryset = Alert.objects.all()
    serializer_class = AlertSerializer

    def get_queryset(self) -> Any:
        q = self.request.query_params
        filters = AlertFilters(status=q.get("status", "active"), severity=q.get("severity", ""),
                               indicator=q.get("indicator", ""), assignee=q.get("assignee", ""),
                               customer=q.get("customer", ""))
        return alerts_for(self.request.organization, filters, user=self.request.user)


class AlertUpdate(TenantAPIMixin, generics.GenericAPIView):
    """POST an action: ``{"action": "acknowledge"}``, ``{"action": "dismiss", "reason": "..."}``,
    ``{"action": "snooze", "until": "2026-12-10"}``, ``{"action": "assign", "assignee": "collector"}``."""

    queryset = Alert.objects.select_related("customer", "assignee")
    serializer_class = AlertUpdateInput
    write_capability = Cap.COLLECTIONS

    def post(self, request: Request, pk: int) -> Response:
        alert = self.get_object()
        data = AlertUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        assignee = None
        if v.get("assignee"):
            assignee = get_user_model().objects.filter(username=v["assignee"]).first()
            if assignee is None:
                raise serializers.ValidationError({"assignee": [f"'{v['assignee']}' is not a user."]})
        alert = services.alert_transition(alert=alert, action=v["action"], actor=request.user,
                                          reason=v.get("reason", ""), assignee=assignee, until=v.get("until"))
        return Response(AlertSerializer(alert).data)
