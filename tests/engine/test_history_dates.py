"""The history keeps the date of events recorded after the fact, in order."""

import datetime as dt

import pytest
from django.utils import timezone
from django_fsm_log.models import StateLog

from cases import services
from engine.transitions import transition_apply
from tests import factories as f

pytestmark = pytest.mark.django_db


def _log(case, name):
    return StateLog.objects.get(object_id=case.pk, transition=name, content_type__model="case")


def test_history_keeps_event_dates_and_its_order():
    agent = f.agent()
    porteur = f.porteur()
    case = services.case_create(actor=porteur, data={"title": "Tiers-lieu"})
    transition_apply(instance=case, name="start_scoping", actor=agent, data={"date": "2026-01-05"})
    at = _log(case, "start_scoping").timestamp
    assert timezone.localtime(at).date() == dt.date(2026, 1, 5)
    assert timezone.localtime(at).hour == 12
    # a step dated before the previous one cannot jump ahead of it in the history
    transition_apply(
        instance=case, name="open_application", actor=agent, data={"date": "2025-12-01"}
    )
    assert _log(case, "open_application").timestamp == at
    # no date, or today's: the moment it is recorded
    case.refresh_from_db()
    transition_apply(instance=case, name="withdraw", actor=porteur, data={"reason": "Abandon"})
    assert _log(case, "withdraw").timestamp > at
    assert timezone.localtime(_log(case, "withdraw").timestamp).date() == timezone.localdate()
