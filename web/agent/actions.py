"""What an agent posts from the dossier page: a transition, an opinion, an internal note,
a message to the porteur, the 20 % exception. A refusal shows the page again with the
French message next to what was typed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases import services
from engine.errors import DomainError
from engine.transitions import available_transitions, transition_apply

from ..agent_forms import (
    MessageForm,
    NoteForm,
    OpinionForm,
    ShareExceptionForm,
    form_error,
    transition_input,
    transition_label,
    typed_input,
)
from ..messages import posted_files
from .case_page import case_page
from .common import get_case_or_404, not_for_porteurs, safe_next


@login_required
@require_POST
def case_transition(request, pk: int, name: str):
    not_for_porteurs(request)
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
        if name not in available_transitions(case, request.user):
            messages.error(request, exc.message)
            return case_page(request, case, status=exc.status)
        sub = {"key": f"case-{case.pk}-{name}", **form_error(exc, values)}
        return case_page(request, case, sub, status=exc.status)
    messages.success(request, f"« {transition_label(case, name)} » : c'est enregistré.")
    return redirect(safe_next(request, reverse("web:case-detail", args=[pk])))


def _simple_post(request, pk: int, key: str, form_class, action):
    """Parse ``form_class``, then ``action(case, cleaned_data)`` returns the message of
    success; a refusal shows the page with the form as typed."""
    not_for_porteurs(request)
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
        services.message_post(
            actor=request.user,
            case=case,
            body=d["body"],
            internal=False,
            attachments=posted_files(request),
        )
        return "Message envoyé au porteur."

    return _simple_post(request, pk, "message", MessageForm, action)


@login_required
@require_POST
def case_share_exception(request, pk: int):
    def action(case, d):
        services.case_record_share_exception(
            actor=request.user, case=case, reason=d["reason"], legal_case=d["legal_case"].code
        )
        return f"Dérogation enregistrée : {d['legal_case'].label}."

    return _simple_post(request, pk, "exception", ShareExceptionForm, action)
