"""Committee sessions, their agenda, votes and decisions."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as s

from cases.models import CommitteeDecision, CommitteeSession, FundingRequest, Vote

from .fields import Id, Money, TransitionsMixin


class VoteSerializer(s.ModelSerializer):
    member_username = s.CharField(source="member.username", read_only=True)
    scores = s.DictField(child=s.FloatField(), read_only=True)

    class Meta:
        model = Vote
        fields = [
            "id",
            "session",
            "funding_request",
            "member",
            "member_username",
            "vote",
            "scores",
            "total_score",
            "recorded_at",
        ]


@extend_schema_field(OpenApiTypes.NUMBER)
class ScoreField(s.JSONField):
    """Points on one criterion: read by ``cases.committee`` (``engine.inputs``), which
    refuses booleans, Unicode digits, more than two decimals and points off the grid."""


class VoteInputSerializer(s.Serializer):
    funding_request = Id()
    member = Id(required=False, allow_null=True, help_text="Par défaut : l'utilisateur")
    vote = s.ChoiceField(choices=Vote.Choice.choices)
    scores = s.DictField(child=ScoreField(), required=False, help_text="{critère: points}")


class DecisionSerializer(s.ModelSerializer):
    class Meta:
        model = CommitteeDecision
        fields = [
            "funding_request",
            "outcome",
            "votes_for",
            "votes_against",
            "votes_abstain",
            "average_score",
        ]


class AgendaItemSerializer(s.ModelSerializer):
    funding_request = s.IntegerField(source="id", read_only=True)
    case = s.IntegerField(source="case_id", read_only=True)
    case_reference = s.CharField(source="case.reference", read_only=True)
    case_title = s.CharField(source="case.title", read_only=True)
    amount_requested = Money()

    class Meta:
        model = FundingRequest
        fields = [
            "funding_request",
            "case",
            "case_reference",
            "case_title",
            "state",
            "amount_requested",
            "pre_score",
        ]


class CommitteeSessionSerializer(TransitionsMixin, s.ModelSerializer):
    scheme = s.SlugRelatedField(slug_field="code", read_only=True)
    state_label = s.CharField(source="get_state_display", read_only=True)
    members = s.PrimaryKeyRelatedField(many=True, read_only=True)
    agenda = s.PrimaryKeyRelatedField(many=True, read_only=True)
    agenda_items = AgendaItemSerializer(source="agenda", many=True, read_only=True)
    votes = VoteSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta:
        model = CommitteeSession
        fields = [
            "id",
            "date",
            "scheme",
            "state",
            "state_label",
            "members",
            "agenda",
            "agenda_items",
            "votes",
            "decisions",
            "closed_at",
            "available_transitions",
        ]


class CommitteeSessionInputSerializer(s.Serializer):
    date = s.DateField()
    members = s.ListField(child=Id(), max_length=500)
    scheme = s.CharField(max_length=20, required=False, default="LEADER")
