"""Dossiers: the list and the detail, their financing plan, deadlines and history."""

from __future__ import annotations

from types import SimpleNamespace

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as s

from cases import selectors, services
from cases.models import Case, CaseState

from .deadlines import SUBJECTS, DeadlineSerializer
from .fields import Id, Label, Money, TransitionsMixin
from .reference import OrganisationBriefSerializer
from .requests import FundingRequestBriefSerializer, FundingRequestInCaseSerializer, by_request

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
    tax_basis = s.ChoiceField(
        choices=["HT", "TTC"],
        required=False,
        help_text="Tout le plan est HT ou TTC (règle révisée 10) ; par défaut, celle des lignes.",
    )
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
    own_share_min = s.DecimalField(
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        read_only=True,
        help_text="Participation minimale du maître d'ouvrage (part des financements publics) ; "
        "null : CGCT L1111-10 III ne s'applique pas.",
    )
    public_aid_ceiling = s.DecimalField(
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        read_only=True,
        help_text="Plafond des aides publiques (part du coût éligible) ; null : aucun "
        "dispositif de l'État n'est sollicité.",
    )
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
        tax_basis=summary.tax_basis,
        expenses=expenses,
        resources=resources,
        total_eligible=summary.total_eligible,
        total_resources=summary.total_resources,
        public_aid=summary.public_aid,
        own_funds=summary.own_funds,
        public_aid_rate=summary.public_aid_rate,
        own_share_min=summary.own_share_min,
        public_aid_ceiling=summary.ceiling.rate if summary.ceiling else None,
        valid=summary.valid,
        violations=[v.message for v in summary.violations],
    )
    # One serializer for every row: building one per dossier deep-copies its fields each
    # time, which was most of the time of a case list (bench/load.py).
    return _PLAN_SERIALIZER.to_representation(plan)


_PLAN_SERIALIZER = FinancingPlanSerializer()


# ---------------------------------------------------------------- deadlines and history


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


class CaseListSerializer(TransitionsMixin, s.ModelSerializer):
    state_label = Label("state")
    organisation = OrganisationBriefSerializer(read_only=True)
    epci = s.SlugRelatedField(slug_field="siren", read_only=True, allow_null=True)
    communes = s.SlugRelatedField(slug_field="insee", many=True, read_only=True)
    referent_agent = s.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    financing_plan = s.SerializerMethodField()
    funding_requests = FundingRequestBriefSerializer(many=True, read_only=True)
    own_share_exception = s.BooleanField(read_only=True)
    own_share_case = s.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    call = s.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="Appel à projets")

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "theme",
            "call",
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
            "own_share_case",
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
    funding_requests = s.SerializerMethodField()
    deadlines = s.SerializerMethodField()
    history = s.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [*CaseListSerializer.Meta.fields, "deadlines", "history"]

    def _deadlines(self, obj) -> list:
        """The dossier's deadlines, read once for the dossier and for each request."""
        if getattr(obj, "_deadlines_read", None) is None:
            obj._deadlines_read = DeadlineSerializer(selectors.case_deadlines(obj), many=True).data
        return obj._deadlines_read

    @extend_schema_field(FundingRequestInCaseSerializer(many=True))
    def get_funding_requests(self, obj) -> list:
        context = {**self.context, "request_deadlines": by_request(self._deadlines(obj))}
        return FundingRequestInCaseSerializer(
            obj.funding_requests.all(), many=True, context=context
        ).data

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, obj) -> list:
        return self._deadlines(obj)

    @extend_schema_field(HistorySerializer(many=True))
    def get_history(self, obj) -> list:
        return HistorySerializer(selectors.case_history(obj), many=True).data


class CaseInputSerializer(s.Serializer):
    title = s.CharField(max_length=300)
    description = s.CharField(max_length=20000, required=False, allow_blank=True)
    theme = s.CharField(max_length=120, required=False, allow_blank=True)
    call = Id(required=False, allow_null=True, help_text="Appel à projets (facultatif)")
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
    call = Id(required=False, allow_null=True, help_text="Appel à projets (facultatif)")
    communes = s.ListField(child=s.CharField(max_length=10), max_length=100, required=False)
    financing_plan = PlanField(required=False, allow_null=True)


class ShareExceptionInputSerializer(s.Serializer):
    reason = s.CharField(max_length=2000)
    legal_case = s.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="Code du cas légal (CGCT L1111-10 III) : abaisse la participation minimale "
        "à son taux (règle révisée 8).",
    )
