from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .models import Country, Customer, FinancialStatement, Sector


class CustomerSerializer(serializers.ModelSerializer):
    country = serializers.SlugRelatedField(slug_field="code", queryset=Country.objects.all())
    sector = serializers.SlugRelatedField(slug_field="code", queryset=Sector.objects.all())
    group = serializers.CharField(source="group.external_id", read_only=True, default=None)

    class Meta:
        model = Customer
        fields = [
            "id", "external_id", "legal_name", "registration_number", "country", "sector", "size", "group",
            "currency", "payment_terms_days", "status", "credit_limit", "customer_since", "email", "phone",
            "address", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # (organization, external_id) uniqueness is checked by the view with the caller's organization.
        validators: list[Any] = []


class FinancialStatementSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="external_id", queryset=Customer.objects.none())
    ratios = serializers.SerializerMethodField()

    class Meta:
        model = FinancialStatement
        exclude = ["organization"]
        read_only_fields = ["id", "created_at"]
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        org = self.context.get("organization")
        if org is not None:
            self.fields["customer"].queryset = Customer.objects.for_organization(org)  # type: ignore[attr-defined]

    def get_ratios(self, obj: FinancialStatement) -> dict[str, float | None]:
        return obj.ratios
