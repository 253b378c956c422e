"""The agent's inbox: their tasks, the queue of tasks they may take, the list of the
dossiers they see (filtered, by pages)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, Min, OuterRef, Prefetch, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases import selectors
from cases.filters import overdue_deadlines
from cases.models import FundingRequest, ResourceLine
from cases.paging import CappedPaginator
from cases.search import list_ordering
from engine.errors import DomainError
from engine.models import Deadline
from notifications.labels import when_label
from workflows import selectors as task_selectors
from workflows.agent_tasks import task_assign
from workflows.flows import REQUEST, STEPS_BY_NODE

from .. import agent as area  # the area's page sizes, read when a page is built
from ..agent_forms import case_filter
from .common import TASK_ROLES, WORKSPACE_ROLES, role


@login_required
def agent_inbox(request):
    user = request.user
    if role(user) not in WORKSPACE_ROLES:
        return redirect("web:home")
    base = selectors.case_list(user=user)
    filters = case_filter(request.GET, cases=base)
    cases = filters.qs if filters.is_bound and filters.is_valid() else base
    searched = filters.form.cleaned_data.get("q") or "" if cases is not base else ""
    today = timezone.localdate()
    # counted up to paging.COUNT_CAP: « plus de 500 dossiers » beyond (issue 16)
    listed = _listed(cases, today)
    page = CappedPaginator(listed, area.PAGE_SIZE, counted=cases).get_page(request.GET.get("page"))
    query = request.GET.copy()
    for param in ("page", "taches", "file", "tri"):
        query.pop(param, None)
    is_agent = role(user) in TASK_ROLES
    order = request.GET.get("tri", "")
    order = order if order in task_selectors.INBOX_ORDERS else ""
    context = {
        "nav": "agent",
        "form": filters.form,
        "page": page,
        "by_reference": list_ordering(searched) == "-reference",
        "today": today,
        "query": query.urlencode(),
        "is_agent": is_agent,
        "inbox": _task_page(request, task_selectors.inbox(user, order), "taches")
        if is_agent
        else None,
        "task_order": order,
        "queue": _task_page(request, task_selectors.queue(user), "file") if is_agent else None,
        "read_only": not is_agent,
    }
    return render(request, "web/agent/inbox.html", context)


def _listed(cases, today):
    """The dossiers of the list, newest first (a reference-shaped search: newest reference
    first, its own order kept), each with its next due date, whether a deadline is
    overdue, its requests and its plan's schemes."""
    next_due = (
        Deadline.objects.filter(aggregate_id=OuterRef("pk"), state=Deadline.State.OPEN)
        .values("aggregate_id")
        .annotate(first=Min("due_on"))
        .values("first")
    )
    return (
        cases.annotate(next_due=Subquery(next_due), overdue=Exists(overdue_deadlines(today)))
        .prefetch_related(
            Prefetch("funding_requests", queryset=FundingRequest.objects.select_related("scheme")),
            Prefetch(
                "resources",
                queryset=ResourceLine.objects.filter(kind="scheme").select_related("scheme"),
                to_attr="scheme_lines",
            ),
        )
        .order_by(*(cases.query.order_by or ("-created_at", "-id")))
    )


def _task_page(request, tasks, param: str):
    """One page of a task list (``?taches=2``, ``?file=2``) and its rows."""
    page = Paginator(tasks, area.TASKS_PAGE_SIZE).get_page(request.GET.get(param))
    page.rows = _task_rows(page.object_list, request.user, timezone.localdate())
    query = request.GET.copy()
    query.pop(param, None)
    page.query = query.urlencode()
    page.param = param
    return page


def _task_rows(tasks, user, today) -> list[dict]:
    """Tasks with their dossier and subject, named by ``AgentStep.label`` (the scheme and
    its funder for a request), and their due date (``due_on`` where the list reads it) with
    « dépassée depuis … » in words; in a bounded number of queries."""
    tasks = list(tasks)
    case_ids = {int(t.process.artifact_object_id) for t in tasks if t.process.artifact_object_id}
    cases = {c.pk: c for c in selectors.case_list(user=user).filter(pk__in=case_ids)}
    fr_ids = {t.seed_object_id for t in tasks if t.seed_content_type.model == REQUEST}
    requests = {
        fr.pk: fr
        for fr in FundingRequest.objects.filter(pk__in=fr_ids).select_related("scheme__funder")
    }
    rows = []
    for task in tasks:
        step = STEPS_BY_NODE.get(task.flow_task.name)
        case = cases.get(int(task.process.artifact_object_id or 0))
        if step is None or case is None:
            continue
        fr = requests.get(task.seed_object_id) if step.subject == REQUEST else None
        due = getattr(task, "due_on", None)
        rows.append(
            {
                "task": task,
                "step": step,
                "label": step.label(fr),
                "case": case,
                "request": fr,
                "due": due,
                "overdue": due is not None and due < today,
                "when": when_label((due - today).days) if due else "",
            }
        )
    return rows


@login_required
@require_POST
def task_take(request, task_id: int):
    from viewflow.workflow.models import Task

    if role(request.user) not in TASK_ROLES:
        raise Http404
    try:
        task_assign(task=Task(pk=task_id), actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "La tâche vous est attribuée : elle est dans vos tâches.")
    return redirect("web:agent-inbox")
