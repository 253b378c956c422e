"""Funding requests: the brief form in a dossier, the detail with its claims."""

from __future__ import annotations

from rest_framework import serializers as s

from cases.models import FundingRequest

from .fields import Money, TransitionsMixin
from .payments import PaymentClaimSerializer


class FundingRequestBriefSerializer(TransitionsMixin, s.ModelSerializer):
    scheme = s.SlugRelatedField(slug_field="code", read_only=True)
    scheme_name = s.CharField(source="scheme.name", read_only=True)
    state_label = s.CharField(source="get_state_display", read_only=True)
    amount_requested = Money()
    amount_granted = Money(allow_null=True)
    amount_paid = Money()

    class Meta:
        model = FundingRequest
        fields = [
            "id",
            "scheme",
            "scheme_name",
            "state",
            "state_label",
            "amount_requested",
            "amount_granted",
            "amount_paid",
            "granted_on",
            "committed_on",
            "pre_score",
            "available_transitions",
        ]


class FundingRequestSerializer(FundingRequestBriefSerializer):
    case = s.IntegerField(source="case_id", read_only=True)
    case_reference = s.CharField(source="case.reference", read_only=True)
    case_title = s.CharField(source="case.title", read_only=True)
    claims = PaymentClaimSerializer(many=True, read_only=True)

    class Meta(FundingRequestBriefSerializer.Meta):
        fields = [
            "id",
            "case",
            "case_reference",
            "case_title",
            *FundingRequestBriefSerializer.Meta.fields[1:],
            "motivation",
            "claims",
        ]
