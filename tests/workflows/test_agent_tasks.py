"""Agent tasks follow the dossier: walks of a DETR and a LEADER dossier, assignment,
queues by EPCI, concurrent completion."""

from __future__ import annotations

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task

from cases import committee
from cases.models import CaseState, RequestState
from engine.errors import DomainError
from engine.transitions import transition_apply
from schemes.models import EPCI
from tests import factories as f
from workflows import selectors
from workflows.agent_tasks import case_process, task_assign, task_complete
from workflows.flows import LeaderFlow, StandardFlow

from .helpers import (
    assert_invariant,
    attach_required,
    new_case,
    the_task,
    today_iso,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def porteur():
    return f.porteur()


@pytest.fixture
def referent(porteur):
    return f.agent(epci=porteur.organisation.epci)


def test_detr_dossier_walk(porteur, referent):
    prefecture = f.funder_instructor("ETAT")
    case = new_case(porteur, "DETR")
    assert case.referent_agent == referent
    process = case_process(case.pk)
    assert process.flow_class is StandardFlow and process.artifact == case
    assert_invariant(case, {"study_idea"})
    task = the_task(case, "study_idea")
    assert task.owner == referent and task.status == "ASSIGNED"
    assert task.title == "Étudier l'idée"
    assert list(selectors.inbox(referent)) == [task]

    done = task_complete(task=task, actor=referent, transition="start_scoping")
    assert done.status == "DONE" and done.data["transition"] == "start_scoping"
    case.refresh_from_db()
    assert case.state == CaseState.SCOPING
    assert_invariant(case, {"support_upstream"})

    task_complete(
        task=the_task(case, "support_upstream"), actor=referent, transition="open_application"
    )
    case.refresh_from_db()
    assert case.state == CaseState.DRAFT
    assert_invariant(case, set())  # the porteur prepares the application

    attach_required(porteur, case)
    transition_apply(instance=case, name="submit", actor=porteur, data={"date": today_iso()})
    assert_invariant(case, {"check_completeness"})

    # A guard failure leaves the task open and the dossier where it was.
    check = the_task(case, "check_completeness")
    with pytest.raises(DomainError) as err:
        task_complete(task=check, actor=referent, transition="request_documents", data={})
    assert err.value.code == "invalid"
    assert the_task(case, "check_completeness").status == "ASSIGNED"
    assert_invariant(case, {"check_completeness"})

    task_complete(
        task=check,
        actor=referent,
        transition="request_documents",
        data={"documents": ["Plan de situation à jour"]},
    )
    case.refresh_from_db()
    assert case.state == CaseState.INCOMPLETE
    assert_invariant(case, set())  # waiting for the porteur
    upload(porteur, case)
    transition_apply(instance=case, name="provide_documents", actor=porteur)
    assert_invariant(case, {"check_completeness"})
    second = the_task(case, "check_completeness")
    assert second.pk != check.pk

    task_complete(task=second, actor=referent, transition="declare_complete")
    case.refresh_from_db()
    assert case.state == CaseState.INSTRUCTION
    fr = case.funding_requests.get()
    keys = assert_invariant(case, {"start_instruction"})
    assert keys == {("start_instruction", "fundingrequest", fr.pk)}

    # The prefecture engages instruction itself: the agent's task is withdrawn.
    pending = the_task(case, "start_instruction")
    transition_apply(instance=fr, name="start_instruction", actor=prefecture)
    pending.refresh_from_db()
    assert pending.status == "CANCELED"
    assert_invariant(case, set())
    with pytest.raises(DomainError) as err:
        task_complete(task=pending, actor=referent, transition="start_instruction")
    assert err.value.code == "conflict" and err.value.status == 409

    transition_apply(
        instance=fr, name="grant", actor=prefecture, data={"amount_granted": "35000.00"}
    )
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED
    assert_invariant(case, set())
    transition_apply(instance=case, name="start_works", actor=porteur, data={"date": today_iso()})
    assert_invariant(case, set())
    transition_apply(
        instance=case, name="withdraw", actor=porteur, data={"reason": "Projet abandonné."}
    )
    assert_invariant(case, set())
    process.refresh_from_db()
    assert process.status == "DONE" and process.finished is not None
    assert not selectors.inbox(referent).exists()


def test_leader_dossier_walk_with_committee(porteur, referent):
    gal = f.funder_instructor("UE")
    members = [
        f.committee_member(college="public"),
        f.committee_member(college="private", interest_group="agriculture"),
        f.committee_member(college="private", interest_group="associations"),
    ]
    case = new_case(porteur, "LEADER", state="draft")
    assert case_process(case.pk).flow_class is LeaderFlow
    assert_invariant(case, set())
    attach_required(porteur, case)
    transition_apply(instance=case, name="submit", actor=porteur)
    task_complete(
        task=the_task(case, "check_completeness"), actor=referent, transition="declare_complete"
    )
    assert_invariant(case, {"start_instruction"})
    task_complete(
        task=the_task(case, "start_instruction"), actor=referent, transition="start_instruction"
    )
    fr = case.funding_requests.get()
    assert fr.__class__.objects.get(pk=fr.pk).state == RequestState.INSTRUCTING
    assert_invariant(case, {"present_to_committee"})

    present = the_task(case, "present_to_committee")
    with pytest.raises(DomainError) as err:  # pre-score under the grid's minimum
        task_complete(
            task=present, actor=referent, transition="submit_to_committee", data={"pre_score": 5}
        )
    assert err.value.code == "guard"
    assert_invariant(case, {"present_to_committee"})
    task_complete(
        task=present, actor=referent, transition="submit_to_committee", data={"pre_score": 15}
    )
    assert_invariant(case, set())  # waiting for the committee

    # First session: no vote on the project → adjourned → the agent resumes instruction.
    session = committee.session_create(
        actor=referent,
        date=timezone.localdate(),
        members=[m.pk for m in members],
        scheme=f.scheme("LEADER"),
    )
    transition_apply(instance=session, name="close", actor=referent)
    fr.refresh_from_db()
    assert fr.state == RequestState.ADJOURNED
    assert_invariant(case, {"resume_instruction"})
    task_complete(
        task=the_task(case, "resume_instruction"), actor=referent, transition="resume_instruction"
    )
    assert_invariant(case, {"present_to_committee"})
    task_complete(
        task=the_task(case, "present_to_committee"),
        actor=referent,
        transition="submit_to_committee",
        data={"pre_score": 16},
    )
    assert_invariant(case, set())

    # Second session: selected, then the GAL's funder grants.
    session = committee.session_create(
        actor=referent,
        date=session.date,
        members=[m.pk for m in members],
        scheme=f.scheme("LEADER"),
    )
    scores = {"ancrage": 4, "innovation": 3, "transition": 3, "cooperation": 2, "economie": 2}
    for member in members:
        committee.vote_record(
            actor=referent,
            session=session,
            funding_request_id=fr.pk,
            member_id=member.pk,
            vote="for",
            scores=scores,
        )
    transition_apply(instance=session, name="close", actor=referent)
    fr.refresh_from_db()
    assert fr.state == RequestState.SELECTED
    assert_invariant(case, set())
    transition_apply(instance=fr, name="grant", actor=gal, data={"amount_granted": "40000.00"})
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED
    assert_invariant(case, set())
    done = Task.objects.filter(process=case_process(case.pk), status="DONE", owner=referent)
    assert sorted(t.flow_task.name for t in done) == [
        "check_completeness",
        "present_to_committee",
        "present_to_committee",
        "resume_instruction",
        "start_instruction",
    ]


def test_flow_is_replaced_when_the_plan_turns_leader(porteur, referent):
    from cases import services

    case = new_case(porteur, "DETR")
    first = case_process(case.pk)
    assert first.flow_class is StandardFlow
    task_complete(task=the_task(case, "study_idea"), actor=referent, transition="open_application")
    case.refresh_from_db()
    services.case_update(
        actor=porteur,
        case=case,
        data={
            "financing_plan": {
                "expenses": [{"label": "Aménagement", "amount": "100000.00"}],
                "resources": [
                    {"kind": "scheme", "scheme": "LEADER", "amount": "40000.00"},
                    {"kind": "self", "amount": "60000.00"},
                ],
            }
        },
    )
    attach_required(porteur, case)
    transition_apply(instance=case, name="submit", actor=porteur)
    second = case_process(case.pk)
    assert second.flow_class is LeaderFlow and second.pk != first.pk
    first.refresh_from_db()
    assert first.status == "CANCELED"
    assert_invariant(case, {"check_completeness"})


def test_mixed_leader_and_detr_dossier(porteur, referent):
    prefecture = f.funder_instructor("ETAT")
    case = new_case(porteur, "LEADER+DETR", state="draft")
    attach_required(porteur, case)
    transition_apply(instance=case, name="submit", actor=porteur)
    task_complete(
        task=the_task(case, "check_completeness"), actor=referent, transition="declare_complete"
    )
    leader = case.funding_requests.get(scheme__code="LEADER")
    detr = case.funding_requests.get(scheme__code="DETR")
    keys = assert_invariant(case, {"start_instruction"})
    assert keys == {
        ("start_instruction", "fundingrequest", leader.pk),
        ("start_instruction", "fundingrequest", detr.pk),
    }
    transition_apply(instance=detr, name="start_instruction", actor=prefecture)
    task_complete(
        task=the_task(case, "start_instruction"), actor=referent, transition="start_instruction"
    )
    # The DETR request is instructed by the prefecture: no committee task for it.
    keys = assert_invariant(case, {"present_to_committee"})
    assert keys == {("present_to_committee", "fundingrequest", leader.pk)}


def test_queue_by_epci(porteur):
    case = new_case(porteur, "DETR")  # no agent yet: nobody is referent
    assert case.referent_agent is None
    task = the_task(case, "study_idea")
    assert task.owner is None and task.status == "NEW"
    mine = f.agent(epci=case.epci)
    other_epci = EPCI.objects.exclude(pk=case.epci_id).first()
    outsider = f.agent(epci=other_epci)
    assert list(selectors.queue(mine)) == [task]
    assert not selectors.queue(outsider).exists()
    assert not selectors.inbox(mine).exists()
    assert not selectors.queue(porteur).exists()

    with pytest.raises(DomainError) as err:
        task_assign(task=task, actor=outsider)
    assert err.value.code == "forbidden"
    with pytest.raises(DomainError) as err:
        task_complete(task=task, actor=outsider, transition="start_scoping")
    assert err.value.code == "forbidden"
    with pytest.raises(DomainError) as err:
        task_complete(task=task, actor=mine, transition="start_scoping")
    assert err.value.code == "unavailable"
    with pytest.raises(DomainError) as err:
        task_assign(task=task, actor=porteur)
    assert err.value.code == "forbidden"

    taken = task_assign(task=task, actor=mine)
    assert taken.owner == mine and taken.status == "ASSIGNED"
    assert list(selectors.inbox(mine)) == [taken]
    assert not selectors.queue(mine).exists()
    with pytest.raises(DomainError) as err:
        task_assign(task=task, actor=f.agent(epci=case.epci))
    assert err.value.code == "conflict"
    with pytest.raises(DomainError) as err:
        task_complete(task=task, actor=outsider, transition="start_scoping")
    assert err.value.code == "forbidden"
    with pytest.raises(DomainError) as err:  # not an action of this task
        task_complete(task=task, actor=mine, transition="declare_complete")
    assert err.value.code == "invalid"

    task_complete(task=task, actor=mine, transition="start_scoping")
    # The next step is queued again (the dossier still has no referent).
    nxt = the_task(case, "support_upstream")
    assert nxt.owner is None
    assert list(selectors.queue(mine)) == [nxt]


def test_second_completion_of_a_task_is_a_conflict(porteur, referent):
    case = new_case(porteur, "DETR")
    task = the_task(case, "study_idea")
    stale = Task.objects.get(pk=task.pk)
    task_complete(task=task, actor=referent, transition="start_scoping")
    with pytest.raises(DomainError) as err:
        task_complete(task=stale, actor=referent, transition="open_application")
    assert err.value.code == "conflict" and err.value.status == 409
    case.refresh_from_db()
    assert case.state == CaseState.SCOPING
    assert_invariant(case, {"support_upstream"})


def test_withdrawn_dossier_has_no_open_task(porteur, referent):
    case = new_case(porteur, "LEADER", state="draft")
    attach_required(porteur, case)
    transition_apply(instance=case, name="submit", actor=porteur)
    assert_invariant(case, {"check_completeness"})
    transition_apply(
        instance=case, name="withdraw", actor=referent, data={"reason": "Le porteur renonce."}
    )
    assert_invariant(case, set())
    assert not selectors.inbox(referent).exists()
    assert case_process(case.pk).status == "DONE"
