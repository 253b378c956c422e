"""Randomized walks: porteurs, agents (through their tasks or directly, as the API and the
pages do), funders, the committee and the sweep move dossiers in any order the rules
allow; after every step the open agent tasks equal what an agent can do on the dossier and
its requests, and the tasks the step closed ended by the one rule (DONE for the task the
agent did, CANCELED for the others)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from viewflow.workflow.models import Task

from cases import committee, legal_track
from cases.lifecycle.receipt import FUNDERS_ACT_IN
from cases.models import Case, CaseState, FundingRequest, RequestState
from cases.models.case import WORKS_MAY_START
from engine.errors import DomainError
from engine.transitions import transition_apply
from tests import factories as f
from workflows import selectors
from workflows.agent_tasks import task_complete
from workflows.flows import CASE, STEPS_BY_NODE

from .helpers import assert_invariant, attach_required, new_case, today_iso, upload

pytestmark = pytest.mark.django_db

TASK_DATA = {
    "request_documents": {"documents": ["Délibération signée"]},
    "submit_to_committee": {"pre_score": "15"},
}
FUNDER_OF = {"DETR": "ETAT", "LEADER": "UE"}


@pytest.fixture
def cast():
    porteur = f.porteur()
    return {
        "porteur": porteur,
        "agent": f.agent(epci=porteur.organisation.epci),
        "ETAT": f.funder_instructor("ETAT"),
        "UE": f.funder_instructor("UE"),
        "members": [
            f.committee_member(college="public"),
            f.committee_member(college="private", interest_group="agriculture"),
            f.committee_member(college="private", interest_group="associations"),
        ],
    }


def task_moves(case: Case, agent) -> list[tuple[str, callable, int]]:
    """The agent doing each open task, through the task service or directly through the
    engine (as the API and the pages do): (label, thunk, the task that must end DONE)."""
    out = []
    for task in selectors.case_tasks(case):
        step = STEPS_BY_NODE[task.flow_task.name]
        subject = (
            case if step.subject == CASE else FundingRequest.objects.get(pk=task.seed_object_id)
        )
        for name in step.transitions:
            data = TASK_DATA.get(name, {})
            out.append(
                (
                    f"agent task {task.flow_task.name}: {name}",
                    lambda task=task, name=name, data=data: task_complete(
                        task=task, actor=agent, transition=name, data=data
                    ),
                    task.pk,
                )
            )
            out.append(
                (
                    f"agent directly {task.flow_task.name}: {name}",
                    lambda subject=subject, name=name, data=data: transition_apply(
                        instance=subject, name=name, actor=agent, data=data
                    ),
                    task.pk,
                )
            )
    return out


def moves(case: Case, cast) -> list[tuple[str, callable]]:
    """Every move the rules allow now besides the agent's tasks, each a (label, thunk)."""
    porteur, agent = cast["porteur"], cast["agent"]
    out = []

    def apply(obj, name, actor, **data):
        return lambda: transition_apply(instance=obj, name=name, actor=actor, data=data)

    state = case.state
    if state == CaseState.DRAFT:
        out.append(("porteur submit", apply(case, "submit", porteur)))
    if state == CaseState.INCOMPLETE:

        def provide():
            upload(porteur, case)
            transition_apply(instance=case, name="provide_documents", actor=porteur)

        out.append(("porteur provides documents", provide))
    if state == CaseState.INSTRUCTION:
        out.append(
            (
                "agent requests documents during instruction",
                apply(case, "request_documents", agent, documents=["Devis actualisé"]),
            )
        )
    live = legal_track.live_requests(case)
    if state in WORKS_MAY_START and any(fr.eligibility_start for fr in live):
        # revised rule 4: from the deposit on; those not received yet are withdrawn
        out.append(
            (
                "porteur starts works",
                apply(case, "start_works", porteur, date=today_iso(), confirm=True),
            )
        )
    if state == CaseState.IN_PROGRESS:
        out.append(
            ("porteur completes works", apply(case, "complete_works", porteur, date=today_iso()))
        )
    for fr in case.funding_requests.select_related("scheme"):
        funder = cast[FUNDER_OF[fr.scheme.code]]
        if fr.state == RequestState.REQUESTED:
            out.extend(legal_track_moves(fr, funder, apply))
        if fr.state == RequestState.REQUESTED and state in FUNDERS_ACT_IN:
            out.append((f"{fr.scheme.code} funder starts", apply(fr, "start_instruction", funder)))
        decidable = fr.state == RequestState.SELECTED or (
            fr.state == RequestState.INSTRUCTING and not fr.scheme.committee
        )
        if decidable and state in FUNDERS_ACT_IN:
            amount = str(fr.amount_requested)
            out.append(
                (f"{fr.scheme.code} grant", apply(fr, "grant", funder, amount_granted=amount))
            )
            out.append((f"{fr.scheme.code} refuse", apply(fr, "refuse", funder, motivation="Non.")))
        if fr.state == RequestState.GRANTED:
            out.append((f"{fr.scheme.code} commit", apply(fr, "commit", funder, date=today_iso())))
        if fr.state == RequestState.AWAITING_COMMITTEE:
            for vote in ("for", "against", None):
                out.append((f"committee votes {vote}", committee_move(fr, cast, agent, vote)))
    return out


def legal_track_moves(fr, funder, apply) -> list[tuple[str, callable]]:
    """Revised rules 1-2: the funder's receipt, its completeness (declared or deemed)."""
    code = fr.scheme.code
    if fr.received_on is None:
        return [(f"{code} funder acknowledges", apply(fr, "acknowledge", funder))]
    out = [(f"{code} funder declares complete", apply(fr, "declare_complete", funder))]
    if fr.scheme.deemed_complete:
        out.append((f"sweep: {code} réputé complet", apply(fr, "declare_complete", None)))
    return out


def assert_legal_track(case: Case) -> None:
    """No request in instruction without its funder's receipt; the dossier's state agrees
    with its requests'."""
    rows = list(case.funding_requests.values_list("state", "received_on", "complete_on"))
    for state, received, complete in rows:
        if state not in (RequestState.REQUESTED, RequestState.WITHDRAWN):
            assert received is not None and complete is not None, (state, received, complete)
    case.refresh_from_db()
    assert legal_track.states_agree(case.state, [r[0] for r in rows]) == "", case.state


def committee_move(fr, cast, agent, vote):
    def run():
        session = committee.session_create(
            actor=agent,
            date=timezone.localdate(),
            members=[m.pk for m in cast["members"]],
            scheme=fr.scheme,
        )
        if vote:
            scores = {"ancrage": 4, "innovation": 3, "transition": 3, "cooperation": 2}
            for member in cast["members"]:
                committee.vote_record(
                    actor=agent,
                    session=session,
                    funding_request_id=fr.pk,
                    member_id=member.pk,
                    vote=vote,
                    scores=scores,
                )
        transition_apply(instance=session, name="close", actor=agent)

    return run


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=st.sampled_from(["DETR", "LEADER", "LEADER+DETR"]),
    start=st.sampled_from(["idea", "draft"]),
    data=st.data(),
)
def test_open_tasks_always_match_what_agents_can_do(cast, plan, start, data):
    case = new_case(cast["porteur"], plan, state=start)
    attach_required(cast["porteur"], case)
    assert_invariant(case)
    for _ in range(30):
        case = Case.objects.get(pk=case.pk)
        options = task_moves(case, cast["agent"]) + [(*m, None) for m in moves(case, cast)]
        if not case.is_terminal and (not options or data.draw(st.integers(0, 9)) == 0):
            options.append(
                (
                    "porteur withdraws",
                    lambda case=case: transition_apply(
                        instance=case,
                        name="withdraw",
                        actor=cast["porteur"],
                        data={"reason": "Le porteur renonce."},
                    ),
                    None,
                )
            )
        if not options:
            break
        label, move, task_pk = data.draw(st.sampled_from(options), label="move")
        open_before = set(selectors.case_tasks(case).values_list("pk", flat=True))
        try:
            move()
        except DomainError as exc:  # a guard may refuse (e.g. the plan); nothing moved
            pytest.fail(f"{label}: {exc.message}")
        assert_invariant(case)
        assert_legal_track(case)
        # One outcome, whatever the entry: the task the agent did is DONE, every other
        # task the move closed is CANCELED.
        closed = Task.objects.filter(pk__in=open_before).exclude(status__in=["NEW", "ASSIGNED"])
        for pk, status in closed.values_list("pk", "status"):
            assert status == ("DONE" if pk == task_pk else "CANCELED"), (label, pk, status)
        event(f"{case.state} after {label.split(':')[0]}")
