"""Reads of the agent tasks: an agent's inbox, its EPCI's queue, a dossier's tasks."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case as Switch
from django.db.models import F, OuterRef, QuerySet, When
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.models import Case, FundingRequest, User
from cases.selectors import in_territory
from engine.deadlines import first_due

from .agent_tasks import HUMAN, OPEN
from .flows import CASE, FLOWS, REQUEST, task_deadline_kinds

#: The orders of an agent's task list: oldest first (default), or by due date.
INBOX_ORDERS = ("echeance",)


def _agent_tasks() -> QuerySet[Task]:
    return Task.objects.filter(flow_task_type=HUMAN, process__flow_class__in=FLOWS).select_related(
        "process", "owner", "seed_content_type"
    )


def _is_agent(user) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.effective_role in (User.Role.AGENT, User.Role.ADMIN)
    )


def _visible_cases(user):
    return in_territory(Case.objects.all(), user)


def with_due_on(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Each task with ``due_on``: the due date of its subject's deadline that the task
    answers (``AgentStep.deadline_kinds``, read by ``engine.deadlines.first_due``), or
    ``None`` for a task without one."""
    ref_type, ref_id = OuterRef("seed_content_type"), OuterRef("seed_object_id")
    case_ct = ContentType.objects.get_for_model(Case)
    request_ct = ContentType.objects.get_for_model(FundingRequest)
    return tasks.annotate(
        due_on=Switch(
            When(
                seed_content_type=case_ct,
                then=first_due(ref_type, ref_id, task_deadline_kinds(CASE)),
            ),
            When(
                seed_content_type=request_ct,
                then=first_due(ref_type, ref_id, task_deadline_kinds(REQUEST)),
            ),
            default=None,
        )
    )


def inbox(user, order: str = "") -> QuerySet[Task]:
    """Open tasks assigned to the agent (as the dossiers' referent, or taken from a queue),
    on dossiers of its territory, each with its ``due_on``; oldest first, or by due date
    (``order="echeance"``: the soonest first, tasks without a due date last)."""
    if not _is_agent(user):
        return Task.objects.none()
    tasks = with_due_on(
        _agent_tasks().filter(
            owner=user,
            status__in=OPEN,
            process__artifact_content_type=ContentType.objects.get_for_model(Case),
            process__artifact_object_id__in=_visible_cases(user).values("pk"),
        )
    )
    if order == "echeance":
        return tasks.order_by(F("due_on").asc(nulls_last=True), "created", "pk")
    return tasks.order_by("created", "pk")


def queue(user) -> QuerySet[Task]:
    """Unassigned open tasks the agent may take: those of its EPCI's dossiers (and of
    dossiers of its territory with no EPCI). An administrator sees every queued task of
    its territory (a superuser: of the installation)."""
    if not _is_agent(user):
        return Task.objects.none()
    cases = _visible_cases(user)
    if user.effective_role != User.Role.ADMIN:
        if user.epci_id is None:
            cases = cases.filter(epci__isnull=True)
        else:
            cases = cases.filter(epci_id=user.epci_id) | cases.filter(epci__isnull=True)
    return (
        _agent_tasks()
        .filter(
            status=STATUS.NEW,
            owner__isnull=True,
            process__artifact_content_type=ContentType.objects.get_for_model(Case),
            process__artifact_object_id__in=cases.values("pk"),
        )
        .order_by("created", "pk")
    )


def case_tasks(case, *, open_only: bool = True) -> QuerySet[Task]:
    """The agent tasks of a dossier (open ones by default), across its processes."""
    qs = _agent_tasks().filter(
        process__artifact_content_type=ContentType.objects.get_for_model(Case),
        process__artifact_object_id=case.pk,
    )
    if open_only:
        qs = qs.filter(status__in=OPEN)
    return qs.order_by("created", "pk")
