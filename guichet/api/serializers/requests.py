"""Funding requests: the brief form in a dossier, the detail with its claims, each with its
funder's own legal track (api.md « Additions »: dates and the request's own deadlines)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as s

from cases.models import FundingRequest
from engine.deadlines import deadlines_of

from .deadlines import DeadlineSerializer
from .fields import Label, Money, TransitionsMixin
from .payments import PaymentClaimSerializer

#: The request's own legal track (revised rules 1-3).
LEGAL_TRACK = ["sent_on", "received_on", "complete_on", "eligibility_start", "implicit_decision_on"]


def by_request(deadlines: list) -> dict[int, list]:
    """A dossier's deadlines (serialized) grouped by the funding request they concern."""
    grouped: dict[int, list] = {}
    for d in deadlines:
        if d["subject"] == "funding_request":
            grouped.setdefault(d["subject_id"], []).append(d)
    return grouped


class FundingRequestBriefSerializer(TransitionsMixin, s.ModelSerializer):
    scheme = s.SlugRelatedField(slug_field="code", read_only=True)
    scheme_name = s.CharField(source="scheme.name", read_only=True)
    state_label = Label("state")
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
            *LEGAL_TRACK,
            "pre_score",
            "available_transitions",
        ]


class FundingRequestInCaseSerializer(FundingRequestBriefSerializer):
    """In a dossier's body: with the request's own deadlines (read once for the dossier)."""

    deadlines = s.SerializerMethodField()

    class Meta(FundingRequestBriefSerializer.Meta):
        fields = [*FundingRequestBriefSerializer.Meta.fields, "deadlines"]

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, obj) -> list:
        return self.context.get("request_deadlines", {}).get(obj.pk, [])


class FundingRequestSerializer(FundingRequestBriefSerializer):
    case = s.IntegerField(source="case_id", read_only=True)
    case_reference = s.CharField(source="case.reference", read_only=True)
    case_title = s.CharField(source="case.title", read_only=True)
    claims = PaymentClaimSerializer(many=True, read_only=True)
    deadlines = s.SerializerMethodField()

    class Meta(FundingRequestBriefSerializer.Meta):
        fields = [
            "id",
            "case",
            "case_reference",
            "case_title",
            *FundingRequestBriefSerializer.Meta.fields[1:],
            "motivation",
            "claims",
            "deadlines",
        ]

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, obj) -> list:
        rows = deadlines_of(obj).select_related("subject_type").order_by("due_on", "id")
        return DeadlineSerializer(rows, many=True).data
