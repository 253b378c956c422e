"""Deadlines, in the shape every body shows them (a dossier's, a funding request's)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as s

from engine.models import Deadline

from .fields import Label

SUBJECTS = {
    "case": "case",
    "fundingrequest": "funding_request",
    "paymentclaim": "payment_claim",
    "extension": "extension",
    "recoveryorder": "recovery_order",
}


class DeadlineSerializer(s.ModelSerializer):
    state_label = Label("state")
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
