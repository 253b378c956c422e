"""Committee sessions, their agenda, votes and decisions."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as s

from cases import committee as committee_rules
from cases.models import (
    CommitteeDecision,
    CommitteeSession,
    CommitteeSubstitute,
    FundingRequest,
    InterestDeclaration,
    SessionKind,
    SessionState,
    Vote,
)

from .fields import Id, Label, Money, TransitionsMixin


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
            "on_behalf_of",
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
            "valid",
            "reason",
            "present",
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


class DeclarationSerializer(s.ModelSerializer):
    member_username = s.CharField(source="member.username", read_only=True)

    class Meta:
        model = InterestDeclaration
        fields = ["id", "session", "funding_request", "member", "member_username", "reason"]


class DeclarationInputSerializer(s.Serializer):
    funding_request = Id()
    member = Id(required=False, allow_null=True, help_text="Par défaut : l'utilisateur")
    reason = s.CharField(max_length=500, required=False, allow_blank=True, default="")


class SubstituteSerializer(s.ModelSerializer):
    titular_username = s.CharField(source="titular.username", read_only=True)
    substitute_username = s.CharField(source="substitute.username", read_only=True)

    class Meta:
        model = CommitteeSubstitute
        fields = ["id", "titular", "titular_username", "substitute", "substitute_username"]


class SubstituteInputSerializer(s.Serializer):
    titular = Id()
    substitute = Id()


class ItemValiditySerializer(s.Serializer):
    """Revised rule 12: each item checked on its own (projected while the session is
    planned, as recorded once it is closed)."""

    funding_request = s.IntegerField()
    valid = s.BooleanField()
    problems = s.ListField(child=s.CharField())
    present = s.IntegerField(allow_null=True)
    conflicts = s.ListField(child=s.IntegerField())


class SubstitutionSerializer(s.Serializer):
    substitute = s.IntegerField()
    titular = s.IntegerField()


class CommitteeSessionSerializer(TransitionsMixin, s.ModelSerializer):
    scheme = s.SlugRelatedField(slug_field="code", read_only=True)
    state_label = Label("state")
    members = s.PrimaryKeyRelatedField(many=True, read_only=True)
    agenda = s.PrimaryKeyRelatedField(many=True, read_only=True)
    agenda_items = AgendaItemSerializer(source="agenda", many=True, read_only=True)
    votes = VoteSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)
    kind = s.CharField(read_only=True, help_text="« meeting » ou « written »")
    kind_label = Label("kind")
    declarations = DeclarationSerializer(many=True, read_only=True)
    validity = s.SerializerMethodField()
    substitutions = s.SerializerMethodField()

    class Meta:
        model = CommitteeSession
        fields = [
            "id",
            "date",
            "kind",
            "kind_label",
            "closes_on",
            "scheme",
            "state",
            "state_label",
            "members",
            "agenda",
            "agenda_items",
            "votes",
            "decisions",
            "declarations",
            "substitutions",
            "validity",
            "closed_at",
            "available_transitions",
        ]

    def _outcomes(self, session):
        """The open session's outcomes, computed once per session of the answer, with
        the substitutes and the committee's size read once per answer."""
        memo = self.context.setdefault("committee_memo", {})
        if session.pk not in memo:
            if "subs" not in memo:
                memo["subs"] = committee_rules.substitutes_map()
            size = session.committee_size
            if size is None:
                size_key = ("size", session.territory_id)
                if size_key not in memo:
                    memo[size_key] = committee_rules.committee_size(session)
                size = memo[size_key]
            memo[session.pk] = committee_rules.session_outcomes(
                session, subs=memo["subs"], size=size
            )
        return memo[session.pk]

    @extend_schema_field(ItemValiditySerializer(many=True))
    def get_validity(self, session):
        conflicts: dict[int, list[int]] = {}
        for d in session.declarations.all():
            conflicts.setdefault(d.funding_request_id, []).append(d.member_id)
        if session.state == SessionState.PLANNED:
            rows = [
                (o.funding_request.pk, o.valid, o.problems, o.present)
                for o in self._outcomes(session).items
            ]
        else:
            rows = [
                (d.funding_request_id, d.valid, [d.reason] if d.reason else [], d.present)
                for d in session.decisions.all()
            ]
        return [
            {
                "funding_request": fr,
                "valid": valid,
                "problems": problems,
                "present": present,
                "conflicts": sorted(conflicts.get(fr, [])),
            }
            for fr, valid, problems, present in rows
        ]

    @extend_schema_field(SubstitutionSerializer(many=True))
    def get_substitutions(self, session):
        return [
            {"substitute": sub.pk, "titular": titular.pk}
            for sub, titular in committee_rules.session_substitutions(
                session, self._outcomes(session).seating
            )
        ]


class CommitteeSessionInputSerializer(s.Serializer):
    date = s.DateField(help_text="Séance : son jour ; consultation écrite : son lancement")
    kind = s.CharField(
        max_length=10,
        required=False,
        default=SessionKind.MEETING,
        help_text="« meeting » (séance) ou « written » (consultation écrite)",
    )
    closes_on = s.DateField(
        required=False, allow_null=True, help_text="Consultation écrite : date limite des réponses"
    )
    members = s.ListField(
        child=Id(),
        max_length=500,
        required=False,
        help_text="Présents (séance) ; consultés (consultation écrite : par défaut tout le comité)",
    )
    scheme = s.CharField(max_length=20, required=False, default="LEADER")
