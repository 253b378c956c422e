"""Fields shared by every area: ids, money, available transitions, the error body."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as s

from engine import inputs
from engine.transitions import available_transitions

BIGINT = 2**63 - 1


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


class ChoiceLabelField(s.CharField):
    """The label of a choice (``get_<field>_display``), called directly: DRF reads a
    callable source through ``inspect.signature`` on every row (30 µs a field against
    8 µs; ~1 ms of a page of 20 dossiers, bench/README « scale.py »)."""

    def get_attribute(self, instance):
        display = getattr(instance, self.source, None)
        if display is None:  # not a model instance (a dict): DRF's own reading
            return super().get_attribute(instance)
        return display()


def Label(field: str) -> ChoiceLabelField:  # noqa: N802 - a field factory
    """The read-only label of ``field``'s choice, as ``get_<field>_display`` gives it."""
    return ChoiceLabelField(source=f"get_{field}_display", read_only=True)


class TransitionsMixin(s.Serializer):
    available_transitions = s.SerializerMethodField()

    @extend_schema_field(s.ListField(child=s.CharField()))
    def get_available_transitions(self, obj) -> list[str]:
        user = self.context.get("user")
        if user is None:
            return []
        return available_transitions(obj, user)


class ErrorSerializer(s.Serializer):
    detail = s.CharField()
    code = s.CharField(required=False)
    errors = s.DictField(child=s.JSONField(), required=False)
