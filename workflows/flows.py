"""The viewflow flows that turn the agents' work on a dossier into tasks.

One viewflow ``Process`` per dossier (``process.artifact`` is the ``Case``), of one of two
flow classes chosen by the dossier's schemes: ``LeaderFlow`` when one of them goes
through the LEADER committee (``flow_kind == "leader"`` or ``committee``), else
``StandardFlow``. Before submission the schemes are only wished for in the financing
plan; if that changes the kind of flow, the process is replaced at the next transition
(``workflows.agent_tasks``).

The dossier's state machines (``cases.lifecycle``, applied by the engine) are the
graph: viewflow does not decide what comes next, it holds the task list. Each process
has one « Suivi du dossier » task (a ``Handle``, i.e. a BPMN receive task) that stays
open while the dossier lives and is completed when it reaches a terminal state, which
ends the process. While it waits, the agent steps below are opened and closed as human
tasks (``ManualTask``: the agent does the work in the application, and completing the
task applies one of its transitions through ``engine.transitions.transition_apply``).
Porteur steps (draft, documents, works…), funder steps (grant, commit, payments) and
automatic steps (sweep, committee outcomes) are not agent tasks: the process waits.

Agent steps — the table the task list is kept equal to (``AGENT_STEPS``):

=====================  ===============  ==================  ================================
node                   subject          subject state       transitions (actions)
=====================  ===============  ==================  ================================
study_idea             dossier          idea                start_scoping, open_application
support_upstream       dossier          scoping             open_application
check_completeness     dossier          submitted           declare_complete,
                                                            request_documents
start_instruction      funding request  requested (and      start_instruction
                                        dossier in
                                        instruction)
present_to_committee   funding request  instructing (and    submit_to_committee
(LEADER only)                           dossier in
                                        instruction)
resume_instruction     funding request  adjourned           resume_instruction
(LEADER only)
follow_lapse_decision  funding request  granted, committed, (the funder's: lapse; an
                                        paying, with a      extension granted moves the
                                        works deadline      deadline)
                                        missed
=====================  ===============  ==================  ================================

A step is open exactly when its subject is in its state and one of its transitions is in
``engine.transitions.available_transitions(subject, <an agent>)`` (plus the dossier in
instruction for ``start_instruction`` and ``present_to_committee``, a guard the engine
only checks when applied).

One step is a follow-up (``follows``): the decision is the funder's, not the agent's.
``follow_lapse_decision`` (revised rules 5 and 7) is open while the request's works
deadline is missed and its funder has neither recorded the lapse nor granted an extension
moving it (``cases.works_deadlines.lapse_decisions_due``, the rule the alert
``works_deadline_missed`` reads too): the referent agent follows the funder's decision
and keeps the porteur informed. The sweep marks deadlines ``missed`` without a
transition, so a periodic job opens these tasks (``workflows.lapse_tasks``); the
funder's lapse, the grant of an extension, the end of the request or of the dossier close
them (CANCELED, saying which: ``closed_because``; DONE only when an administrator records
the lapse, by the one outcome rule). The funder's instructor is told by the alert: the
tasks are the agents' (referent or EPCI queue), a funder has no task list.

What else an agent may do but is not a task (``SIDE_ACTIONS``): withdraw a dossier or a
request (any live state), request documents during instruction, declare the start or
the end of works on the porteur's behalf, record a funder's receipt or completeness of
its request on its behalf, close a committee session (a session is not a dossier: it
has no process).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import select_for_update_lock

from cases.models import LIVE_GRANTS, FundingRequest, RequestState, User
from cases.works_deadlines import lapse_decision_due, lapse_decision_label
from engine.prepared import prepared_rows
from engine.transitions import available_transitions
from schemes.models import Scheme

CASE = "case"
REQUEST = "fundingrequest"

STANDARD = "standard"
LEADER = "leader"


def _case_in_instruction(subject) -> bool:
    return subject.case.state == "instruction"


def _lapse_decision_due(fr) -> bool:
    return lapse_decision_due(fr) is not None


def _lapse_decision_outcome(fr) -> str:
    if fr.state == RequestState.LAPSED:
        return f"Le financeur a constaté la caducité de l'aide {fr.scheme.code}."
    if fr.state not in LIVE_GRANTS:
        return (
            f"La demande {fr.scheme.code} n'est plus en cours ({fr.get_state_display().lower()})."
        )
    if lapse_decision_due(fr) is None:
        return "Une prorogation accordée par le financeur a déplacé l'échéance."
    return ""


def _lapse_decision_details(fr) -> dict:
    deadline = lapse_decision_due(fr)
    if deadline is None:
        return {}
    return {
        "label": lapse_decision_label(fr, deadline),
        "deadline": deadline.pk,
        "due_on": deadline.due_on.isoformat(),
    }


@dataclass(frozen=True)
class AgentStep:
    node: str
    subject: str  # CASE or REQUEST (model_name of the subject)
    state: str
    transitions: tuple[str, ...]
    title: str
    description: str
    ready: Callable[[object], bool] | None = None  # a condition the fsm does not hold
    leader_only: bool = False
    also_in: tuple[str, ...] = ()  # other states of the subject where the step applies
    #: a follow-up of someone else's decision: open on its states and ``ready`` alone
    follows: bool = False
    #: what the task records when it opens (its label with the subject's own facts)
    details: Callable[[object], dict] | None = None
    #: why it closed when none of its actions was done (the subject, read again)
    closed_because: Callable[[object], str] | None = None
    #: the kinds of the subject's deadlines that give the task its due date (« Échéance »)
    deadline_kinds: tuple[str, ...] = ()

    def applies_in(self, state: str) -> bool:
        return state == self.state or state in self.also_in

    def label(self, subject=None) -> str:
        """The task as the lists name it: its title, and for a request the scheme and its
        funder (two requests of one dossier open two tasks that must not read alike)."""
        if self.subject != REQUEST or subject is None:
            return self.title
        return f"{self.title} — demande {subject.scheme.code}, {subject.scheme.funder.name}"


AGENT_STEPS: tuple[AgentStep, ...] = (
    AgentStep(
        "study_idea",
        CASE,
        "idea",
        ("start_scoping", "open_application"),
        "Étudier l'idée",
        "Prendre connaissance de la fiche projet : accompagner le porteur en amont ou "
        "ouvrir directement la demande.",
    ),
    AgentStep(
        "support_upstream",
        CASE,
        "scoping",
        ("open_application",),
        "Accompagner en amont",
        "Aider le porteur à préciser son projet, puis ouvrir la demande.",
    ),
    AgentStep(
        "check_completeness",
        CASE,
        "submitted",
        ("declare_complete", "request_documents"),
        "Vérifier la complétude",
        "Contrôler les pièces du dossier déposé : le déclarer complet ou demander les "
        "pièces manquantes.",
        deadline_kinds=("completeness",),
    ),
    AgentStep(
        "start_instruction",
        REQUEST,
        "requested",
        ("start_instruction",),
        "Engager l'instruction",
        "Le dossier est complet : engager l'instruction de la demande auprès du financeur.",
        ready=_case_in_instruction,
        deadline_kinds=("completeness", "implicit_decision"),
    ),
    AgentStep(
        "present_to_committee",
        REQUEST,
        "instructing",
        ("submit_to_committee",),
        "Instruire et présenter au comité",
        "Instruire la demande LEADER, la pré-noter sur la grille de sélection et "
        "l'inscrire au comité de programmation.",
        ready=_case_in_instruction,
        leader_only=True,
        deadline_kinds=("implicit_decision",),
    ),
    AgentStep(
        "resume_instruction",
        REQUEST,
        "adjourned",
        ("resume_instruction",),
        "Reprendre l'instruction",
        "Le comité a ajourné la demande : reprendre l'instruction avec le porteur.",
        leader_only=True,
    ),
    AgentStep(
        "follow_lapse_decision",
        REQUEST,
        LIVE_GRANTS[0],  # granted, and the other states of a running grant
        ("lapse",),
        "Échéance de travaux dépassée : caducité ou prorogation",
        "L'échéance de commencement ou d'achèvement des travaux est dépassée : le "
        "financeur doit constater la caducité ou accorder une prorogation (si le porteur "
        "l'a demandée avant l'échéance). Relancer le financeur et tenir le porteur informé.",
        ready=_lapse_decision_due,
        also_in=tuple(LIVE_GRANTS[1:]),
        follows=True,
        details=_lapse_decision_details,
        closed_because=_lapse_decision_outcome,
        deadline_kinds=("works_start", "works_completion"),
    ),
)

STEPS_BY_NODE = {step.node: step for step in AGENT_STEPS}


def task_deadline_kinds(subject: str) -> tuple[str, ...]:
    """The deadline kinds that date the tasks on a subject (``CASE`` or ``REQUEST``)."""
    kinds = {k for step in AGENT_STEPS if step.subject == subject for k in step.deadline_kinds}
    return tuple(sorted(kinds))


# (subject, transition): what an agent may do that is not a task of its own.
SIDE_ACTIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (CASE, "withdraw"),
        (CASE, "request_documents"),  # during instruction; at submission it is a task
        (CASE, "start_works"),
        (CASE, "complete_works"),
        (REQUEST, "withdraw"),
        # on a funder's behalf (its receipt, its completeness: revised rule 1, ADR 009)
        (REQUEST, "acknowledge"),
        (REQUEST, "declare_complete"),
    }
)


def _agent_task(node: str):
    step = STEPS_BY_NODE[node]
    return (
        flow.ManualTask()
        .Annotation(title=step.title, description=step.description)
        .Assign(this.task_owner)
        .Next(this.end)
    )


class _DossierNodes:
    """Nodes and callbacks shared by both flows (a plain mixin: each flow class gets
    its own copies of the nodes, resolved against itself)."""

    lock_impl = select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.follow)
    follow = (
        flow.Handle()
        .Annotation(
            title="Suivi du dossier",
            description="Attend que le dossier atteigne un état final ; les étapes des "
            "agents s'ouvrent et se ferment pendant ce temps selon son état.",
        )
        .Next(this.end)
    )
    study_idea = _agent_task("study_idea")
    support_upstream = _agent_task("support_upstream")
    check_completeness = _agent_task("check_completeness")
    start_instruction = _agent_task("start_instruction")
    follow_lapse_decision = _agent_task("follow_lapse_decision")
    end = flow.End()

    def start_process(self, activation, case):
        activation.process.artifact = case
        activation.process.data = {"case": case.pk, "reference": case.reference or ""}
        return activation.process

    def task_owner(self, activation):
        """The dossier's referent agent, if any and still active; else the task is
        queued for the agents of the dossier's EPCI (``workflows.selectors.queue``)."""
        case = activation.process.artifact
        agent = case.referent_agent if case is not None else None
        if agent is not None and agent.is_active and agent.role == User.Role.AGENT:
            return agent
        return None


class StandardFlow(_DossierNodes, flow.Flow):
    """Dossier standard

    Instruction par chaque financeur (DETR, DSIL, Fonds vert, Région, Département)."""

    kind = STANDARD


class LeaderFlow(_DossierNodes, flow.Flow):
    """Dossier LEADER

    Instruction par le GAL, pré-notation et comité de programmation, puis décision."""

    kind = LEADER

    present_to_committee = _agent_task("present_to_committee")
    resume_instruction = _agent_task("resume_instruction")


FLOWS = (StandardFlow, LeaderFlow)
FLOW_BY_KIND = {STANDARD: StandardFlow, LEADER: LeaderFlow}


def case_requests(case, ctx=None) -> list:
    """The dossier's funding requests with their schemes.

    With ``ctx`` (the context of the transition whose hooks are running), read once for
    all the hooks of that transition: hooks run after the transition's effects, and none
    of them changes a funding request. The query's SQL is compiled once
    (``engine.prepared``)."""
    cache = None
    if ctx is not None:
        cache = ctx.__dict__.setdefault("_workflows_case_requests", {})
        if case.pk in cache:
            return cache[case.pk]
    requests = prepared_rows(
        ("workflows.case_requests",),
        lambda case_id: FundingRequest.objects.filter(case_id=case_id).select_related("scheme"),
        [case.pk],
        case._state.db or "default",
    )
    case_field = FundingRequest._meta.get_field("case")
    for fr in requests:
        case_field.set_cached_value(fr, case)  # as ``case.funding_requests`` sets it
    if cache is not None:
        cache[case.pk] = requests
    return requests


def flow_kind_for(case, requests=None) -> str:
    """``leader`` when a scheme of the dossier goes through the LEADER committee.

    After submission the schemes are those of the funding requests; before, those
    wished for in the financing plan. ``requests``: the dossier's funding requests with
    their schemes, when the caller has them (saves their query)."""
    from django.db.models import Q

    if requests is None:
        requests = case_requests(case)
    if requests:
        leader = any(fr.scheme.flow_kind == LEADER or fr.scheme.committee for fr in requests)
    else:
        leader = (
            Scheme.objects.filter(resourceline__case=case)
            .filter(Q(flow_kind=LEADER) | Q(committee=True))
            .exists()
        )
    return LEADER if leader else STANDARD


def flow_for(case) -> type[flow.Flow]:
    return FLOW_BY_KIND[flow_kind_for(case)]


def expected_steps(case, agent, requests=None) -> set[tuple[str, str, int]]:
    """The agent steps the dossier needs now: ``{(node, subject, subject_pk)}``.

    Derived from what ``available_transitions`` allows ``agent`` (any user of role
    ``agent``) on the dossier and on each of its funding requests (``requests``: those
    already loaded with their schemes, each with ``.case`` the dossier; else read here)."""
    if requests is None:
        requests = case.funding_requests.select_related("scheme", "case")
    subjects = [(CASE, case)] + [(REQUEST, fr) for fr in requests]
    expected = set()
    for kind, subject in subjects:
        allowed = set(available_transitions(subject, agent))
        for step in AGENT_STEPS:
            if step.subject != kind or not step.applies_in(subject.state):
                continue
            if not step.follows and not allowed.intersection(step.transitions):
                continue
            if step.ready is not None and not step.ready(subject):
                continue
            expected.add((step.node, kind, subject.pk))
    return expected
