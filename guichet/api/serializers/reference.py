"""Reference data: EPCI, communes, schemes, organisations."""

from __future__ import annotations

from rest_framework import serializers as s

from cases.models import Organisation
from schemes.models import EPCI, Commune, Scheme

from .fields import Label


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


class OrganisationBriefSerializer(s.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "siren"]


class OrganisationSerializer(s.ModelSerializer):
    kind_label = Label("kind")
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
