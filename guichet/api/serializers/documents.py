"""Documents of a dossier and the opinions given on it."""

from __future__ import annotations

from rest_framework import serializers as s

from cases.models import Document, Opinion

from .fields import Label


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
    kind_label = Label("kind")
    value_label = Label("value")

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
