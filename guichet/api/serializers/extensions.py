"""Extensions of a funding request's works deadlines (api.md « Additions »)."""

from __future__ import annotations

from rest_framework import serializers as s

from cases.models import Extension

from .fields import Label, TransitionsMixin


class ExtensionSerializer(TransitionsMixin, s.ModelSerializer):
    case = s.IntegerField(source="funding_request.case_id", read_only=True)
    scheme = s.CharField(source="funding_request.scheme.code", read_only=True)
    deadline_label = Label("deadline")
    state_label = Label("state")

    class Meta:
        model = Extension
        fields = [
            "id",
            "funding_request",
            "case",
            "scheme",
            "deadline",
            "deadline_label",
            "due_on",
            "until",
            "reason",
            "state",
            "state_label",
            "motivation",
            "requested_at",
            "decided_on",
            "available_transitions",
        ]


class ExtensionInputSerializer(s.Serializer):
    """The body of ``POST /funding-requests/{id}/extensions/`` (read by ``engine.inputs``)."""

    deadline = s.ChoiceField(choices=Extension.Deadline.choices)
    until = s.DateField(help_text="La nouvelle échéance demandée.")
    reason = s.CharField(max_length=5000, help_text="Le motif de la demande.")
