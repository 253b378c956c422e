"""The sessions of the committee: their list, planning a new one, the session page
(agenda, scoring grid, votes, validity check) and closing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import committee as committee_service
from cases import selectors
from cases.models import SessionState, User, Vote
from cases.permissions import allowed, roles_for
from cases.rules import euros
from engine import inputs
from engine.errors import DomainError
from engine.transitions import available_transitions, transition_apply
from schemes.models import Scheme

from .agenda import agenda_items, members_by_college, substitutions, validity
from .common import (
    RESERVED,
    committee_members,
    committee_schemes,
    forbidden,
    instructor_summaries,
    member_group,
    member_name,
    readable_session,
    recorded_vote_form,
    session_or_404,
)

R = User.Role
PROXY_VOTER_ROLES = roles_for("vote_for_member")  # display; ``vote_record`` enforces it


@login_required
@require_GET
def session_list(request):
    user = request.user
    if not selectors.session_readable(user):
        return forbidden(request, RESERVED)
    base = selectors.session_list(user=user).annotate(
        n_agenda=Count("agenda", distinct=True),
        n_members=Count("members", distinct=True),
        n_selected=Count("decisions", filter=Q(decisions__outcome="selected"), distinct=True),
        n_adjourned=Count("decisions", filter=Q(decisions__outcome="adjourned"), distinct=True),
        n_rejected=Count("decisions", filter=Q(decisions__outcome="rejected"), distinct=True),
    )
    return render(
        request,
        "web/committee/session_list.html",
        {
            "nav": "committee",
            "planned": base.filter(state=SessionState.PLANNED).order_by("date", "id"),
            "closed": base.filter(state=SessionState.CLOSED).order_by("-date", "-id"),
            "waiting": selectors.awaiting_committee(user=user).count(),
            "may_plan": allowed(user, "session_create"),
        },
    )


# ---------------------------------------------------------------- planning a session


@dataclass
class SessionForm:
    """The form of a new session: what was typed, what it means, what is wrong."""

    values: dict
    day: date | None = None
    closes_on: date | None = None
    scheme: Scheme | None = None
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request):
    user = request.user
    if not allowed(user, "session_create"):
        return forbidden(request, "Seuls les agents du PETR planifient les séances du comité.")
    schemes = list(committee_schemes())
    form = SessionForm(
        {
            "date": "",
            "members": set(),
            "scheme": schemes[0].code if schemes else "",
            "kind": "meeting",
            "closes_on": "",
        }
    )
    if request.method != "POST":
        return _session_new_page(request, schemes, form)
    form = _parse_session(request.POST, schemes, form.values["scheme"])
    _check_session(form)
    if not form.errors:
        try:
            session = committee_service.session_create(
                actor=user,
                date=form.day,
                members=sorted(form.values["members"]) or None,
                scheme=form.scheme,
                kind=form.values["kind"],
                closes_on=form.closes_on,
            )
        except DomainError as exc:
            if exc.code == "forbidden":
                return forbidden(request, exc.message)
            form.message = exc.message
            for key, msgs in exc.errors.items():
                form.errors[key] = " ".join(str(m) for m in msgs)
        else:
            messages.success(
                request,
                f"Séance du {session.date:%d/%m/%Y} planifiée : "
                f"{session.agenda.count()} demande(s) à l'ordre du jour.",
            )
            return redirect("web:committee-session", pk=session.pk)
    return _session_new_page(request, schemes, form, status=400)


def _parse_session(post, schemes, default_scheme: str) -> SessionForm:
    """Read the date, the scheme and the members ticked (ids, ASCII digits only)."""
    values = {
        "date": post.get("date", "")[:20],
        "scheme": post.get("scheme", default_scheme)[:20],
        "members": set(),
        "kind": "written" if post.get("kind", "") == "written" else "meeting",
        "closes_on": post.get("closes_on", "")[:20],
    }
    form = SessionForm(values)
    for raw in post.getlist("members"):
        member_id = inputs.read_id(raw)
        if member_id is None:
            form.errors["members"] = "Sélection de membres invalide."
        else:
            values["members"].add(member_id)
    form.day = inputs.read_date(values["date"], french=True)
    form.closes_on = inputs.read_date(values["closes_on"], french=True)
    form.scheme = next((s for s in schemes if s.code == values["scheme"]), None)
    return form


def _check_session(form: SessionForm) -> None:
    """What the page asks before the service checks the rest (members of the committee,
    the scheme's parameters)."""
    if form.day is None:
        form.errors["date"] = "Indiquez la date de la séance (jj/mm/aaaa)."
    if form.scheme is None:
        form.errors["scheme"] = "Choisissez un dispositif qui passe en comité."
    written = form.values["kind"] == "written"
    if written and form.closes_on is None:
        form.errors["closes_on"] = "Indiquez la date limite des réponses (jj/mm/aaaa)."
    if not written and form.values["closes_on"]:
        form.errors["closes_on"] = "La date limite ne s'indique que pour une consultation écrite."
    if not written and not form.values["members"] and "members" not in form.errors:
        form.errors["members"] = "Cochez les membres présents."


def _session_new_page(request, schemes, form: SessionForm, status: int = 200):
    """The form, with the committee to tick and the requests that will be on the agenda."""
    waiting = list(
        selectors.awaiting_committee(user=request.user)
        .filter(scheme__in=[s.pk for s in schemes])
        .select_related("case", "case__organisation", "scheme")
        .order_by("scheme__code", "id")
    )
    summaries = instructor_summaries(waiting)
    member_rows = [
        {
            "user": m,
            "name": member_name(m),
            "group": member_group(m),
            "checked": m.pk in form.values["members"],
        }
        for m in committee_members(request.user)
    ]
    return render(
        request,
        "web/committee/session_new.html",
        {
            "nav": "committee",
            "schemes": schemes,
            "members": member_rows,
            "agenda": [
                {
                    "fr": fr,
                    "summary": summaries.get(fr.pk, ""),
                    "amount": euros(fr.amount_requested),
                }
                for fr in waiting
            ],
            "values": form.values,
            "errors": form.errors,
            "message": form.message,
        },
        status=status,
    )


# ---------------------------------------------------------------- the session page


@login_required
@require_GET
def session_detail(request, pk: int):
    session, refused = readable_session(request, pk)
    if refused:
        return refused
    return session_page(request, session)


def session_page(request, session, *, status=200, form_item=None, close_error=None):
    """The page; ``form_item``: the vote refused (values and errors, on its item);
    ``close_error``: why the session could not be closed."""
    user = request.user
    planned = session.state == SessionState.PLANNED
    outcomes = committee_service.session_outcomes(session) if planned else None
    items = agenda_items(session, user, outcomes)
    role = user.effective_role
    is_member = any(m.pk == user.pk for m in session.members.all())
    _vote_forms(items, form_item, request.GET, self_vote=role == R.COMMITTEE_MEMBER)
    check = validity(session, outcomes) if planned else None
    if check is not None:
        check["unvoted"] = sum(1 for item in items if not item.votes)
    context = {
        "nav": "committee",
        "session": session,
        "items": items,
        "grid": session.scheme.grid or [],
        "grid_max": session.scheme.grid_max_score,
        "grid_min": session.scheme.grid_min_score,
        "members": members_by_college(session.members.all()),
        "present_members": [
            {"user": m, "name": member_name(m), "group": member_group(m)}
            for m in session.members.all()
        ],
        "check": check,
        "substitutions": substitutions(session),
        "planned": planned,
        "may_vote_self": role == R.COMMITTEE_MEMBER and is_member,
        "member_absent": role == R.COMMITTEE_MEMBER and not is_member,
        "may_vote_proxy": role in PROXY_VOTER_ROLES,
        "may_close": "close" in available_transitions(session, user),
        "close_error": close_error,
        "page_error": form_item["message"] if form_item and not planned else "",
        "vote_choices": Vote.Choice.choices,
    }
    return render(request, "web/committee/session_detail.html", context, status=status)


def _vote_forms(items, form_item, query, *, self_vote: bool) -> None:
    """Each item's vote form: the one refused, else the vote already recorded pre-filled
    (a member's own; for the staff, the member whose « modifier » link was followed:
    ``?point=<request>&membre=<member>``), to be replaced only explicitly."""
    point, editing = inputs.read_id(query.get("point", "")), inputs.read_id(query.get("membre", ""))
    for item in items:
        if form_item is not None and item.fr.pk == form_item["fr"]:
            item.form = form_item
        elif self_vote and item.own_vote is not None:
            item.form = recorded_vote_form(item.own_vote)
        elif not self_vote and editing is not None and item.fr.pk == point:
            vote = next((v for v in item.votes if v.member_id == editing), None)
            item.form = recorded_vote_form(vote) if vote is not None else None


@login_required
@require_POST
def session_close(request, pk: int):
    user = request.user
    if not selectors.session_readable(user):
        return forbidden(request, "Votre rôle ne permet pas de clore une séance.")
    try:
        session = session_or_404(request, pk)
    except DomainError as exc:
        return forbidden(request, exc.message, status=404)
    try:
        transition_apply(
            instance=session,
            name="close",
            actor=user,
            comment=(request.POST.get("comment", "") or "")[:2000],
        )
    except DomainError as exc:
        if exc.code == "forbidden":
            return forbidden(request, exc.message)
        return session_page(
            request,
            session_or_404(request, pk),
            status=exc.status,
            close_error={"message": exc.message},
        )
    messages.success(
        request,
        f"Séance du {session.date:%d/%m/%Y} close : les décisions sont appliquées aux demandes.",
    )
    return redirect("web:committee-session", pk=session.pk)
