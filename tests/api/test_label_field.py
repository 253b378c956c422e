"""``Label``: a choice's label read by calling ``get_<field>_display`` directly."""

from __future__ import annotations

from rest_framework import serializers as s

from cases.models import Case, CaseState
from guichet.api.serializers.fields import Label


class _CaseLabels(s.Serializer):
    state_label = Label("state")


def test_label_is_the_choice_display_of_each_state():
    for state in CaseState:
        case = Case(state=state.value)
        data = _CaseLabels(case).data
        assert data["state_label"] == case.get_state_display() == str(state.label)


def test_label_is_read_only_and_named_by_its_source():
    field = Label("state")
    assert field.read_only
    assert field.source == "get_state_display"
    assert _CaseLabels(data={"state_label": "x"}).is_valid()  # ignored on input


def test_label_of_something_else_than_a_model_is_read_as_drf_reads_it():
    # a read-only field absent from a dict is left out, as DRF's CharField does
    assert _CaseLabels({"state": "submitted"}).data == {}
