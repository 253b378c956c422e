"""Revised rules 5 and 7 (issue 11): when a works deadline of a running grant passes, the
sweep marks it ``missed`` and the funder's instructor and the referent agent are told to
act — an alert ``works_deadline_missed`` (for the organisation, the referent agent and the
funder's instructors) and the referent agent's task « caducité ou prorogation ». Both are
opened once, however many sweeps run, and end when the funder decides: the lapse
recorded, or an extension granted that moves the deadline, or the dossier withdrawn."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from cases.models import Case
from engine.models import Deadline
from notifications.models import Alert, Notification
from tests import factories as f
from tests.api.helpers import get, post
from tests.api.test_missed_and_lapse import granted, works_start
from workflows import selectors
from workflows.lapse_tasks import lapse_tasks_sync

from .builders import at

pytestmark = pytest.mark.django_db
D = dt.date
KIND = "works_deadline_missed"
NODE = "follow_lapse_decision"
LABEL = "Constater la caducité ou accorder une prorogation — DETR, échéance du 03/06/2026"


def client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def sweep(day: dt.date) -> None:
    """The whole periodic pass (deadlines, outbox, reminders, alerts, tasks), as the
    ``sweep`` command runs it on ``day``."""
    with open("/dev/null", "w") as out:
        call_command("sweep", date=day.isoformat(), stdout=out)


def alerts(case) -> list[Alert]:
    return list(Alert.objects.filter(case=case, kind=KIND).order_by("id"))


def follow_tasks(case) -> list[Task]:
    return [t for t in selectors.case_tasks(case, open_only=False) if t.flow_task.name == NODE]


def notified(user) -> int:
    return Notification.objects.filter(user=user, kind=f"alert.{KIND}").count()


def missed_and_told():
    """A granted DETR request (works to start by 03/06/2026, ``granted()``) swept on
    04/06/2026, then again (with the outbox relayed) on 05/06/2026."""
    case, fr, porteur, agent, instructor = granted()
    assert works_start(fr).due_on == D(2026, 6, 3)
    sweep(D(2026, 6, 3))  # the last day: still in time
    assert works_start(fr).state == "open" and alerts(case) == [] and follow_tasks(case) == []
    sweep(D(2026, 6, 4))
    assert works_start(fr).state == "missed"
    sweep(D(2026, 6, 5))  # a second pass: nothing new
    return case, fr, porteur, agent, instructor


def test_a_missed_start_of_works_gives_one_alert_and_one_task():
    case, fr, porteur, agent, instructor = missed_and_told()

    [alert] = alerts(case)
    assert (alert.state, alert.organisation_id, alert.subject_id) == (
        "open",
        case.organisation_id,
        fr.pk,
    )
    assert alert.subject_type.model == "fundingrequest"
    assert LABEL in alert.message and "dépassée depuis 2 jours." in alert.message
    assert alert.data["deadline"] == works_start(fr).pk

    [task] = follow_tasks(case)
    assert task.status in ("NEW", "ASSIGNED") and task.owner == agent  # the referent
    assert (task.seed_content_type.model, task.seed_object_id) == ("fundingrequest", fr.pk)
    assert task.data["label"] == f"{LABEL} (commencement des travaux)"
    assert task in selectors.inbox(agent)

    # each hears of it once: the porteur, the referent agent and the funder's instructor
    other_funder = f.funder_instructor("REGION_OCC")
    assert [notified(u) for u in (porteur, agent, instructor, other_funder)] == [1, 1, 1, 0]
    listed = get(client(instructor), "/alerts/", kind=KIND)
    assert [(a["subject"], a["subject_id"], a["state"]) for a in listed] == [
        ("funding_request", fr.pk, "open")
    ]
    assert get(client(other_funder), "/alerts/", kind=KIND) == []
    assert [a["id"] for a in get(client(agent), "/alerts/", kind=KIND)] == [alert.pk]
    assert [a["id"] for a in get(client(porteur), "/alerts/", kind=KIND)] == [alert.pk]

    # the agent's and the porteur's dossier pages show them
    for user, name, shown in (
        (agent, "web:case-detail", ("Échéance de travaux dépassée : caducité ou prorogation",)),
        (porteur, "web:case-porteur", ()),
    ):
        page = Client()
        page.force_login(user)
        response = page.get(reverse(name, args=[case.pk]))
        assert response.status_code == 200
        for text in (LABEL, *shown):
            assert text in response.content.decode(), (user.role, text)

    # more sweeps, and the task job on its own: still one alert, one task, one notice each
    sweep(D(2026, 6, 6))
    assert lapse_tasks_sync() == 0
    assert [a.pk for a in alerts(case)] == [alert.pk]
    assert [t.pk for t in follow_tasks(case)] == [task.pk]
    assert [notified(u) for u in (porteur, agent, instructor)] == [1, 1, 1]

    # it keeps escalating: critical a month after the deadline
    sweep(D(2026, 7, 6))
    [alert] = alerts(case)
    assert alert.severity == Alert.Severity.CRITICAL and "depuis 33 jours" in alert.message


def test_the_lapse_recorded_resolves_the_alert_and_closes_the_task():
    case, fr, porteur, agent, instructor = missed_and_told()
    [task] = follow_tasks(case)
    # the agent may not record the lapse: the task is the funder's decision to follow
    post(
        client(agent),
        f"/funding-requests/{fr.pk}/transitions/lapse/",
        {"date": "2026-06-10", "motivation": "Travaux non commencés."},
        403,
    )
    with at(D(2026, 6, 10)):
        body = post(
            client(instructor),
            f"/funding-requests/{fr.pk}/transitions/lapse/",
            {"date": "2026-06-10", "motivation": "Travaux non commencés dans les deux ans."},
        )
    assert body["state"] == "lapsed"
    assert Case.objects.get(pk=case.pk).state == "lapsed"
    task.refresh_from_db()
    assert task.status == "CANCELED"
    assert task.data["closed_because"] == "Le financeur a constaté la caducité de l'aide DETR."
    assert selectors.case_tasks(case).count() == 0
    [alert] = alerts(case)  # resolved by the decision itself, not a pass later
    assert alert.state == "resolved" and alert.resolved_at is not None

    sweep(D(2026, 6, 11))
    assert [(a.pk, a.state) for a in alerts(case)] == [(alert.pk, "resolved")]
    assert works_start(fr).state == "missed"  # the deadline stays missed: it was
    sweep(D(2026, 6, 12))
    assert [a.state for a in alerts(case)] == ["resolved"] and len(follow_tasks(case)) == 1


def test_an_extension_granted_moves_the_deadline_resolves_the_alert_and_closes_the_task():
    case, fr, porteur, agent, instructor = granted()
    with at(D(2026, 5, 20)):  # asked before the deadline, as the rule wants
        extension = post(
            client(porteur),
            f"/funding-requests/{fr.pk}/extensions/",
            {"deadline": "works_start", "until": "2027-03-01", "reason": "Appel d'offres."},
            201,
        )
    sweep(D(2026, 6, 4))  # not decided in time: missed, alert and task
    assert works_start(fr).state == "missed"
    [alert] = alerts(case)
    [task] = follow_tasks(case)
    assert task.status in ("NEW", "ASSIGNED")

    with at(D(2026, 6, 8)):
        post(
            client(instructor),
            f"/extensions/{extension['id']}/transitions/grant/",
            {"date": "2026-06-08", "motivation": "Demandée à temps."},
        )
    deadline = works_start(fr)
    assert (deadline.state, deadline.due_on) == ("open", D(2027, 3, 1))
    task.refresh_from_db()
    assert task.status == "CANCELED"
    assert task.data["closed_because"] == (
        "Une prorogation accordée par le financeur a déplacé l'échéance."
    )

    alert.refresh_from_db()
    assert alert.state == "resolved"

    sweep(D(2026, 6, 9))
    assert [(a.pk, a.state) for a in alerts(case)] == [(alert.pk, "resolved")]
    assert [t.pk for t in follow_tasks(case)] == [task.pk]  # none opened again
    assert Case.objects.get(pk=case.pk).state == "decided"  # the grant runs on


def test_a_withdrawn_dossier_ends_them_too():
    case, fr, porteur, agent, instructor = missed_and_told()
    [task] = follow_tasks(case)
    with at(D(2026, 6, 9)):
        post(
            client(porteur),
            f"/cases/{case.pk}/transitions/withdraw/",
            {"reason": "Le conseil municipal renonce au projet."},
        )
    task.refresh_from_db()
    assert task.status == "CANCELED"
    assert task.data["closed_because"] == "La demande DETR n'est plus en cours (retirée)."
    assert [a.state for a in alerts(case)] == ["resolved"]
    sweep(D(2026, 6, 10))
    assert [a.state for a in alerts(case)] == ["resolved"]


def test_a_deadline_met_or_still_open_raises_nothing():
    case, fr, porteur, agent, instructor = granted()
    sweep(D(2026, 6, 1))
    assert alerts(case) == [] and follow_tasks(case) == []
    Deadline.objects.filter(pk=works_start(fr).pk).update(state="met")
    sweep(D(2026, 6, 10))
    assert alerts(case) == [] and follow_tasks(case) == []
