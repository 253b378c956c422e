"""Revised rules 5 and 7 (issue 11) through the API: every overdue deadline becomes
``missed`` (with or without an automatic transition) and keeps escalating, the sweep
never lapses, the funder's instructor records the lapse once a works deadline is missed,
and the dossier lapses when no live request remains."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType

from cases import builders
from cases.models import FundingRequest
from engine.models import Deadline
from engine.sweep import sweep_expired
from notifications.models import Reminder
from notifications.reminders import reminders_plan, reminders_send
from tests import factories as f

from .helpers import act_request, deadline_of, get, request_of

pytestmark = pytest.mark.django_db
D = dt.date


def granted(*, granted="2024-06-03", receipt="2024-05-02", complete="2024-05-10"):
    """A DETR dossier granted on ``granted``: its works_start deadline is 2 years later."""
    porteur, agent = f.porteur(), f.agent()
    instructor = f.funder_instructor("ETAT")
    case = builders.dossier(
        porteur=porteur,
        stage="granted",
        agent=agent,
        instructor=instructor,
        receipt=receipt,
        complete=complete,
        granted=granted,
    )
    case.referent_agent = agent
    case.save(update_fields=["referent_agent"])
    fr = case.funding_requests.get()
    return case, fr, porteur, agent, instructor


def works_start(fr: FundingRequest) -> Deadline:
    return Deadline.objects.get(
        subject_type=ContentType.objects.get_for_model(FundingRequest),
        subject_id=fr.pk,
        kind="works_start",
    )


def test_the_sweep_never_lapses_a_missed_start_of_works(api):
    case, fr, porteur, agent, _ = granted()
    deadline = works_start(fr)
    assert deadline.due_on == D(2026, 6, 3) and deadline.expiry_transition == ""
    sweep_expired(today=D(2026, 6, 3))  # the last day: still in time
    assert works_start(fr).state == "open"
    assert sweep_expired(today=D(2026, 6, 4)) == 0  # no transition applied
    body = get(api(agent), f"/cases/{case.pk}/")
    assert body["state"] == "decided"
    assert request_of(body, "DETR")["state"] == "granted"
    assert deadline_of(body, "works_start", fr.pk)["state"] == "missed"
    # a second pass changes nothing
    assert sweep_expired(today=D(2026, 6, 10)) == 0
    assert works_start(fr).state == "missed"


def test_the_funder_records_the_lapse_once_the_deadline_is_missed(api):
    case, fr, porteur, agent, instructor = granted(granted="2025-03-03")
    prefecture = api(instructor)
    body = {"date": "2026-11-30", "motivation": "Travaux non commencés dans les deux ans."}
    refused = act_request(prefecture, fr.pk, "lapse", 400, **body)  # not missed yet
    assert "dépassée" in refused["detail"]

    Deadline.objects.filter(pk=works_start(fr).pk).update(due_on=D(2026, 10, 5))
    sweep_expired()
    assert works_start(fr).state == "missed"
    assert get(api(agent), f"/cases/{case.pk}/")["state"] == "decided"

    # the porteur and the agent may not; another funder does not see the request
    act_request(api(porteur), fr.pk, "lapse", 403, **body)
    act_request(api(agent), fr.pk, "lapse", 403, **body)
    act_request(api(f.funder_instructor("REGION_OCC")), fr.pk, "lapse", 404, **body)
    missing = act_request(prefecture, fr.pk, "lapse", 400, date="2026-11-30")
    assert "motivation" in missing["detail"]
    early = act_request(prefecture, fr.pk, "lapse", 400, date="2026-10-05", motivation="x")
    assert "après l'échéance" in early["detail"]

    after = act_request(prefecture, fr.pk, "lapse", **body)
    assert after["state"] == "lapsed"
    case_body = get(api(agent), f"/cases/{case.pk}/")
    assert case_body["state"] == "lapsed"  # no live request remains
    steps = [(h["subject"], h["transition"]) for h in case_body["history"]][-2:]
    assert steps == [("funding_request", "lapse"), ("case", "lapse")]
    assert case_body["history"][-2]["by"] is not None


def test_a_missed_deadline_without_transition_escalates_once_to_referent_then_director():
    case, fr, porteur, agent, _ = granted()
    director = f.UserFactory(role="director", email="direction@example.org")
    sweep_expired(today=D(2026, 6, 4))
    assert works_start(fr).state == "missed"

    def sent(today):
        return reminders_send(reminders_plan(today=today), today=today)

    assert sent(D(2026, 6, 4)) == 1  # D+1: the referent agent
    assert sent(D(2026, 6, 5)) == 0  # once
    assert sent(D(2026, 6, 11)) == 1  # D+8: the director
    assert sent(D(2026, 6, 12)) == 0
    escalations = Reminder.objects.filter(deadline=works_start(fr), escalation=True)
    assert sorted(escalations.values_list("recipient_id", "offset", "state")) == sorted(
        [(agent.pk, -1, "sent"), (director.pk, -8, "sent")]
    )
    assert not Reminder.objects.filter(recipient=porteur, escalation=False, offset__lt=0).exists()
