from __future__ import annotations

from rest_framework import serializers

from .models import Invoice, Payment


class InvoiceSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    open_amount = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)

    class Meta:
        model = Invoice
        fields = ["id", "number", "customer", "issue_date", "due_date", "amount", "currency", "open_amount",
                  "created_at"]


class PaymentSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    unapplied = serializers.DecimalField(source="unapplied_amount", max_digits=18, decimal_places=2, read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "reference", "customer", "received_on", "amount", "currency", "method", "unapplied",
                  "created_at"]
