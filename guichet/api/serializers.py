"""Shapes of the API v1 (api.md). Output serializers render; input serializers check
types and sizes only: the business rules live in the services and transition guards."""

from __future__ import annotations

from types import SimpleNamespace

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as s

from cases import selectors, services
from cases.models import (
    Case,
    CaseState,
    CommitteeDecision,
    CommitteeSession,
    Document,
    FundingRequest,
    Opinion,
    Organisation,
    PaymentClaim,
    User,
    Vote,
)
from engine import inputs
from engine.models import Deadline
from engine.transitions import available_transitions, registrations
from schemes.models import EPCI, Commune, Scheme

BIGINT = 2**63 - 1
SUBJECTS = {"case": "case", "fundingrequest": "funding_request", "paymentclaim": "payment_claim"}


def Money(**kw):  # noqa: N802 - a field factory
    kw.setdefault("max_digits", 14)
    return s.DecimalField(decimal_places=2, read_only=True, **kw)


class IdField(s.IntegerField):
    """An id: a JSON integer or ASCII digits (« ١ », « ² », « 1.0 », true are no ids)."""

    default_error_messages = {"invalid": "Identifiant invalide."}

    def to_internal_value(self, data):
        value = inputs.read_id(data)
        if value is None:
            self.fail("invalid")
        return value


def Id(**kw):  # noqa: N802 - a field factory
    return IdField(min_value=1, max_value=BIGINT, **kw)


class TransitionsMixin(s.Serializer):
    available_transitions = s.SerializerMethodField()

    @extend_schema_field(s.ListField(child=s.CharField()))
    def get_available_transitions(self, obj) -> list[str]:
        user = self.context.get("user")
        if user is None:
            return []
        return available_transitions(obj, user)


# ---------------------------------------------------------------- reference data


class EPCISerializer(s.ModelSerializer):
    class Meta:
        model = EPCI
        fields = ["siren", "name"]


class CommuneSerializer(s.ModelSerializer):
    epci = EPCISerializer(read_only=True)

    class Meta:
        model = Commune
        fields = ["insee", "name", "population", "epci"]


class RequiredDocumentSerializer(s.Serializer):
    code = s.CharField()
    label = s.CharField()


class GridCriterionSerializer(s.Serializer):
    code = s.CharField()
    label = s.CharField()
    max = s.IntegerField()


class SchemeSerializer(s.ModelSerializer):
    funder = s.SlugRelatedField(slug_field="code", read_only=True)
    funder_name = s.CharField(source="funder.name", read_only=True)
    required_documents = RequiredDocumentSerializer(many=True, read_only=True)
    grid = GridCriterionSerializer(many=True, read_only=True)

    class Meta:
        model = Scheme
        fields = [
            "code",
            "name",
            "funder",
            "funder_name",
            "committee",
            "is_feader",
            "flow_kind",
            "description",
            "rate_min",
            "rate_max",
            "public_aid_ceiling",
            "min_amount",
            "envelope",
            "advance_max_rate",
            "installments_max_rate",
            "expected_payment_delay_days",
            "required_documents",
            "grid",
            "grid_min_score",
        ]


# ---------------------------------------------------------------- organisations and users


class OrganisationBriefSerializer(s.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "siren"]


class OrganisationSerializer(s.ModelSerializer):
    kind_label = s.CharField(source="get_kind_display", read_only=True)
    commune = s.SlugRelatedField(slug_field="insee", read_only=True, allow_null=True)
    epci = s.SlugRelatedField(slug_field="siren", read_only=True, allow_null=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "kind_label", "siren", "commune", "epci"]


class OrganisationInputSerializer(s.Serializer):
    name = s.CharField(max_length=200)
    kind = s.ChoiceField(choices=Organisation.Kind.choices)
    siren = s.CharField(max_length=20, required=False, allow_null=True, allow_blank=True)
    commune = s.CharField(
        max_length=5, required=False, allow_null=True, allow_blank=True, help_text="Code INSEE"
    )


class MeSerializer(s.ModelSerializer):
    role = s.CharField(source="effective_role", read_only=True)
    role_label = s.SerializerMethodField()
    organisation = OrganisationBriefSerializer(read_only=True, allow_null=True)
    epci = s.SlugRelatedField(slug_field="siren", read_only=True, allow_null=True)
    funder = s.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    territory = s.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "role_label",
            "organisation",
            "epci",
            "funder",
            "territory",
            "college",
            "interest_group",
        ]

    def get_role_label(self, obj) -> str:
        return str(User.Role(obj.effective_role).label)


class UserSerializer(MeSerializer):
    class Meta(MeSerializer.Meta):
        pass


class UserInputSerializer(s.Serializer):
    username = s.CharField(max_length=150)
    password = s.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    role = s.ChoiceField(choices=User.Role.choices)
    email = s.EmailField(required=False, allow_blank=True)
    organisation = Id(required=False, allow_null=True)
    epci = s.CharField(max_length=9, required=False, allow_null=True, allow_blank=True)
    funder = s.CharField(
        max_length=20,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Code d'un dispositif (ou d'un financeur)",
    )
    college = s.ChoiceField(
        choices=User.College.choices, required=False, allow_null=True, allow_blank=True
    )
    interest_group = s.CharField(max_length=80, required=False, allow_null=True, allow_blank=True)
    territory = s.CharField(
        max_length=60,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Territoire d'un compte du PETR (son identifiant court) : pour un "
        "superutilisateur d'une installation à plusieurs territoires",
    )


class TokenInputSerializer(s.Serializer):
    username = s.CharField(max_length=150)
    password = s.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(s.Serializer):
    token = s.CharField()


# ---------------------------------------------------------------- financing plan


class ExpenseSerializer(s.Serializer):
    label = s.CharField(max_length=200)
    amount = s.DecimalField(max_digits=14, decimal_places=2)
    tax = s.ChoiceField(choices=["HT", "TTC"], default="HT")
    eligible = s.BooleanField(default=True)


class ResourceSerializer(s.Serializer):
    kind = s.ChoiceField(choices=["scheme", "self", "other_public", "other"])
    scheme = s.CharField(required=False, allow_null=True, help_text="Code du dispositif")
    label = s.CharField(max_length=200, required=False, allow_blank=True)
    amount = s.DecimalField(max_digits=14, decimal_places=2)


class FinancingPlanInputSerializer(s.Serializer):
    expenses = ExpenseSerializer(many=True)
    resources = ResourceSerializer(many=True)


class FinancingPlanSerializer(FinancingPlanInputSerializer):
    # Sums of up to 100 lines each below 10^12 (wider than one line), and a rate that a
    # draft plan may leave far above 100 %: a list must never fail on a draft's figures.
    total_eligible = Money(max_digits=18)
    total_resources = Money(max_digits=18)
    public_aid = Money(max_digits=18)
    own_funds = Money(max_digits=18)
    public_aid_rate = s.DecimalField(max_digits=24, decimal_places=4, read_only=True)
    valid = s.BooleanField(read_only=True)
    violations = s.ListField(child=s.CharField(), read_only=True)


@extend_schema_field(FinancingPlanInputSerializer)
class PlanField(s.JSONField):
    """Checked line by line by the service, whose messages name the faulty line."""


def financing_plan(case: Case) -> dict:
    summary = services.plan_summary(case)
    expenses = [
        {"label": e.label, "amount": e.amount, "tax": e.tax, "eligible": e.eligible}
        for e in case.expenses.all()
    ]
    resources = [
        {
            "kind": r.kind,
            "scheme": r.scheme.code if r.scheme_id else None,
            "label": r.label,
            "amount": r.amount,
        }
        for r in case.resources.all()
    ]
    plan = SimpleNamespace(
        expenses=expenses,
        resources=resources,
        total_eligible=summary.total_eligible,
        total_resources=summary.total_resources,
        public_aid=summary.public_aid,
        own_funds=summary.own_funds,
        public_aid_rate=summary.public_aid_rate,
        valid=summary.valid,
        violations=[v.message for v in summary.violations],
    )
    # One serializer for every row: building one per dossier deep-copies its fields each
    # time, which was most of the time of a case list (bench/load.py).
    return _PLAN_SERIALIZER.to_representation(plan)


_PLAN_SERIALIZER = FinancingPlanSerializer()


# ---------------------------------------------------------------- deadlines and history


class DeadlineSerializer(s.ModelSerializer):
    state_label = s.CharField(source="get_state_display", read_only=True)
    subject = s.SerializerMethodField()
    case = s.IntegerField(source="aggregate_id", read_only=True)

    class Meta:
        model = Deadline
        fields = [
            "id",
            "kind",
            "due_on",
            "state",
            "state_label",
            "party",
            "subject",
            "subject_id",
            "case",
            "expiry_transition",
            "note",
        ]

    @extend_schema_field(s.ChoiceField(choices=list(SUBJECTS.values())))
    def get_subject(self, obj) -> str:
        model = obj.subject_type.model
        return SUBJECTS.get(model, model)


class HistorySerializer(s.Serializer):
    transition = s.CharField()
    source = s.CharField(source="source_state")
    target = s.CharField(source="state")
    by = s.SerializerMethodField()
    at = s.DateTimeField(source="timestamp")
    comment = s.SerializerMethodField()
    subject = s.SerializerMethodField()
    subject_id = s.SerializerMethodField()

    def get_by(self, obj) -> str | None:
        return obj.by.username if obj.by_id else None

    def get_comment(self, obj) -> str:
        return obj.description or ""

    @extend_schema_field(s.ChoiceField(choices=list(SUBJECTS.values())))
    def get_subject(self, obj) -> str:
        model = obj.content_type.model
        return SUBJECTS.get(model, model)

    def get_subject_id(self, obj) -> int:
        return int(obj.object_id)


# ---------------------------------------------------------------- dossiers


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


class CaseListSerializer(TransitionsMixin, s.ModelSerializer):
    state_label = s.CharField(source="get_state_display", read_only=True)
    organisation = OrganisationBriefSerializer(read_only=True)
    epci = s.SlugRelatedField(slug_field="siren", read_only=True, allow_null=True)
    communes = s.SlugRelatedField(slug_field="insee", many=True, read_only=True)
    referent_agent = s.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    financing_plan = s.SerializerMethodField()
    funding_requests = FundingRequestBriefSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "theme",
            "state",
            "state_label",
            "organisation",
            "epci",
            "communes",
            "referent_agent",
            "receipt_date",
            "complete_on",
            "works_start_date",
            "works_end_date",
            "missing_documents",
            "own_share_exception",
            "own_share_exception_reason",
            "withdraw_reason",
            "created_at",
            "updated_at",
            "financing_plan",
            "funding_requests",
            "available_transitions",
        ]

    @extend_schema_field(FinancingPlanSerializer)
    def get_financing_plan(self, obj) -> dict:
        return financing_plan(obj)


class CaseSerializer(CaseListSerializer):
    deadlines = s.SerializerMethodField()
    history = s.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [*CaseListSerializer.Meta.fields, "deadlines", "history"]

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, obj) -> list:
        return DeadlineSerializer(selectors.case_deadlines(obj), many=True).data

    @extend_schema_field(HistorySerializer(many=True))
    def get_history(self, obj) -> list:
        return HistorySerializer(selectors.case_history(obj), many=True).data


class CaseInputSerializer(s.Serializer):
    title = s.CharField(max_length=300)
    description = s.CharField(max_length=20000, required=False, allow_blank=True)
    theme = s.CharField(max_length=120, required=False, allow_blank=True)
    organisation = Id(required=False, allow_null=True)
    communes = s.ListField(
        child=s.CharField(max_length=10), max_length=100, required=False, help_text="Codes INSEE"
    )
    financing_plan = PlanField(required=False, allow_null=True)
    state = s.ChoiceField(
        choices=[CaseState.IDEA, CaseState.DRAFT], required=False, default=CaseState.IDEA
    )


class CaseUpdateSerializer(s.Serializer):
    title = s.CharField(max_length=300, required=False)
    description = s.CharField(max_length=20000, required=False, allow_blank=True)
    theme = s.CharField(max_length=120, required=False, allow_blank=True)
    communes = s.ListField(child=s.CharField(max_length=10), max_length=100, required=False)
    financing_plan = PlanField(required=False, allow_null=True)


def _transition_field(field, readers: list[str]) -> s.Field:
    """A transition's input as the schema shows it (the engine reads and checks it)."""
    text = f"{field.label}. Lu par : {', '.join(sorted(readers))}."
    if field.hint:
        text += f" {field.hint}"
    kw = {"required": False, "help_text": text}
    if field.kind == "date":
        return s.DateField(**kw)
    if field.kind == "amount":
        return s.DecimalField(max_digits=14, decimal_places=2, **kw)
    if field.kind == "number":
        return s.DecimalField(max_digits=8, decimal_places=2, **kw)
    if field.kind == "documents":
        return s.ListField(child=s.CharField(max_length=200), max_length=50, **kw)
    if field.kind == "bool":
        return s.BooleanField(**kw)
    return s.CharField(max_length=field.max_length, allow_blank=True, **kw)


def _transition_input_serializer() -> type[s.Serializer]:
    """The body of ``POST …/transitions/{name}/``: every field a transition declares
    (``engine.lifecycle.Field``), named with the transitions that read it. Derived from the
    descriptors; the engine parses and checks each transition's own fields."""
    first, readers = {}, {}
    for reg in registrations():
        for spec in reg.specs.values():
            for field in spec.fields:
                first.setdefault(field.name, field)
                readers.setdefault(field.name, []).append(
                    f"{reg.model._meta.model_name}.{spec.name}"
                )
    attrs = {
        "__doc__": "Les champs qu'une transition lit ; chacune ne lit que les siens.",
        "comment": s.CharField(max_length=5000, required=False, allow_blank=True),
        **{name: _transition_field(f, readers[name]) for name, f in sorted(first.items())},
    }
    return type("TransitionInputSerializer", (s.Serializer,), attrs)


TransitionInputSerializer = _transition_input_serializer()


class ShareExceptionInputSerializer(s.Serializer):
    reason = s.CharField(max_length=2000)


# ---------------------------------------------------------------- documents and opinions


class DocumentSerializer(s.ModelSerializer):
    uploaded_by = s.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "label",
            "filename",
            "size",
            "content_type",
            "sha256",
            "uploaded_by",
            "uploaded_at",
        ]


class DocumentInputSerializer(s.Serializer):
    kind = s.CharField(max_length=40)
    file = s.FileField()
    label = s.CharField(max_length=200, required=False, allow_blank=True)


class OpinionSerializer(s.ModelSerializer):
    author = s.SlugRelatedField(slug_field="username", read_only=True)
    kind_label = s.CharField(source="get_kind_display", read_only=True)
    value_label = s.CharField(source="get_value_display", read_only=True)

    class Meta:
        model = Opinion
        fields = [
            "id",
            "kind",
            "kind_label",
            "value",
            "value_label",
            "text",
            "author",
            "created_at",
        ]


class OpinionInputSerializer(s.Serializer):
    kind = s.ChoiceField(choices=Opinion.Kind.choices)
    value = s.ChoiceField(choices=Opinion.Value.choices)
    text = s.CharField(max_length=10000, required=False, allow_blank=True)


# ---------------------------------------------------------------- requests and claims


class PaymentClaimSerializer(TransitionsMixin, s.ModelSerializer):
    case = s.IntegerField(source="funding_request.case_id", read_only=True)
    scheme = s.CharField(source="funding_request.scheme.code", read_only=True)
    kind_label = s.CharField(source="get_kind_display", read_only=True)
    state_label = s.CharField(source="get_state_display", read_only=True)
    amount = Money()
    paid_amount = Money(allow_null=True)

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


class PaymentClaimInputSerializer(s.Serializer):
    kind = s.ChoiceField(choices=PaymentClaim.Kind.choices)
    amount = s.DecimalField(max_digits=14, decimal_places=2)
    filed_on = s.DateField(required=False, allow_null=True)


# ---------------------------------------------------------------- committee


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


class ErrorSerializer(s.Serializer):
    detail = s.CharField()
    code = s.CharField(required=False)
    errors = s.DictField(child=s.JSONField(), required=False)
