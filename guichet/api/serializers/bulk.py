"""The body and the answer of ``POST /funding-requests/bulk/{name}/`` (api.md « Additions »)."""

from __future__ import annotations

from rest_framework import serializers as s

from cases.services.bulk import MAX_ITEMS

from .fields import Id
from .transitions import TransitionInputSerializer


class BulkItemSerializer(TransitionInputSerializer):
    """One request and the fields its transition reads (the same as one by one)."""

    id = Id(help_text="Identifiant de la demande de financement.")


class BulkInputSerializer(s.Serializer):
    items = BulkItemSerializer(
        many=True,
        max_length=MAX_ITEMS,
        help_text=f"Les demandes, {MAX_ITEMS} au plus, chacune une seule fois.",
    )


class BulkRefusalSerializer(s.Serializer):
    id = s.IntegerField()
    status = s.IntegerField(help_text="Le statut HTTP que la demande seule aurait reçu.")
    detail = s.CharField(help_text="Le message que la demande seule aurait reçu.")


class BulkReportSerializer(s.Serializer):
    applied = s.ListField(child=s.IntegerField(), help_text="Les demandes transitionnées.")
    refused = BulkRefusalSerializer(many=True)
