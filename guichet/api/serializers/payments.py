"""Payment claims."""

from __future__ import annotations

from rest_framework import serializers as s

from cases.models import PaymentClaim, RecoveryOrder

from .fields import Label, Money, TransitionsMixin


class PaymentClaimSerializer(TransitionsMixin, s.ModelSerializer):
    case = s.IntegerField(source="funding_request.case_id", read_only=True)
    scheme = s.CharField(source="funding_request.scheme.code", read_only=True)
    kind_label = Label("kind")
    state_label = Label("state")
    amount = Money()
    paid_amount = Money(allow_null=True)
    actual_cost = Money(allow_null=True)

    class Meta:
        model = PaymentClaim
        fields = [
            "id",
            "funding_request",
            "case",
            "scheme",
            "kind",
            "kind_label",
            "amount",
            "actual_cost",
            "filed_on",
            "state",
            "state_label",
            "verified_on",
            "awaiting_since",
            "paid_amount",
            "paid_on",
            "motivation",
            "created_at",
            "available_transitions",
        ]


class PaymentClaimInputSerializer(s.Serializer):
    kind = s.ChoiceField(choices=PaymentClaim.Kind.choices)
    amount = s.DecimalField(max_digits=14, decimal_places=2)
    filed_on = s.DateField(required=False, allow_null=True)
    actual_cost = s.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)


class RecoveryOrderSerializer(TransitionsMixin, s.ModelSerializer):
    case = s.IntegerField(source="funding_request.case_id", read_only=True)
    scheme = s.CharField(source="funding_request.scheme.code", read_only=True)
    state_label = Label("state")
    amount = Money()
    date = s.DateField(source="issued_on", read_only=True)

    class Meta:
        model = RecoveryOrder
        fields = [
            "id",
            "funding_request",
            "case",
            "scheme",
            "amount",
            "date",
            "reason",
            "state",
            "state_label",
            "recovered_on",
            "motivation",
            "created_at",
            "available_transitions",
        ]


class RecoveryOrderInputSerializer(s.Serializer):
    amount = s.DecimalField(max_digits=14, decimal_places=2)
    date = s.DateField(required=False, allow_null=True)
    reason = s.CharField()
