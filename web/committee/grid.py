"""The committee grid: one page per session where its secretary (an agent of the PETR)
records, during the meeting, each member's presence, then each member's vote and scores on
each agenda item — one block per item, one row per member. A row (one member's vote on one
item) is a cell of the grid, saved on its own: ``web/committee-grid.js`` posts it and shows
the answer (JSON); without the script each block is an ordinary form.

The rules stay where they are: ``cases.committee.vote_record`` (who votes, the grid's
bounds), ``cases.committee_presence.presence_set`` and ``session_outcomes`` (validity of
each item); ``agenda`` lays out what they return. A recorded vote is replaced only by the
row that showed it: each row carries the vote it displayed, and a vote recorded meanwhile
(by the member from their phone) is never replaced silently."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cases import committee as committee_service
from cases.committee_presence import presence_set
from cases.models import SessionState, Vote
from cases.permissions import allowed
from engine import inputs
from engine.errors import DomainError

from .agenda import agenda_items
from .common import forbidden, member_group, member_name, session_or_404, vote_summary
from .votes import _refusal_on_fields

SECRETARY = "Seuls les agents du PETR tiennent la grille de saisie de la séance."
MAX_ROWS = 300  # a block never posts more rows than a committee has members


@dataclass
class RowResult:
    """What saving one row gave: ``state`` saved, modified, unchanged, skipped or error."""

    state: str
    message: str = ""
    status: int = 200
    errors: dict = field(default_factory=dict)
    typed: dict | None = None


def vote_token(vote) -> str:
    """The version of a recorded vote a row displayed ("" when none was recorded)."""
    if vote is None:
        return ""
    return f"{vote.pk}-{int(vote.recorded_at.timestamp() * 1_000_000)}"


def _json_wanted(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refuse(request, message: str, status: int):
    if _json_wanted(request):
        return JsonResponse({"ok": False, "message": message, "errors": {}}, status=status)
    return forbidden(request, message, status=status)


def _grid_session(request, pk):
    """(session, None), or (None, the refusal): the secretary only, of a session they see."""
    if not allowed(request.user, "vote_for_member"):
        return None, _refuse(request, SECRETARY, 403)
    try:
        return session_or_404(request, pk), None
    except DomainError as exc:
        return None, _refuse(request, exc.message, 404)


def grid_members(session) -> list:
    """The rows of the grid: in a meeting, the whole committee of the session's territory
    (presence is recorded here) and anyone already present; in a written consultation,
    the members consulted."""
    people = {m.pk: m for m in session.members.all()}
    if not session.written:
        for member in committee_service.committee_members(session.territory_id):
            people.setdefault(member.pk, member)
    return sorted(
        people.values(),
        key=lambda m: (m.college or "", member_group(m), m.last_name or "", m.username),
    )


def summary_text(invalid: int, total: int) -> str:
    """The grid's one-line verdict, from the validity ``session_outcomes`` gave each item."""
    if not total:
        return "Aucun projet à l'ordre du jour."
    if not invalid:
        return "Le comité peut délibérer valablement sur chaque projet de l'ordre du jour."
    return (
        f"Le comité ne peut pas délibérer valablement sur {invalid} projet(s) sur {total} : "
        "clos maintenant, ils seraient ajournés avec leur motif."
    )


# ---------------------------------------------------------------- the page


@login_required
@require_GET
def grid_page(request, pk: int):
    session, refused = _grid_session(request, pk)
    if refused:
        return refused
    return _render_grid(request, session)


def _render_grid(request, session, *, typed=None, status=200):
    """The page; ``typed``: one block's rows as posted, with their errors, to show again."""
    planned = session.state == SessionState.PLANNED
    outcomes = committee_service.session_outcomes(session) if planned else None
    items = agenda_items(session, None, outcomes)
    members = grid_members(session)
    present = {m.pk for m in session.members.all()}
    grid = session.scheme.grid or []
    typed = typed or {}
    invalid = sum(1 for item in items if not item.valid)
    blocks = [
        {
            "item": item,
            "rows": _rows(item, members, present, grid, typed.get(item.fr.pk, {})),
            "errors": bool(typed.get(item.fr.pk)),
        }
        for item in items
    ]
    presence = [
        {"member": m, "name": member_name(m), "group": member_group(m), "present": m.pk in present}
        for m in members
    ]
    context = {
        "nav": "committee",
        "session": session,
        "planned": planned,
        "grid": grid,
        "blocks": blocks,
        "presence": presence,
        "present_count": len(present),
        "invalid_items": invalid,
        "summary": summary_text(invalid, len(items)),
        "has_errors": bool(typed),
        "vote_choices": Vote.Choice.choices,
    }
    return render(request, "web/committee/grid.html", context, status=status)


def _rows(item, members, present: set, grid, typed: dict) -> list[dict]:
    """One row per member on one item: the vote recorded (or the values just posted, with
    their errors), whether the member sits and whether they declared an interest."""
    votes = {v.member_id: v for v in item.votes}
    conflicted = {c.member_id for c in item.conflicts}
    rows = []
    for member in members:
        vote = votes.get(member.pk)
        posted = typed.get(member.pk)
        if posted is not None:
            values, errors, message = posted.typed, posted.errors, posted.message
        else:
            values, errors, message = _recorded_values(vote), {}, ""
        rows.append(
            {
                "member": member,
                "name": member_name(member),
                "group": member_group(member),
                "present": member.pk in present,
                "conflict": member.pk in conflicted,
                "token": vote_token(vote),
                "vote": values["vote"],
                "recorded": vote_summary(vote) if vote is not None else "",
                "vote_error": errors.get("vote", "") or errors.get("member", ""),
                "scores": [
                    {
                        "code": c["code"],
                        "label": c["label"],
                        "max": c.get("max"),
                        "value": values["scores"].get(c["code"], ""),
                        "error": errors.get(f"score_{c['code']}", ""),
                    }
                    for c in grid
                ],
                "message": message,
            }
        )
    return rows


def _recorded_values(vote) -> dict:
    if vote is None:
        return {"vote": "", "scores": {}}
    scores = {code: str(points).replace(".", ",") for code, points in (vote.scores or {}).items()}
    return {"vote": vote.vote, "scores": scores}


# ---------------------------------------------------------------- saving votes


@login_required
@require_POST
def grid_vote(request, pk: int):
    """One row (JSON, from the script) or one block (an ordinary form) of votes."""
    session, refused = _grid_session(request, pk)
    if refused:
        return refused
    fr_id = inputs.read_id(request.POST.get("funding_request", ""))
    item = next((fr for fr in session.agenda.all() if fr.pk == fr_id), None)
    if item is None:
        return _refuse(request, "Cette demande n'est pas à l'ordre du jour de la séance.", 400)
    ids = [i for i in map(inputs.read_id, request.POST.getlist("member")[:MAX_ROWS]) if i]
    if _json_wanted(request):
        if len(ids) != 1:
            return _refuse(request, "Indiquez le membre de la ligne à enregistrer.", 400)
        result = _save_row(request, session, fr_id, ids[0])
        return _row_answer(request, session.pk, fr_id, ids[0], result)
    results = {m: _save_row(request, session, fr_id, m, skip_unchanged=True) for m in ids}
    failed = {m: r for m, r in results.items() if r.state == "error"}
    done = sum(1 for r in results.values() if r.state in ("saved", "modified"))
    if failed:
        session = session_or_404(request, session.pk)
        return _render_grid(request, session, typed={fr_id: failed}, status=400)
    messages.success(
        request, f"« {item.case.title} » : {done} vote(s) enregistré(s) ou modifié(s)."
    )
    return redirect(reverse("web:committee-grid", args=[session.pk]) + f"#point-{fr_id}")


def _typed_row(post, member_id: int, grid) -> dict:
    return {
        "vote": post.get(f"vote-{member_id}", "")[:10],
        "scores": {
            c["code"]: post.get(f"score-{member_id}-{c['code']}", "")[:50].strip() for c in grid
        },
    }


def _save_row(request, session, fr_id: int, member_id: int, *, skip_unchanged=False):
    """Save one member's vote on one item through ``vote_record``, unless the vote
    recorded is not the one the row displayed (then nothing is replaced)."""
    grid = session.scheme.grid or []
    typed = _typed_row(request.POST, member_id, grid)
    recorded = (
        Vote.objects.filter(session=session, funding_request_id=fr_id, member_id=member_id)
        .select_related("member")
        .first()
    )
    if skip_unchanged and _unchanged(recorded, typed):
        return RowResult("unchanged" if recorded else "skipped")
    if vote_token(recorded) != request.POST.get(f"previous-{member_id}", ""):
        return _changed_meanwhile(recorded, typed)
    if typed["vote"] not in Vote.Choice.values:
        message = "Choisissez pour, contre ou abstention : rien n'a été enregistré."
        return RowResult("error", message, 400, {"vote": message}, typed)
    try:
        vote = committee_service.vote_record(
            actor=request.user,
            session=session,
            funding_request_id=fr_id,
            member_id=member_id,
            vote=typed["vote"],
            scores={code: raw for code, raw in typed["scores"].items() if raw},
        )
    except DomainError as exc:
        form = {"errors": {}, "message": ""}
        _refusal_on_fields(form, exc, grid)
        return RowResult("error", exc.message, exc.status, form["errors"], typed)
    if recorded is None:
        return RowResult("saved", f"Enregistré : {vote_summary(vote)}.")
    old, new = vote_summary(recorded), vote_summary(vote)
    return RowResult("modified", f"Modifié : {old} remplacé par {new}.")


def _unchanged(recorded, typed: dict) -> bool:
    """A block's row left as displayed: nothing typed, or the vote recorded as it was."""
    if recorded is None:
        return not typed["vote"] and not any(typed["scores"].values())
    return _recorded_values(recorded)["vote"] == typed["vote"] and {
        k: v for k, v in _recorded_values(recorded)["scores"].items() if v
    } == {k: v for k, v in typed["scores"].items() if v}


def _changed_meanwhile(recorded, typed: dict) -> RowResult:
    if recorded is None:
        message = (
            "Le vote affiché a été retiré entre-temps (conflit d'intérêts déclaré ?) : "
            "rien n'a été enregistré. Rechargez la grille."
        )
    else:
        message = (
            f"Un vote a été enregistré entre-temps pour {member_name(recorded.member)} : "
            f"{vote_summary(recorded)}. Rien n'a été remplacé : vérifiez la ligne, puis "
            "enregistrez-la à nouveau pour le modifier."
        )
    return RowResult("error", message, 409, {"vote": message}, typed)


def _row_answer(request, session_pk: int, fr_id: int, member_id: int, result: RowResult):
    """The row's answer: its state and message, the version of the vote now recorded (after
    a conflict the row keeps what was typed: saving it again replaces knowingly) and every
    item's validity, as the rules compute it now."""
    session = session_or_404(request, session_pk)
    current = next(
        (
            v
            for v in session.votes.all()
            if v.funding_request_id == fr_id and v.member_id == member_id
        ),
        None,
    )
    body = {
        "ok": result.state != "error",
        "state": result.state,
        "message": result.message,
        "errors": result.errors,
        "previous": vote_token(current),
        **_validity_answer(request, session),
    }
    return JsonResponse(body, status=result.status)


def _validity_answer(request, session) -> dict:
    """Each item's validity block, rendered by the same template as the page."""
    planned = session.state == SessionState.PLANNED
    outcomes = committee_service.session_outcomes(session) if planned else None
    items = agenda_items(session, None, outcomes)
    invalid = sum(1 for item in items if not item.valid)
    return {
        "items": {
            str(item.fr.pk): render_to_string(
                "web/committee/grid_validity.html", {"item": item}, request=request
            )
            for item in items
        },
        "invalid_items": invalid,
        "summary": summary_text(invalid, len(items)),
        "present_count": len(session.members.all()),
    }


# ---------------------------------------------------------------- presence


@login_required
@require_POST
def grid_presence(request, pk: int):
    """One member's presence (JSON) or the presence block (an ordinary form)."""
    session, refused = _grid_session(request, pk)
    if refused:
        return refused
    ids = [i for i in map(inputs.read_id, request.POST.getlist("member")[:MAX_ROWS]) if i]
    ticked = {i for i in map(inputs.read_id, request.POST.getlist("present")[:MAX_ROWS]) if i}
    sitting = {m.pk for m in session.members.all()}
    if _json_wanted(request):
        if len(ids) != 1:
            return _refuse(request, "Indiquez le membre dont la présence change.", 400)
        return _presence_answer(request, session, ids[0], ids[0] in ticked)
    errors = []
    for member_id in ids:
        if (member_id in ticked) == (member_id in sitting):
            continue
        try:
            presence_set(
                actor=request.user,
                session=session,
                member_id=member_id,
                present=member_id in ticked,
            )
        except DomainError as exc:
            if exc.code == "forbidden":
                return forbidden(request, exc.message)
            errors.append(exc.message)
    for message in errors:
        messages.error(request, message)
    if not errors:
        messages.success(request, "Présences enregistrées.")
    return redirect(reverse("web:committee-grid", args=[session.pk]) + "#presences")


def _presence_answer(request, session, member_id: int, present: bool):
    try:
        member = presence_set(
            actor=request.user, session=session, member_id=member_id, present=present
        )
    except DomainError as exc:
        session = session_or_404(request, session.pk)
        body = {"ok": False, "message": exc.message, "errors": exc.errors}
        body["present"] = any(m.pk == member_id for m in session.members.all())
        return JsonResponse({**body, **_validity_answer(request, session)}, status=exc.status)
    session = session_or_404(request, session.pk)
    what = "présent(e)" if present else "absent(e)"
    body = {"ok": True, "present": present, "message": f"{member_name(member)} : {what}."}
    return JsonResponse({**body, **_validity_answer(request, session)})
