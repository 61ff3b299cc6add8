from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from credit_platform.bounds import MONEY_MAX, NOTE_MAX_CHARS, validate_business_date

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
    invoices = serializers.SerializerMethodField(help_text="Numbers of the invoices the promise covers.")

    class Meta:
        model = PromiseToPay
        fields = ["id", "customer", "invoices", "made_on", "promised_date", "amount", "currency", "status",
                  "received", "closed_on", "note", "created_at"]

    def get_invoices(self, obj: PromiseToPay) -> list[str]:
        return [c.invoice.number for c in obj.coverage.all()]


class PromiseInput(serializers.Serializer):
    customer = serializers.CharField(max_length=64, help_text="The customer's external id.")
    invoice = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                    help_text="One invoice number (same as invoices: [number]).")
    invoices = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=500,
        help_text="Invoice numbers the promise is for; none: its amount covers the oldest open invoices "
                  "it pays in full.")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"),
                                      max_value=MONEY_MAX)
    promised_date = serializers.DateField(validators=[validate_business_date])
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
    invoice = serializers.CharField(max_length=64, help_text="Invoice number.")
    reason = serializers.ChoiceField(choices=Dispute.Reason.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_CHARS)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"),
                                      max_value=MONEY_MAX, required=False)


class DisputeResolveInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=[("resolved", "resolved"), ("rejected", "rejected")])
    resolution = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_CHARS)
