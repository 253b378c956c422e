"""Agent tasks: keep the viewflow tasks of each dossier equal to the agent steps its
states call for, and let agents take and complete them.

- ``case_tasks_sync`` runs in the engine's transaction after every transition of a
  dossier, a funding request or a committee session (engine hook), and when a dossier is
  created: it starts the dossier's process, replaces it when the kind of flow changes,
  closes the open tasks that no longer apply, opens the ones that now apply, and ends
  the process when the dossier reaches a final state.
- How a task that no longer applies ends is decided here, once, whatever the entry point
  (API, pages, ``task_complete``, the sweep, the committee): **DONE** when the transition
  just applied is one of the task's actions, on its subject, from its state, by an agent
  or an administrator (the owner becomes that agent when the task was queued;
  ``task.data`` records the transition and who did it); **CANCELED** otherwise, with the
  reason in ``task.data["closed_because"]`` (done by a funder, a porteur or
  automatically, or the dossier moved on so the step no longer applies).
- ``task_assign`` lets an agent of the dossier's EPCI take a queued task.
- ``task_complete`` is the explicit « do this task »: it checks that the agent holds the
  task and that the transition is one of its actions, then applies it through the engine;
  the hook closes the task (DONE, by the rule above) and opens the next ones.

Lock order, for every writer of a dossier's tasks: the dossier's row, then the funding
request's (the engine's order: the aggregate's root first), then the process row.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.lock import lock_scope
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from cases.models import Case, CommitteeSession, Extension, FundingRequest, User
from engine.errors import DomainError
from engine.transitions import (
    TransitionContext,
    register_hook,
    register_lock_related,
    registration_for,
    transition_apply,
)

from .flows import (
    CASE,
    FLOW_BY_KIND,
    FLOWS,
    STEPS_BY_NODE,
    case_requests,
    expected_steps,
    flow_kind_for,
)
from .process_lock import (
    OPEN,
    held,
    live_process_and_tasks_locked,
    locked,
)
from .process_lock import case_process as case_process  # the tests' and callers' name

HUMAN = "HUMAN"


def _reference_agent():
    """Any user of role ``agent``: the rights the task list is computed for."""
    return User(role=User.Role.AGENT)


def _task_key(task: Task) -> tuple[str, str, int]:
    return (task.flow_task.name, task.seed_content_type.model, task.seed_object_id)


def _cancel(task: Task, reason: str) -> None:
    activation = task.flow_task.activation_class(task)
    task.data = {**(task.data or {}), "closed_because": reason}
    activation.cancel()


# ---------------------------------------------------------------- the one outcome rule

STEP_GONE = "L'étape ne correspond plus à l'état du dossier."


def _acted_on(task: Task, ctx: TransitionContext | None) -> bool:
    """Whether the transition just applied is one of the task's actions, on the task's
    subject, from the state of its step: the work the task stood for was just done."""
    if ctx is None:
        return False
    step = STEPS_BY_NODE.get(task.flow_task.name)
    return (
        step is not None
        and ctx.name in step.transitions
        and step.applies_in(ctx.source)
        and task.seed_content_type.model == ctx.instance._meta.model_name
        and task.seed_object_id == ctx.instance.pk
    )


def _done_by_someone_else(ctx: TransitionContext) -> str:
    spec = registration_for(type(ctx.instance)).specs.get(ctx.name)
    label = (spec.label if spec else "") or ctx.name
    if ctx.automatic:
        return f"« {label} » a été fait automatiquement."
    role = getattr(ctx.actor, "get_role_display", lambda: "")() or "un autre acteur"
    return f"« {label} » a été fait par un autre acteur ({role.lower()})."


def _gone_because(task: Task) -> str:
    """Why a step no longer applies: its own words when it has them (a follow-up says
    what the decision it followed was), else ``STEP_GONE``."""
    step = STEPS_BY_NODE.get(task.flow_task.name)
    if step is None or step.closed_because is None:
        return STEP_GONE
    subject = (
        Case.objects.get(pk=task.seed_object_id)
        if step.subject == CASE
        else FundingRequest.objects.select_related("scheme").get(pk=task.seed_object_id)
    )
    return step.closed_because(subject) or STEP_GONE


def _complete(task: Task, ctx: TransitionContext) -> None:
    """DONE, through viewflow's public transitions: a queued task is first assigned to the
    agent who did the work."""
    actor = ctx.actor
    activation = task.flow_task.activation_class(task)
    if task.owner_id is None:
        task.assigned = timezone.now()
        activation.assign(actor)
    activation.start(None)
    task.data = {**(task.data or {}), "transition": ctx.name, "done_by": actor.pk}
    activation.complete()


def _close(task: Task, ctx: TransitionContext | None) -> None:
    """End an open task the dossier no longer calls for: DONE when an agent (or an
    administrator) just did one of its actions, CANCELED with the reason otherwise."""
    if not _acted_on(task, ctx):
        _cancel(task, _gone_because(task))
    elif _is_agent(ctx.actor):
        _complete(task, ctx)
    else:
        _cancel(task, _done_by_someone_else(ctx))


def _replace(process: Process, case, flow_class, ctx: TransitionContext | None) -> Process:
    """The kind of flow changed (schemes edited before submission): close the old
    process's open tasks (its tracker among them; agent tasks by the rule) and the
    process, and start one of the right kind."""
    old_flow = process.flow_class
    with locked(old_flow, process.pk):
        for task in Task.objects.filter(process=process, status__in=OPEN).select_related(
            "seed_content_type"
        ):
            if task.flow_task_type == HUMAN and _acted_on(task, ctx):
                _close(task, ctx)
            else:
                _cancel(task, "Circuit remplacé.")
        process.status = PROCESS.CANCELED
        process.finished = timezone.now()
        process.data = {**(process.data or {}), "replaced_by": flow_class.instance.flow_label}
        process.save()
    return flow_class.start.run(case=case)


def case_tasks_sync(case_id: int) -> Process | None:
    """Make the dossier's open agent tasks equal to ``flows.expected_steps``.

    Runs inside the caller's transaction; takes the dossier's row lock."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        return _sync(case)


def _sync(case, ctx: TransitionContext | None = None) -> Process | None:
    """``case_tasks_sync`` for a dossier whose row the caller's transaction has locked and
    whose fields are current (the engine's object after a transition of the dossier).

    Reads, in the usual case, three sets of rows: the live process (locked), its open tasks
    (the tracker among them) and the funding requests with their schemes (which also give
    the kind of flow). When the expected steps equal the open tasks, nothing is written."""
    process, tasks = live_process_and_tasks_locked(case.pk)
    if process is not None and process.status == PROCESS.DONE:
        return process
    requests = case_requests(case, ctx)
    for fr in requests:
        fr.case = case  # the locked, current dossier (what a join would read)
    flow_class = FLOW_BY_KIND[flow_kind_for(case, requests=requests)]
    if process is None or process.flow_class is not flow_class:
        if process is None:
            if case.is_terminal:
                return None
            process = flow_class.start.run(case=case)
        else:
            process = _replace(process, case, flow_class, ctx)
        with locked(flow_class, process.pk):
            _align(case, process, flow_class, requests, ctx)
        return process
    # The row lock is held (taken by ``live_process_and_tasks_locked``); the scope keeps viewflow's
    # deferred callbacks (``after_lock_released``) running once the work is done.
    with lock_scope(held, flow_class, process.pk):
        _align(case, process, flow_class, requests, ctx, tasks)
    return process


def _drop_stale_fk_caches(instance) -> None:
    """The engine refreshes a locked row's columns in place, not the related objects it
    may have cached: forget those that no longer match their column."""
    for f in instance._meta.concrete_fields:
        if f.many_to_one and f.is_cached(instance):
            cached = f.get_cached_value(instance)
            if getattr(cached, "pk", None) != getattr(instance, f.attname):
                f.delete_cached_value(instance)


def _align(case, process: Process, flow_class, requests, ctx=None, tasks=None) -> None:
    """Under the process lock: close the open tasks that no longer apply (``_close``: the
    one outcome rule), open the missing ones, end the process when the dossier is final.
    No write when in step. ``tasks``: the process's open tasks, when the caller read them
    (else read here)."""
    _drop_stale_fk_caches(case)
    process.artifact = case  # task_owner reads the dossier through the process
    follow = get_task_ref(flow_class.follow)
    tracker = None
    human = []
    if tasks is None:
        tasks = (
            Task.objects.filter(process=process, status__in=OPEN)
            .select_related("seed_content_type")
            .order_by("pk")
        )
    for task in tasks:
        task.process = process
        if task.flow_task_type == HUMAN:
            human.append(task)
        if tracker is None and task.status == STATUS.NEW and get_task_ref(task.flow_task) == follow:
            tracker = task
    expected = (
        set() if case.is_terminal else expected_steps(case, _reference_agent(), requests=requests)
    )
    current = {}
    for task in human:
        key = _task_key(task)
        if key in expected and key not in current and not _acted_on(task, ctx):
            current[key] = task
        else:
            _close(task, ctx)
    missing = sorted(expected - current.keys())
    if missing:
        _open(case, flow_class, tracker, requests, missing)
    if case.is_terminal and tracker is not None:
        flow_class.follow.run(tracker)  # completes the tracker; End finishes it


def _open(case, flow_class, tracker: Task, requests, missing) -> None:
    """Open the missing steps as tasks following the tracker, through the node's public
    ``activation_class.create`` (what viewflow's ``Node._create`` calls; these nodes have
    no boundary events to arm)."""
    by_pk = {fr.pk: fr for fr in requests}
    prev = tracker.flow_task.activation_class(tracker)
    for node, subject, pk in missing:
        seed = case if subject == CASE else by_pk[pk]
        details = STEPS_BY_NODE[node].details
        node_obj = flow_class.instance.node(node, no_obsolete=True)
        if node_obj is None:
            raise DomainError(
                f"Étape « {STEPS_BY_NODE[node].title} » absente du circuit "
                f"« {flow_class.process_title} ».",
                code="conflict",
            )
        node_obj.activation_class.create(
            node_obj,
            prev,
            tracker.token,
            data={
                "case": case.pk,
                "subject": subject,
                "subject_id": pk,
                **(details(seed) if details else {}),
            },
            seed=seed,
        )


def _case_id_of(instance) -> list[int]:
    if isinstance(instance, Case):
        return [instance.pk]
    if isinstance(instance, FundingRequest):
        return [instance.case_id]
    if isinstance(instance, CommitteeSession):
        return sorted(set(instance.agenda.values_list("case_id", flat=True)))
    if isinstance(instance, Extension):  # a granted one moves a works deadline
        return [instance.funding_request.case_id]
    return []  # payment claims: no agent step depends on them


def tasks_sync_hook(ctx: TransitionContext) -> None:
    """In the engine's transaction (no savepoint of its own: a failure rolls the whole
    transition back). A dossier's own transition reuses the engine's object, locked and
    refreshed; for a funding request or a session, each dossier row is locked here (after
    the subject's own row: the engine's order)."""
    if isinstance(ctx.instance, Case):
        _sync(ctx.instance, ctx)
        return
    for case_id in _case_id_of(ctx.instance):
        _sync(Case.objects.select_for_update().get(pk=case_id), ctx)


def _on_case_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        case_tasks_sync(instance.pk)


def connect() -> None:
    register_hook(tasks_sync_hook)
    # the tasks opened go to the dossier's referent agent (``flows.task_owner``): read
    # with the dossier's row when the engine locks it
    register_lock_related(Case, "referent_agent")
    post_save.connect(_on_case_created, sender=Case, dispatch_uid="workflows.case_tasks")


# ---------------------------------------------------------------- services


def _is_agent(user) -> bool:
    return (
        user is not None
        and user.is_active
        and user.effective_role
        in (
            User.Role.AGENT,
            User.Role.ADMIN,
        )
    )


def _check_territory(user, case) -> None:
    """A task of another territory's dossier does not exist for this agent."""
    if not user.is_superuser and case.territory_id != user.territory_id:
        raise DomainError("Tâche introuvable.", code="not_found")


def _may_take(user, case) -> bool:
    if user.effective_role == User.Role.ADMIN:
        return True
    return case.epci_id is None or user.epci_id == case.epci_id


def _locked_task(task_id: int) -> tuple[Task, object]:
    """Lock the task's dossier, then its funding request if the task is on one: the order
    every transition of that request takes them (``engine.transitions.aggregate_lock``:
    the aggregate's root first), so a task completion and a direct transition never
    deadlock. The caller then takes the process lock. Returns the task and the dossier."""
    try:
        task = Task.objects.select_related("process").get(pk=task_id, flow_task_type=HUMAN)
    except Task.DoesNotExist:
        raise DomainError("Tâche introuvable.", code="not_found") from None
    if task.process.flow_class not in FLOWS:
        raise DomainError("Tâche introuvable.", code="not_found")
    case = Case.objects.select_for_update().get(pk=task.process.artifact_object_id)
    if task.seed_content_type_id == ContentType.objects.get_for_model(FundingRequest).pk:
        FundingRequest.objects.select_for_update().filter(pk=task.seed_object_id).exists()
    return task, case


def _check_open(task: Task) -> None:
    if task.status not in OPEN:
        raise DomainError(
            f"La tâche « {task.flow_task.task_title} » est déjà close "
            f"({task.get_status_display().lower()}).",
            code="conflict",
        )


def task_assign(*, task: Task, actor) -> Task:
    """An agent of the dossier's EPCI takes a queued task."""
    if not _is_agent(actor):
        raise DomainError("Seuls les agents prennent des tâches.", code="forbidden")
    with transaction.atomic():
        task, case = _locked_task(task.pk)
        _check_territory(actor, case)
        flow_class = task.process.flow_class
        with locked(flow_class, task.process_id):
            task.refresh_from_db()
            _check_open(task)
            if task.owner_id is not None:
                raise DomainError("Cette tâche est déjà attribuée à un agent.", code="conflict")
            if not _may_take(actor, case):
                raise DomainError("Cette tâche est dans la file d'un autre EPCI.", code="forbidden")
            activation = task.flow_task.activation_class(task)
            activation.assign(actor)
            task.assigned = timezone.now()
            task.save(update_fields=["assigned"])
    return task


def task_complete(
    *, task: Task, actor, transition: str, data: dict | None = None, comment: str = ""
) -> Task:
    """Do the task: apply ``transition`` (one of the task's actions) as ``actor`` through
    the engine, whose hook then closes the task DONE (``_close``) and opens the next ones.
    The task must be open and held by the agent (or done by an administrator). One
    completion wins; a second one, or a completion racing it, gets a 409 domain error."""
    if not _is_agent(actor):
        raise DomainError("Seuls les agents traitent ces tâches.", code="forbidden")
    with transaction.atomic():
        task, case = _locked_task(task.pk)
        _check_territory(actor, case)
        with locked(task.process.flow_class, task.process_id):
            task.refresh_from_db()
            _check_open(task)
            step = STEPS_BY_NODE[task.flow_task.name]
            if task.owner_id is None:
                if not _may_take(actor, case):
                    raise DomainError(
                        "Cette tâche est dans la file d'un autre EPCI.", code="forbidden"
                    )
                raise DomainError(
                    "Prenez d'abord la tâche dans la file de votre EPCI.", code="unavailable"
                )
            if task.owner_id != actor.pk and actor.effective_role != User.Role.ADMIN:
                raise DomainError("Cette tâche est attribuée à un autre agent.", code="forbidden")
            if transition not in step.transitions:
                raise DomainError(
                    f"« {transition} » n'est pas une action de la tâche « {step.title} » "
                    f"(attendu : {', '.join(step.transitions)}).",
                    errors={"transition": list(step.transitions)},
                )
            subject = (
                case if step.subject == CASE else FundingRequest.objects.get(pk=task.seed_object_id)
            )
            transition_apply(
                instance=subject, name=transition, actor=actor, comment=comment, data=data
            )
    task.refresh_from_db()
    return task
