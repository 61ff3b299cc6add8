from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from .models import Dispute, Invoice, Payment, PromiseToPay


class InvoiceSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    open_amount = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)

    class Meta:
        model = Invoice
        fields = ["id", "number", "customer", "issue_date", "due_date", "amount", "currency", "open_amount",
                  "created_at"]


class PaymentSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    unapplied = serializers.DecimalField(source="unapplied_amount", max_digits=18, decimal_places=2,
                                         read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "reference", "customer", "received_on", "amount", "currency", "method",
                  "unapplied", "created_at"]


class PromiseSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    invoice = serializers.CharField(source="invoice.number", read_only=True, default=None)

    class Meta:
        model = PromiseToPay
        fields = ["id", "customer", "invoice", "made_on", "promised_date", "amount", "currency", "status",
                  "received", "closed_on", "note", "created_at"]


class PromiseInput(serializers.Serializer):
    customer = serializers.CharField(help_text="The customer's external id.")
    invoice = serializers.CharField(required=False, allow_blank=True,
                                    help_text="Invoice number; empty: whole account.")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    promised_date = serializers.DateField()
    currency = serializers.CharField(required=False, max_length=3)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DisputeSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    invoice = serializers.CharField(source="invoice.number", read_only=True)

    class Meta:
        model = Dispute
        fields = ["id", "customer", "invoice", "reason", "description", "amount", "status", "opened_on",
                  "resolved_on", "resolution", "created_at"]


class DisputeInput(serializers.Serializer):
    invoice = serializers.CharField(help_text="Invoice number.")
    reason = serializers.ChoiceField(choices=Dispute.Reason.choices)
    description = serializers.CharField(required=False, allow_blank=True)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"),
                                      required=False)


class DisputeResolveInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=[("resolved", "resolved"), ("rejected", "rejected")])
    resolution = serializers.CharField(required=False, allow_blank=True)
