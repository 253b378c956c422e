"""The agent's dossier page: its actions, plan, pieces, opinions, notes and messages,
deadlines, history, alerts, similar dossiers and tasks. Each block of the page has its
function below; ``case_context`` puts them together.

``submitted`` is the form that failed, with what was typed (``key``, ``values``,
``message``, ``errors``): the page shows it again as typed, next to its error."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from cases import request_status, rules, selectors, services
from cases.conference import case_positions
from cases.models import (
    PLAN_FREE_STATES,
    Case,
    Extension,
    FundingRequest,
    Opinion,
    PaymentClaim,
    RecoveryOrder,
)
from cases.overlap import similar_cases
from cases.permissions import allowed
from cases.signed_documents.scan import SIGNED_KIND_LABELS
from engine.audit import access_record
from engine.models import Deadline
from engine.transitions import available_transitions, registration_for, state_of
from notifications.alert_selectors import alert_list
from notifications.labels import PARTY_LABELS, deadline_label
from workflows import selectors as task_selectors
from workflows.flows import STEPS_BY_NODE

from .. import works
from ..agent_forms import MessageForm, NoteForm, OpinionForm, ShareExceptionForm, action_form
from ..correction_blocks import agent_block, with_agent_history
from .common import (
    MESSAGE_WRITERS,
    TASK_ROLES,
    R,
    document_url,
    error_links,
    get_case_or_404,
    porteur_case_url,
    role,
)
from .experts import expert_history, experts_context, merged_history
from .works import works_block


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


def case_page(request, case: Case, submitted: dict | None = None, status: int = 200):
    return render(
        request, "web/agent/case_detail.html", case_context(request, case, submitted), status=status
    )


def case_context(request, case: Case, submitted: dict | None = None) -> dict:
    """Everything the dossier page shows, block by block."""
    user = request.user
    submitted = submitted or {}
    today = timezone.localdate()
    requests = list(case.funding_requests.all())
    claims = list(
        PaymentClaim.objects.filter(funding_request__case=case).select_related(
            "funding_request__scheme"
        )
    )
    extensions, orders = works.case_extensions(case), works.case_orders(case)
    pieces = _pieces(case, requests)
    actions = _actions(user, case, requests, claims, pieces["missing"], submitted)
    works_ctx = works_block(user, case, requests, submitted, today, simple_form, extensions, orders)
    corrections = agent_block(user, case, submitted, simple_form, pieces["checklist"])
    read = {
        FundingRequest: requests,
        PaymentClaim: claims,
        Extension: extensions,
        RecoveryOrder: orders,
        "corrections": [r["c"] for r in corrections["correction_rows"]],
        "kinds": corrections["correction_kinds"],
    }
    if actions["failed"] is None and works_ctx["works_failed"] is not None:
        actions["failed"] = works_ctx["works_failed"]
        actions["failed_links"] = error_links(actions["failed"])
    return {
        "nav": "agent",
        "case": case,
        "detail_url": reverse("web:case-detail", args=[case.pk]),
        "today": today,
        "role": role(user),
        "is_agent": role(user) in TASK_ROLES,
        **actions,
        **works_ctx,
        **_plan(case),
        **pieces,
        **_opinions(user, case, submitted),
        **experts_context(user, case, submitted),
        **_exchanges(user, case, submitted),
        **corrections,
        **_follow_up(user, case, requests, claims, today, read),
        "badge": state_of(Case, case.state).badge,
        "status_line": request_status.status_line(requests),
        "conference_positions": case_positions(case=case, user=user),
    }


# ---------------------------------------------------------------- the blocks of the page


def _actions(user, case, requests, claims, missing, submitted) -> dict:
    """The transitions of the dossier, of each request and of each of its claims, each as
    its form; the one that failed and the links of its error summary."""

    def bind(instance, name, url_name):
        key = f"{instance._meta.model_name}-{instance.pk}-{name}"
        return action_form(
            instance,
            name,
            url=reverse(url_name, args=[instance.pk, name]),
            missing_documents=missing,
            submitted=submitted if submitted.get("key") == key else None,
        )

    def actions(instance, url_name):
        return [bind(instance, name, url_name) for name in available_transitions(instance, user)]

    case_actions = actions(case, "web:case-transition")
    claims_by_request = defaultdict(list)
    for claim in claims:
        claims_by_request[claim.funding_request_id].append(
            {"claim": claim, "actions": actions(claim, "web:claim-transition")}
        )
    request_rows = [
        {
            "fr": fr,
            "waiting": request_status.awaiting_decision(fr),
            "actions": actions(fr, "web:request-transition"),
            "claims": claims_by_request.get(fr.pk, []),
        }
        for fr in requests
    ]
    every = (
        case_actions
        + [a for row in request_rows for a in row["actions"]]
        + [a for row in request_rows for c in row["claims"] for a in c["actions"]]
    )
    failed = next((a for a in every if a.error), None)  # one form at most was submitted
    return {
        "case_actions": case_actions,
        "request_rows": request_rows,
        "failed": failed,
        "failed_links": error_links(failed) if failed else [],
    }


def _plan(case: Case) -> dict:
    summary = services.plan_summary(case)
    return {
        "plan": summary,
        "own_share_floor": (
            rules.percent(summary.own_share_min) if summary.own_share_min is not None else ""
        ),
        "expenses": list(case.expenses.all()),
        "resources": list(case.resources.all()),
        "plan_binds_later": case.state in PLAN_FREE_STATES,
    }


def _pieces(case: Case, requests: list[FundingRequest]) -> dict:
    """The pieces, and the required ones (``rules.required_documents``) of the schemes
    the dossier asks for (its requests, else its plan's scheme lines), the missing ones
    as choices."""
    documents = list(case.documents.all())
    for doc in documents:
        doc.url = document_url(doc.pk)
    schemes = [fr.scheme for fr in requests] or [
        r.scheme for r in case.resources.all() if r.kind == "scheme" and r.scheme_id
    ]
    checklist = rules.required_documents(schemes, documents)
    labels = {r.code: r.label for r in checklist}
    for doc in documents:  # the kind's French label, never its code (issue 12, point 7)
        doc.kind_label = labels.get(doc.kind) or SIGNED_KIND_LABELS.get(doc.kind, "")
        doc.kind_label = doc.kind_label or ("Autre pièce" if doc.kind == "other" else "")
    return {
        "checklist": checklist,
        "missing": [(r.code, r.label) for r in checklist if r.missing],
        "documents": documents,
    }


def _opinions(user, case: Case, submitted: dict) -> dict:
    opinion_form = None
    if allowed(user, "opinion_create") and not case.is_terminal:
        opinion_form = simple_form(OpinionForm, "opinion", submitted)
        opinion_form.fields["kind"].choices = [
            (k.value, k.label)
            for k in (Opinion.Kind(k) for k in rules.opinion_kinds(role(user), case.state))
        ]
    return {
        "opinions": list(case.opinions.select_related("author").order_by("created_at", "id")),
        "opinion_form": opinion_form,
    }


def _exchanges(user, case: Case, submitted: dict) -> dict:
    """Internal notes and the conversation with the porteur (for who reads notes), the
    forms to write them, and the form of the 20 % exception."""
    sees_notes = role(user) in selectors.NOTE_READERS
    notes, conversation = [], []
    if sees_notes:
        for message in selectors.message_list(user=user, case=case):
            (notes if message.internal else conversation).append(message)
    may_except = (
        allowed(user, "share_exception")
        and rules.own_share_floor(case.organisation.kind) is not None
        and not case.is_terminal
    )
    return {
        "sees_notes": sees_notes,
        "notes": notes,
        "conversation": conversation,
        "note_form": simple_form(NoteForm, "note", submitted) if sees_notes else None,
        "message_form": (
            simple_form(MessageForm, "message", submitted)
            if role(user) in MESSAGE_WRITERS
            else None
        ),
        "exception_form": (
            simple_form(ShareExceptionForm, "exception", submitted) if may_except else None
        ),
    }


def simple_form(form_class, key: str, submitted: dict, **kwargs):
    """A blank form, or the one ``submitted`` as typed with its errors."""
    if submitted.get("key") != key:
        return form_class(auto_id=f"{key}-%s", **kwargs)
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


def _follow_up(user, case: Case, requests: list, claims: list, today, read: dict) -> dict:
    """Deadlines, history, live alerts, similar dossiers and the dossier's tasks.
    ``read``: what the page already read (``case_context``), not read again."""
    by_request = {fr.pk: fr for fr in requests}
    by_claim = {c.pk: c for c in claims}
    return {
        "deadlines": _deadline_rows(case, by_request, by_claim, today),
        "history": _history_rows(case, by_request, by_claim, read),
        "alerts": list(alert_list(user=user).filter(case=case).exclude(state="resolved")),
        "similar": similar_cases(case, user=user),
        "tasks": _tasks(case, by_request),
    }


def _tasks(case: Case, requests: dict) -> list[dict]:
    """The dossier's open tasks, each named by ``AgentStep.label`` (a request's task names
    its scheme and funder)."""
    rows = []
    for task in task_selectors.case_tasks(case):
        step = STEPS_BY_NODE.get(task.flow_task.name)
        subject = (
            requests.get(task.seed_object_id)
            if task.seed_content_type.model == "fundingrequest"
            else None
        )
        label = step.label(subject) if step else task.flow_task.name
        rows.append({"task": task, "step": step, "label": label})
    return rows


def _history_rows(case: Case, requests: dict, claims: dict, read: dict) -> list[dict]:
    extensions = read[Extension]
    by_extension = {e.pk: e for e in extensions}
    by_order = {o.pk: o for o in read[RecoveryOrder]}
    rows = []
    known = {m: read[m] for m in (FundingRequest, PaymentClaim, Extension, RecoveryOrder)}
    for log in selectors.case_history(case, known):
        model = log.content_type.model_class()
        spec = registration_for(model).specs.get(log.transition) if model else None
        subject = works.log_subject(log, by_extension, by_order)
        if subject is not None:
            pass
        elif model is Case:
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
                "at": log.timestamp,
                "comment": log.description,
                "subject": subject,
                "label": (spec.label if spec else "") or log.transition,
                "by": log.by.get_full_name() or log.by.username if log.by_id else "automatique",
                "extension": int(log.object_id) if log.content_type.model == "extension" else None,
            }
        )
    return with_agent_history(
        merged_history(works.with_requests(rows, extensions, _asked), expert_history(case)),
        case,
        sorted(read["corrections"], key=lambda c: (c.created_at, c.pk)),
        read["kinds"],
    )


def _asked(extension) -> dict:
    """The history row of an extension's request (its creation is not a transition)."""
    who = extension.requested_by
    return {
        "at": extension.requested_at,
        "comment": extension.reason,
        "subject": f"Prorogation ({works.kind_label(extension.deadline)}) "
        f"{extension.funding_request.scheme.code}",
        "label": f"Prorogation demandée jusqu'au {extension.until:%d/%m/%Y}",
        "by": (who.get_full_name() or who.username) if who else "",
    }


def _deadline_rows(case: Case, requests: dict, claims: dict, today) -> list[dict]:
    rows = []
    for d in selectors.case_deadlines(case):
        model = d.subject_type.model
        fr = request_status.deadline_request(d, requests)
        if fr is not None:
            subject = f"Demande {fr.scheme.code}"
        elif model == "paymentclaim" and d.subject_id in claims:
            subject = f"Demande de paiement n° {d.subject_id}"
        else:
            subject = "Dossier"
        funder = request_status.acting_funder(d.kind, fr)
        rows.append(
            {
                "deadline": d,
                "label": deadline_label(d.kind),
                "subject": subject,
                "party": request_status.funder_subject(funder)
                if funder
                else PARTY_LABELS.get(d.party, d.party),
                "overdue": d.state == Deadline.State.OPEN and d.due_on < today,
            }
        )
    return rows
