"""One outcome per action, whatever the entry point: an agent's action ends the task it
stood for DONE (through the API, the web pages or ``task_complete``); the same action by a
funder, a porteur or the sweep, or a move that leaves the step behind, ends it CANCELED
with the reason (``workflows.agent_tasks._close``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from cases.models import Case, CaseState, FundingRequest, RequestState
from engine.sweep import sweep_expired
from engine.transitions import transition_apply
from tests import factories as f
from workflows.agent_tasks import STEP_GONE, task_complete

from .helpers import assert_invariant, attach_required, new_case, the_task, today_iso

pytestmark = pytest.mark.django_db

SUBMITTED_ACTIONS = {
    "declare_complete": {"date": None},  # today, filled in below
    "request_documents": {"documents": ["Plan de situation à jour"]},
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# ---------------------------------------------------------------- entry points


def _data(name: str) -> dict:
    data = dict(SUBMITTED_ACTIONS.get(name, {}))
    if "date" in data:
        data["date"] = today_iso()
    return data


def via_api(user, subject, name: str) -> None:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    kind = "cases" if isinstance(subject, Case) else "funding-requests"
    response = client.post(
        f"/api/v1/{kind}/{subject.pk}/transitions/{name}/", _data(name), format="json"
    )
    assert response.status_code == 200, response.data


def via_web(user, subject, name: str) -> None:
    """The agent's dossier page for a dossier, the funders' page for a funding request."""
    client = Client()
    client.force_login(user)
    kind = "dossiers" if isinstance(subject, Case) else "demandes"
    response = client.post(f"/{kind}/{subject.pk}/transitions/{name}/", _data(name))
    assert response.status_code == 302, response.content.decode()[:3000]


def via_task(user, subject, name: str) -> None:
    """The explicit « do this task » service."""
    case = subject if isinstance(subject, Case) else subject.case
    tasks = [
        t
        for t in Task.objects.filter(flow_task_type="HUMAN", status__in=["NEW", "ASSIGNED"])
        if t.seed_object_id == subject.pk and t.process.artifact_object_id == case.pk
    ]
    assert len(tasks) == 1
    task_complete(task=tasks[0], actor=user, transition=name, data=_data(name))


ENTRIES = {"api": via_api, "web": via_web, "task": via_task}


def outcome(task: Task, people: dict) -> dict:
    """The task's end, with users named by their part (comparable across dossiers)."""
    task.refresh_from_db()
    name = {u.pk: part for part, u in people.items()}
    data = task.data or {}
    return {
        "status": task.status,
        "owner": name.get(task.owner_id, task.owner_id),
        "transition": data.get("transition"),
        "done_by": name.get(data.get("done_by"), data.get("done_by")),
        "closed_because": data.get("closed_because"),
    }


# ---------------------------------------------------------------- dossiers


def submitted(porteur, on: dt.date | None = None) -> Case:
    case = new_case(porteur, "DETR", state="draft")
    attach_required(porteur, case)
    date = (on or timezone.localdate()).isoformat()
    transition_apply(instance=case, name="submit", actor=porteur, data={"date": date})
    return Case.objects.get(pk=case.pk)


def in_instruction(porteur, agent) -> tuple[Case, FundingRequest]:
    case = submitted(porteur)
    transition_apply(instance=case, name="declare_complete", actor=agent)
    return Case.objects.get(pk=case.pk), FundingRequest.objects.get(case=case)


@pytest.fixture
def people():
    porteur = f.porteur()
    return {
        "porteur": porteur,
        "referent": f.agent(epci=porteur.organisation.epci),
        "prefecture": f.funder_instructor("ETAT"),
    }


# ---------------------------------------------------------------- an agent acts: DONE


@pytest.mark.parametrize("name", sorted(SUBMITTED_ACTIONS))
def test_an_agents_action_on_a_dossier_ends_its_task_done_through_every_entry(people, name):
    results = {}
    for entry, act in ENTRIES.items():
        case = submitted(people["porteur"])
        task = the_task(case, "check_completeness")
        assert task.owner == people["referent"]
        act(people["referent"], case, name)
        results[entry] = outcome(task, people)
        case.refresh_from_db()
        assert case.state != CaseState.SUBMITTED
        assert_invariant(case)
    assert (
        results["api"]
        == results["web"]
        == results["task"]
        == {
            "status": "DONE",
            "owner": "referent",
            "transition": name,
            "done_by": "referent",
            "closed_because": None,
        }
    )


def test_an_agents_start_of_instruction_ends_its_task_done_through_every_entry(people):
    results = {}
    for entry, act in ENTRIES.items():
        case, fr = in_instruction(people["porteur"], people["referent"])
        task = the_task(case, "start_instruction")
        act(people["referent"], fr, "start_instruction")
        results[entry] = outcome(task, people)
        fr.refresh_from_db()
        assert fr.state == RequestState.INSTRUCTING
        assert_invariant(case, set())
    assert (
        results["api"]
        == results["web"]
        == results["task"]
        == {
            "status": "DONE",
            "owner": "referent",
            "transition": "start_instruction",
            "done_by": "referent",
            "closed_because": None,
        }
    )


@pytest.mark.parametrize("entry", ["api", "web"])
def test_a_queued_task_done_directly_goes_to_the_agent_who_did_it(entry):
    porteur = f.porteur()  # no agent of its EPCI yet: the dossier has no referent
    case = submitted(porteur)
    task = the_task(case, "check_completeness")
    assert task.owner is None and task.status == "NEW"
    agent = f.agent(epci=case.epci)
    ENTRIES[entry](agent, case, "declare_complete")
    people = {"agent": agent}
    assert outcome(task, people) == {
        "status": "DONE",
        "owner": "agent",
        "transition": "declare_complete",
        "done_by": "agent",
        "closed_because": None,
    }
    task.refresh_from_db()
    assert task.assigned is not None and task.started is not None and task.finished is not None


@pytest.mark.parametrize("entry", ["api", "web"])
def test_another_agent_or_an_administrator_does_the_task_its_owner_keeps_it(people, entry):
    cases = [submitted(people["porteur"]) for _ in range(2)]  # before the colleague joins
    colleague = f.agent(epci=people["porteur"].organisation.epci)
    admin = f.UserFactory(role="admin")
    for case, actor, part in zip(cases, (colleague, admin), ("colleague", "admin"), strict=True):
        task = the_task(case, "check_completeness")
        assert task.owner == people["referent"]
        ENTRIES[entry](actor, case, "declare_complete")
        assert outcome(task, {**people, part: actor}) == {
            "status": "DONE",
            "owner": "referent",
            "transition": "declare_complete",
            "done_by": part,
            "closed_because": None,
        }


# ---------------------------------------------------------------- nobody's task: CANCELED


@pytest.mark.parametrize("entry", ["api", "web"])
def test_a_funder_starting_instruction_cancels_the_agents_task(people, entry):
    case, fr = in_instruction(people["porteur"], people["referent"])
    task = the_task(case, "start_instruction")
    ENTRIES[entry](people["prefecture"], fr, "start_instruction")
    assert outcome(task, people) == {
        "status": "CANCELED",
        "owner": "referent",
        "transition": None,
        "done_by": None,
        "closed_because": "« Engager l'instruction » a été fait par un autre acteur "
        "(instructeur d'un financeur).",
    }
    assert_invariant(case, set())


def test_the_sweep_deeming_a_request_complete_leaves_the_desks_check_open(people):
    """Revised rule 2: « réputé complet » is the DETR request's (3 months after the
    préfecture's receipt), never the dossier's: the agent's check stays to do."""
    received = timezone.localdate() - dt.timedelta(days=125)
    case = submitted(people["porteur"], on=received)
    fr = case.funding_requests.get()
    transition_apply(
        instance=fr,
        name="acknowledge",
        actor=people["prefecture"],
        data={"date": received.isoformat()},
    )
    task = the_task(case, "check_completeness")
    sweep_expired()
    fr.refresh_from_db()
    case.refresh_from_db()
    assert fr.state == RequestState.INSTRUCTING and case.state == CaseState.SUBMITTED
    assert Task.objects.get(pk=task.pk).status in ("NEW", "ASSIGNED")
    assert_invariant(case, {"check_completeness"})


@pytest.mark.parametrize("who", ["porteur", "referent"])
def test_a_move_that_is_not_the_tasks_action_cancels_it(people, who):
    """Withdrawing is no action of « Vérifier la complétude », even for the agent: the
    dossier moved on without the task."""
    case = submitted(people["porteur"])
    task = the_task(case, "check_completeness")
    transition_apply(
        instance=case, name="withdraw", actor=people[who], data={"reason": "Projet abandonné."}
    )
    assert outcome(task, people) == {
        "status": "CANCELED",
        "owner": "referent",
        "transition": None,
        "done_by": None,
        "closed_because": STEP_GONE,
    }
    assert_invariant(case, set())
