"""The agent workspace: inbox and queue of tasks, the list of dossiers, the dossier page.

Thin views: they read through ``cases.selectors`` (and ``workflows.selectors``), write
through services and ``engine.transitions.transition_apply`` (whose hook closes the agent
task an action completes, as for the API: ``workflows.agent_tasks``), and render. Every
refusal of a service comes back as its French message on the page.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, Min, OuterRef, Prefetch, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases import rules, selectors, services
from cases.filters import overdue_deadlines
from cases.models import (
    PLAN_FREE_STATES,
    Case,
    FundingRequest,
    Opinion,
    PaymentClaim,
    ResourceLine,
    User,
)
from cases.overlap import similar_cases
from cases.permissions import allowed, roles_for
from engine.audit import access_record
from engine.errors import DomainError
from engine.models import Deadline
from engine.transitions import (
    available_transitions,
    registration_for,
    state_of,
    transition_apply,
)
from notifications.alert_selectors import alert_list
from notifications.labels import PARTY_LABELS, deadline_label
from workflows import selectors as task_selectors
from workflows.agent_tasks import task_assign
from workflows.flows import REQUEST, STEPS_BY_NODE

from .agent_forms import (
    MessageForm,
    NoteForm,
    OpinionForm,
    ShareExceptionForm,
    action_form,
    case_filter,
    form_error,
    transition_input,
    transition_label,
    typed_input,
)

R = User.Role
WORKSPACE_ROLES = roles_for("workspace")
TASK_ROLES = roles_for("task_take")
MESSAGE_WRITERS = roles_for("message_to_porteur")  # EPCI partners: internal notes only
PAGE_SIZE = 25
TASKS_PAGE_SIZE = 15  # per task list; the rest on the next pages of that list


def role(user) -> str:
    return user.effective_role


def porteur_case_url(pk: int) -> str:
    try:
        return reverse("web:case-porteur", args=[pk])
    except NoReverseMatch:
        return f"/mes-dossiers/{pk}/"


def document_url(pk: int) -> str:
    try:
        return reverse("web:document-download", args=[pk])
    except NoReverseMatch:
        return f"/documents/{pk}/"


def get_case_or_404(user, pk) -> Case:
    try:
        return selectors.case_get(user=user, pk=pk)
    except DomainError:
        raise Http404("Dossier introuvable.") from None


def safe_next(request, default: str) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    # A path of this site only: anything else (« 0 », « web:home ») would be read by
    # ``redirect`` as the name of a view, and an unknown name is a NoReverseMatch.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# ---------------------------------------------------------------- inbox and list


def _task_page(request, tasks, param: str):
    """One page of a task list (``?taches=2``, ``?file=2``) and its rows."""
    page = Paginator(tasks, TASKS_PAGE_SIZE).get_page(request.GET.get(param))
    page.rows = _task_rows(page.object_list, request.user)
    query = request.GET.copy()
    query.pop(param, None)
    page.query = query.urlencode()
    page.param = param
    return page


def _task_rows(tasks, user) -> list[dict]:
    """Tasks with their dossier and subject, in a bounded number of queries."""
    tasks = list(tasks)
    case_ids = {int(t.process.artifact_object_id) for t in tasks if t.process.artifact_object_id}
    cases = {c.pk: c for c in selectors.case_list(user=user).filter(pk__in=case_ids)}
    fr_ids = {t.seed_object_id for t in tasks if t.seed_content_type.model == REQUEST}
    requests = {
        fr.pk: fr for fr in FundingRequest.objects.filter(pk__in=fr_ids).select_related("scheme")
    }
    rows = []
    for task in tasks:
        step = STEPS_BY_NODE.get(task.flow_task.name)
        case = cases.get(int(task.process.artifact_object_id or 0))
        if step is None or case is None:
            continue
        fr = requests.get(task.seed_object_id) if step.subject == REQUEST else None
        rows.append({"task": task, "step": step, "case": case, "request": fr})
    return rows


@login_required
def agent_inbox(request):
    user = request.user
    if role(user) not in WORKSPACE_ROLES:
        return redirect("web:home")
    base = selectors.case_list(user=user)
    filters = case_filter(request.GET, cases=base)
    form = filters.form
    today = timezone.localdate()
    next_due = (
        Deadline.objects.filter(aggregate_id=OuterRef("pk"), state=Deadline.State.OPEN)
        .values("aggregate_id")
        .annotate(first=Min("due_on"))
        .values("first")
    )
    cases = (
        (filters.qs if filters.is_bound and filters.is_valid() else base)
        .annotate(next_due=Subquery(next_due), overdue=Exists(overdue_deadlines(today)))
        .prefetch_related(
            Prefetch("funding_requests", queryset=FundingRequest.objects.select_related("scheme")),
            Prefetch(
                "resources",
                queryset=ResourceLine.objects.filter(kind="scheme").select_related("scheme"),
                to_attr="scheme_lines",
            ),
        )
        .order_by("-created_at", "-id")
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    for param in ("page", "taches", "file"):
        query.pop(param, None)
    is_agent = role(user) in TASK_ROLES
    context = {
        "nav": "agent",
        "form": form,
        "page": page,
        "today": today,
        "query": query.urlencode(),
        "is_agent": is_agent,
        "inbox": _task_page(request, task_selectors.inbox(user), "taches") if is_agent else None,
        "queue": _task_page(request, task_selectors.queue(user), "file") if is_agent else None,
        "read_only": not is_agent,
    }
    return render(request, "web/agent/inbox.html", context)


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


# ---------------------------------------------------------------- dossier page


def _checklist(case: Case, requests: list[FundingRequest], documents):
    """The required pieces (``rules.required_documents``) of the schemes the dossier asks
    for (its requests, else its plan's scheme lines), and the missing ones as choices."""
    schemes = [fr.scheme for fr in requests] or [
        r.scheme for r in case.resources.all() if r.kind == "scheme" and r.scheme_id
    ]
    rows = rules.required_documents(schemes, documents)
    return rows, [(r.code, r.label) for r in rows if r.missing]


def _history_rows(case: Case, requests: dict, claims: dict) -> list[dict]:
    rows = []
    for log in selectors.case_history(case):
        model = log.content_type.model_class()
        spec = registration_for(model).specs.get(log.transition) if model else None
        if model is Case:
            subject = "Dossier"
        elif model is FundingRequest:
            fr = requests.get(int(log.object_id))
            subject = f"Demande {fr.scheme.code}" if fr else "Demande de financement"
        else:
            claim = claims.get(int(log.object_id))
            subject = (
                f"{claim.get_kind_display()} {claim.funding_request.scheme.code}"
                if claim
                else "Demande de paiement"
            )
        rows.append(
            {
                "log": log,
                "subject": subject,
                "label": (spec.label if spec else "") or log.transition,
                "by": log.by.get_full_name() or log.by.username if log.by_id else "automatique",
            }
        )
    return rows


def _deadline_rows(case: Case, requests: dict, claims: dict, today) -> list[dict]:
    rows = []
    for d in selectors.case_deadlines(case):
        model = d.subject_type.model
        if model == "fundingrequest" and d.subject_id in requests:
            subject = f"Demande {requests[d.subject_id].scheme.code}"
        elif model == "paymentclaim" and d.subject_id in claims:
            subject = f"Demande de paiement n° {d.subject_id}"
        else:
            subject = "Dossier"
        rows.append(
            {
                "deadline": d,
                "label": deadline_label(d.kind),
                "subject": subject,
                "party": PARTY_LABELS.get(d.party, d.party),
                "overdue": d.state == Deadline.State.OPEN and d.due_on < today,
            }
        )
    return rows


def _error_links(form) -> list[dict]:
    """Links of the error summary: each field error to its field."""
    links = []
    for bf in form.fields:
        for err in bf.errors:
            links.append({"href": f"#{bf.id}", "text": f"{bf.label} : {err}"})
    return links


def case_context(request, case: Case, submitted: dict | None = None) -> dict:
    """Everything the dossier page shows. ``submitted``: the form that failed, with what
    was typed (``key``, ``values``, ``message``, ``errors``)."""
    user = request.user
    r = role(user)
    submitted = submitted or {}
    today = timezone.localdate()
    detail = reverse("web:case-detail", args=[case.pk])
    requests_list = list(case.funding_requests.all())
    requests = {fr.pk: fr for fr in requests_list}
    claims_list = list(
        PaymentClaim.objects.filter(funding_request__case=case).select_related(
            "funding_request__scheme"
        )
    )
    claims = {c.pk: c for c in claims_list}
    documents = list(case.documents.all())
    for doc in documents:
        doc.url = document_url(doc.pk)
    checklist, missing = _checklist(case, requests_list, documents)

    def sub(key):
        return submitted if submitted.get("key") == key else None

    def bind(instance, name, url):
        key = f"{instance._meta.model_name}-{instance.pk}-{name}"
        return action_form(instance, name, url=url, missing_documents=missing, submitted=sub(key))

    case_actions = [
        bind(case, name, reverse("web:case-transition", args=[case.pk, name]))
        for name in available_transitions(case, user)
    ]
    claims_by_request = defaultdict(list)
    for claim in claims_list:
        claims_by_request[claim.funding_request_id].append(
            {
                "claim": claim,
                "actions": [
                    bind(claim, name, reverse("web:claim-transition", args=[claim.pk, name]))
                    for name in available_transitions(claim, user)
                ],
            }
        )
    request_rows = [
        {
            "fr": fr,
            "actions": [
                bind(fr, name, reverse("web:request-transition", args=[fr.pk, name]))
                for name in available_transitions(fr, user)
            ],
            "claims": claims_by_request.get(fr.pk, []),
        }
        for fr in requests_list
    ]
    failed = next(
        (
            a
            for a in case_actions
            + [a for row in request_rows for a in row["actions"]]
            + [a for row in request_rows for c in row["claims"] for a in c["actions"]]
            if a.error
        ),
        None,
    )
    sees_notes = r in selectors.NOTE_READERS
    notes, conversation = [], []
    if sees_notes:
        for message in selectors.message_list(user=user, case=case):
            (notes if message.internal else conversation).append(message)
    opinion_kinds = [Opinion.Kind(k) for k in rules.opinion_kinds(r, case.state)]

    def simple_form(form_class, key, **kwargs):
        if submitted.get("key") == key:
            form = form_class(submitted.get("values"), auto_id=f"{key}-%s", **kwargs)
            form.is_valid()
            for field_name, errs in (submitted.get("errors") or {}).items():
                target = field_name if field_name in form.fields else None
                for err in errs:
                    form.add_error(target, err)
            if submitted.get("message") and not form.errors:
                form.add_error(None, submitted["message"])
            form.failed_message = submitted.get("message", "")
            return form
        return form_class(auto_id=f"{key}-%s", **kwargs)

    opinion_form = None
    if allowed(user, "opinion_create") and not case.is_terminal:
        opinion_form = simple_form(OpinionForm, "opinion")
        opinion_form.fields["kind"].choices = [(k.value, k.label) for k in opinion_kinds]
    summary = services.plan_summary(case)
    live_alerts = alert_list(user=user).filter(case=case).exclude(state="resolved")
    return {
        "nav": "agent",
        "case": case,
        "detail_url": detail,
        "today": today,
        "role": r,
        "is_agent": r in TASK_ROLES,
        "case_actions": case_actions,
        "request_rows": request_rows,
        "failed": failed,
        "failed_links": _error_links(failed) if failed else [],
        "plan": summary,
        "expenses": list(case.expenses.all()),
        "resources": list(case.resources.all()),
        "checklist": checklist,
        "missing": missing,
        "documents": documents,
        "opinions": list(case.opinions.select_related("author").order_by("created_at", "id")),
        "opinion_form": opinion_form,
        "sees_notes": sees_notes,
        "notes": notes,
        "conversation": conversation,
        "note_form": simple_form(NoteForm, "note") if sees_notes else None,
        "message_form": simple_form(MessageForm, "message") if r in MESSAGE_WRITERS else None,
        "exception_form": (
            simple_form(ShareExceptionForm, "exception")
            if allowed(user, "share_exception")
            and case.organisation.is_public
            and not case.is_terminal
            else None
        ),
        "deadlines": _deadline_rows(case, requests, claims, today),
        "history": _history_rows(case, requests, claims),
        "alerts": list(live_alerts),
        "similar": similar_cases(case, user=user),
        "tasks": [
            {"task": t, "step": STEPS_BY_NODE.get(t.flow_task.name)}
            for t in task_selectors.case_tasks(case)
        ],
        "badge": state_of(Case, case.state).badge,
        "plan_binds_later": case.state in PLAN_FREE_STATES,
    }


def case_page(request, case: Case, submitted: dict | None = None, status: int = 200):
    return render(
        request, "web/agent/case_detail.html", case_context(request, case, submitted), status=status
    )


def _not_for_porteurs(request, pk) -> None:
    if role(request.user) == R.PORTEUR:
        raise Http404("Dossier introuvable.")


@login_required
def case_detail(request, pk: int):
    if role(request.user) == R.PORTEUR:
        if selectors.case_list(user=request.user).filter(pk=pk).exists():
            return redirect(porteur_case_url(pk))
        raise Http404("Dossier introuvable.")
    case = get_case_or_404(request.user, pk)
    access_record(
        user=request.user, action="read", subject=case, aggregate_id=case.pk, request=request
    )
    return case_page(request, case)


# ---------------------------------------------------------------- performing an action


@login_required
@require_POST
def case_transition(request, pk: int, name: str):
    _not_for_porteurs(request, pk)
    case = get_case_or_404(request.user, pk)
    comment, data, values = transition_input(request.POST)
    try:
        transition_apply(
            instance=case,
            name=name,
            actor=request.user,
            comment=comment,
            data=typed_input(data, case, name),
        )
    except DomainError as exc:
        case = get_case_or_404(request.user, pk)
        key = f"case-{case.pk}-{name}"
        sub = {"key": key, **form_error(exc, values)}
        if name not in available_transitions(case, request.user):
            messages.error(request, exc.message)
            return case_page(request, case, status=exc.status)
        return case_page(request, case, sub, status=exc.status)
    messages.success(request, f"« {transition_label(case, name)} » : c'est enregistré.")
    return redirect(safe_next(request, reverse("web:case-detail", args=[pk])))


def _simple_post(request, pk: int, key: str, form_class, action):
    _not_for_porteurs(request, pk)
    case = get_case_or_404(request.user, pk)
    form = form_class(request.POST)
    values = request.POST.dict()
    if not form.is_valid():
        errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        sub = {"key": key, "values": values, "errors": errors, "message": ""}
        return case_page(request, case, sub, status=400)
    try:
        done = action(case, form.cleaned_data)
    except DomainError as exc:
        return case_page(request, case, {"key": key, **form_error(exc, values)}, status=exc.status)
    messages.success(request, done)
    return redirect(reverse("web:case-detail", args=[pk]) + f"#{key}")


@login_required
@require_POST
def case_opinion(request, pk: int):
    def action(case, d):
        services.opinion_create(
            actor=request.user, case=case, kind=d["kind"], value=d["value"], text=d["text"]
        )
        return "Votre avis est enregistré."

    return _simple_post(request, pk, "opinion", OpinionForm, action)


@login_required
@require_POST
def case_note(request, pk: int):
    def action(case, d):
        services.message_post(actor=request.user, case=case, body=d["body"], internal=True)
        return "Note interne enregistrée (invisible du porteur)."

    return _simple_post(request, pk, "note", NoteForm, action)


@login_required
@require_POST
def case_message(request, pk: int):
    def action(case, d):
        services.message_post(actor=request.user, case=case, body=d["body"], internal=False)
        return "Message envoyé au porteur."

    return _simple_post(request, pk, "message", MessageForm, action)


@login_required
@require_POST
def case_share_exception(request, pk: int):
    def action(case, d):
        services.case_record_share_exception(actor=request.user, case=case, reason=d["reason"])
        return "Dérogation à la participation minimale de 20 % enregistrée."

    return _simple_post(request, pk, "exception", ShareExceptionForm, action)
