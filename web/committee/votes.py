"""Recording a vote on an agenda item, by a member present or for them (PETR staff): the
form is read, checked, then handed to ``cases.committee.vote_record``, which enforces the
rules (who votes for whom, the grid's bounds)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases import committee as committee_service
from cases import selectors
from cases.models import SessionState, User, Vote
from engine import inputs
from engine.errors import DomainError

from .common import forbidden, member_name, recorded_vote_form, session_or_404, vote_summary
from .sessions import PROXY_VOTER_ROLES, session_page


@login_required
@require_POST
def vote_post(request, pk: int):
    user = request.user
    if not selectors.session_readable(user):
        return forbidden(request, "Votre rôle ne permet pas d'enregistrer un vote.")
    try:
        session = session_or_404(request, pk)
    except DomainError as exc:
        return forbidden(request, exc.message, status=404)
    form, scores = _parse_vote(request.POST, session.scheme.grid or [])
    _check_vote(form, request.POST, user)
    if form["fr"] is None or not any(fr.pk == form["fr"] for fr in session.agenda.all()):
        return forbidden(
            request, "Cette demande n'est pas à l'ordre du jour de la séance.", status=400
        )
    recorded = _recorded_vote(session, form, user)
    planned = session.state == SessionState.PLANNED  # else the service says why not
    if recorded is not None and planned and request.POST.get("replace", "") != "1":
        return _already_recorded(request, session, recorded)
    if recorded is not None:
        form.update(
            replace=True, recorded=vote_summary(recorded), member_name=member_name(recorded.member)
        )
    if form["errors"]:
        form["message"] = "Le vote n'a pas été enregistré : corrigez les champs signalés."
        return session_page(request, session, status=400, form_item=form)
    return _save_vote(request, session, form, scores, recorded)


def _recorded_vote(session, form: dict, user):
    """The vote already recorded for the member this form is about, if any."""
    member_id = form["member"]
    if user.effective_role == User.Role.COMMITTEE_MEMBER and member_id in (None, user.pk):
        member_id = user.pk
    if member_id is None:
        return None
    return next(
        (
            v
            for v in session.votes.all()
            if v.funding_request_id == form["fr"] and v.member_id == member_id
        ),
        None,
    )


def _already_recorded(request, session, recorded):
    """A post for a member who already voted, without the explicit « modifier »: refused,
    and the form shows the vote recorded, pre-filled, to be changed knowingly."""
    form = recorded_vote_form(recorded)
    title = next(fr.case.title for fr in session.agenda.all() if fr.pk == form["fr"])
    form["message"] = (
        f"{form['member_name']} a déjà voté sur « {title} » : "
        f"{form['recorded']}. Ce vote n'a pas été remplacé. Pour le modifier, changez le vote "
        "pré-rempli ci-dessous puis cliquez sur « Modifier le vote »."
    )
    return session_page(request, session, status=409, form_item=form)


def _parse_vote(post, grid) -> tuple[dict, dict]:
    """The form as typed (to show it again) and the scores given, still as typed: the
    service reads them (``engine.inputs``, French or ASCII)."""
    form = {
        "fr": inputs.read_id(post.get("funding_request", "")),
        "vote": post.get("vote", "")[:10],
        "member": inputs.read_id(post.get("member", "")),
        "scores": {},
        "errors": {},
        "message": "",
    }
    scores = {}
    for criterion in grid:
        code = criterion["code"]
        raw = post.get(f"score_{code}", "")
        form["scores"][code] = raw[:50]
        if raw.strip():
            scores[code] = raw
    return form, scores


def _check_vote(form: dict, post, user) -> None:
    """What the page asks before the service: a choice, a known member, and whose vote
    when staff record it for a member."""
    errors = form["errors"]
    if form["vote"] not in Vote.Choice.values:
        errors["vote"] = "Choisissez pour, contre ou abstention."
    if post.get("member", "") and form["member"] is None:
        errors["member"] = "Membre inconnu."
    if (
        user.effective_role in PROXY_VOTER_ROLES
        and form["member"] is None
        and "member" not in errors
    ):
        errors["member"] = "Choisissez le membre pour qui vous enregistrez le vote."


def _save_vote(request, session, form: dict, scores: dict, recorded=None):
    user = request.user
    try:
        vote = committee_service.vote_record(
            actor=user,
            session=session,
            funding_request_id=form["fr"],
            member_id=form["member"],
            vote=form["vote"],
            scores=scores,
        )
    except DomainError as exc:
        if exc.code == "forbidden":
            return forbidden(request, exc.message)
        _refusal_on_fields(form, exc, session.scheme.grid or [])
        session = session_or_404(request, session.pk)
        return session_page(request, session, status=exc.status, form_item=form)
    fr = next(fr for fr in session.agenda.all() if fr.pk == form["fr"])
    own = form["member"] in (None, user.pk)
    who = "Votre vote" if own else f"Le vote de {member_name(vote.member)}"
    if recorded is None:
        text = f"{who} sur « {fr.case.title} » est enregistré."
    else:
        text = (
            f"{who} sur « {fr.case.title} » est modifié : {form['recorded']} remplacé par "
            f"{vote_summary(vote)}."
        )
    messages.success(request, text)
    return redirect(reverse("web:committee-session", args=[session.pk]) + f"#point-{fr.pk}")


def _refusal_on_fields(form: dict, exc: DomainError, grid) -> None:
    """Put the service's refusal next to the fields it is about: a score out of bounds
    next to the criterion its message names (every criterion if it names none)."""
    form["message"] = exc.message
    for key, msgs in exc.errors.items():
        text = " ".join(str(m) for m in msgs)
        if key == "scores":
            matched = [c["code"] for c in grid if f"« {c['label']} »" in exc.message]
            for code in matched or [c["code"] for c in grid]:
                form["errors"][f"score_{code}"] = exc.message if matched else text
        elif key in ("vote", "member"):
            form["errors"][key] = text
