"""engine.fsm: the state fields found once per model are the ones django-fsm-2 would find
on each instance, and the optimistic lock they feed still refuses a stale save."""

from __future__ import annotations

import django_fsm
import pytest
from django.apps import apps

from cases.models import Case
from engine.fsm import ConcurrentTransitionMixin


def test_every_locked_model_has_the_state_fields_django_fsm_finds():
    models = [m for m in apps.get_models() if issubclass(m, django_fsm.ConcurrentTransitionMixin)]
    assert Case in models and all(issubclass(m, ConcurrentTransitionMixin) for m in models)
    for model in models:
        found = [f for f in model._meta.fields if isinstance(f, django_fsm.FSMFieldMixin)]
        assert list(model().state_fields) == found and found


@pytest.mark.django_db
def test_a_stale_instance_is_still_refused():
    from cases import builders
    from tests import factories as f

    case = builders.dossier(porteur=f.porteur(), stage="draft")
    stale = Case.objects.get(pk=case.pk)
    Case.objects.filter(pk=case.pk).update(state="abandoned")
    stale.title = "Autre titre"
    with pytest.raises(django_fsm.ConcurrentTransition):
        stale.save()
