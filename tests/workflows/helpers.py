"""Shared helpers for the agent-task tests: dossiers, and the task-list invariant."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cases import builders, works_deadlines
from cases.models import Case, User
from engine.transitions import available_transitions, transition_apply
from tests import factories as f
from workflows import selectors
from workflows.agent_tasks import case_process
from workflows.flows import AGENT_STEPS, CASE, REQUEST, SIDE_ACTIONS

PDF = b"%PDF-1.4\n%test\n"

PLANS = {
    "DETR": builders.plan(100000, ("DETR", 40000)),
    "LEADER": builders.plan(100000, ("LEADER", 40000), expense_label="Aménagement"),
    "LEADER+DETR": builders.plan(
        100000, ("LEADER", 30000), ("DETR", 30000), expense_label="Aménagement"
    ),
}


def today_iso() -> str:
    return timezone.localdate().isoformat()


def upload(user, case, code="other"):
    builders.document_add(actor=user, case=case, kind=code, content=PDF)


def new_case(porteur, plan: str, *, state="idea") -> Case:
    case = builders.case_build(
        porteur=porteur, title=f"Projet {plan}", plan=PLANS[plan], state=state
    )
    return Case.objects.get(pk=case.pk)


def attach_required(porteur, case):
    builders.case_documents_add(actor=porteur, case=case, content=PDF)


def generic_agent() -> User:
    return User(role=User.Role.AGENT)


def open_task_keys(case) -> set[tuple[str, str, int]]:
    return {
        (t.flow_task.name, t.seed_content_type.model, t.seed_object_id)
        for t in selectors.case_tasks(case)
    }


def expected_from_engine(case) -> set[tuple[str, str, int]]:
    """Recomputed here from ``available_transitions`` for an agent, independently of
    ``flows.expected_steps``: each agent-allowed transition is either a side action or
    belongs to exactly one step of the table, whose node must then be open."""
    case = Case.objects.get(pk=case.pk)
    agent = generic_agent()
    expected = set()
    subjects = [(CASE, case)] + [(REQUEST, fr) for fr in case.funding_requests.all()]
    for kind, subject in subjects:
        for name in available_transitions(subject, agent):
            steps = [
                s
                for s in AGENT_STEPS
                if s.subject == kind and s.state == subject.state and name in s.transitions
            ]
            assert len(steps) <= 1, (kind, subject.state, name)
            if not steps:
                assert (kind, name) in SIDE_ACTIONS or (
                    # start_instruction is offered by the fsm before the dossier is complete
                    # but its guard refuses it: not a task yet.
                    kind == REQUEST and name == "start_instruction"
                ), f"{kind}.{name} in state {subject.state} is neither a task nor a side action"
                continue
            step = steps[0]
            if step.ready is not None and not step.ready(subject):
                continue
            expected.add((step.node, kind, subject.pk))
    # A follow-up of the funder's decision (revised rules 5 and 7), read from the rule
    # itself: open while a works deadline of a running grant is missed and undecided.
    for fr in case.funding_requests.all():
        if works_deadlines.lapse_decision_due(fr) is not None:
            expected.add(("follow_lapse_decision", REQUEST, fr.pk))
    return expected


def assert_invariant(case, nodes: set[str] | None = None) -> set[tuple[str, str, int]]:
    """Open agent tasks == what an agent can do now; optionally also the node names."""
    actual = open_task_keys(case)
    assert actual == expected_from_engine(case)
    if nodes is not None:
        assert {key[0] for key in actual} == nodes
    process = case_process(case.pk)
    case.refresh_from_db()
    if case.is_terminal:
        assert actual == set()
        assert process is None or process.status in ("DONE",)
    else:
        assert process is not None and process.status == "NEW"
    return actual


def the_task(case, node: str):
    tasks = [t for t in selectors.case_tasks(case) if t.flow_task.name == node]
    assert len(tasks) == 1, [t.flow_task.name for t in selectors.case_tasks(case)]
    return tasks[0]


def committee_members(n_public=1, private_groups=("agriculture", "associations")):
    members = [f.committee_member(college="public") for _ in range(n_public)]
    members += [f.committee_member(college="private", interest_group=g) for g in private_groups]
    return members


def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


__all__ = ["transition_apply"]


def ensure_reference_data() -> None:
    """Territory and default schemes, reloaded when a transactional test flushed them."""
    from schemes.models import Commune, Scheme
    from tests.reference import reference_data_load

    reference_data_load(territory=not Commune.objects.exists(), schemes=not Scheme.objects.exists())
