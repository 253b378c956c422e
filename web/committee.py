"""LEADER programming committee pages: sessions, agenda, scoring grid and votes, validity
check, closing, minutes (PDF).

Thin views: the rules (who plans, who votes for whom, quorum, the 49 % rule, outcomes)
live in ``cases.committee`` and the transition service; this module parses the forms,
calls them, and lays out what they return.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import committee as committee_service
from cases import selectors
from cases.models import (
    CommitteeDecision,
    FundingRequest,
    SessionState,
    User,
    Vote,
)
from cases.permissions import allowed, roles_for
from cases.rules import euros, percent
from engine import inputs
from engine.errors import DomainError
from engine.transitions import available_transitions, transition_apply
from schemes.models import Scheme

R = User.Role
PROXY_VOTER_ROLES = roles_for("vote_for_member")  # display; ``vote_record`` enforces it
OUTCOME_LABELS = dict(CommitteeDecision._meta.get_field("outcome").choices)
OUTCOME_BADGES = {"selected": "ok", "adjourned": "warn", "rejected": "danger"}
VOTE_LABELS = dict(Vote.Choice.choices)


# ---------------------------------------------------------------- reads


def _forbidden(request, message: str, status: int = 403):
    return render(
        request,
        "web/committee/error.html",
        {"nav": "committee", "message": message, "status": status},
        status=status,
    )


def _may_see_sessions(user) -> bool:
    return selectors.session_readable(user)


def sessions_for(user):
    """Sessions a user may see (committee members and PETR staff), bounded prefetches."""
    return selectors.session_detail_list(user=user)


RESERVED = "Les séances du comité LEADER sont réservées à ses membres et à l'équipe du PETR."


def _readable_session(request, pk):
    """(session, None), or (None, the page refusing it: 403 for the role, 404 if unknown)."""
    if not _may_see_sessions(request.user):
        return None, _forbidden(request, RESERVED)
    try:
        return _session_or_404(request, pk), None
    except DomainError as exc:
        return None, _forbidden(request, exc.message, status=404)


def _session_or_404(request, pk):
    session = sessions_for(request.user).filter(pk=pk).first()
    if session is None:
        raise DomainError("Séance introuvable.", code="not_found")
    return session


def committee_members(user):
    """The committee of the territory the user plans sessions for (none if a superuser
    of a several-territory installation: sessions are then planned through the API)."""
    try:
        territory_id = committee_service.session_territory_id(user)
    except DomainError:
        return User.objects.none()
    return committee_service.committee_members(territory_id).order_by(
        "college", "interest_group", "last_name", "username"
    )


def committee_schemes():
    return Scheme.objects.filter(committee=True, active=True).order_by("code")


def instructor_summaries(requests) -> dict[int, str]:
    """The comment the agent gave when putting each request before the committee (one query)."""
    from django_fsm_log.models import StateLog

    ids = [fr.pk for fr in requests]
    if not ids:
        return {}
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(FundingRequest),
        object_id__in=ids,
        transition="submit_to_committee",
    ).order_by("timestamp", "id")
    return {int(log.object_id): log.description or "" for log in logs}


def member_name(user) -> str:
    return user.get_full_name() or user.username


def member_group(user) -> str:
    return committee_service.interest_group_of(user)


# ---------------------------------------------------------------- presentation


@dataclass
class GroupShare:
    group: str
    count: int
    share: Decimal

    @property
    def share_label(self) -> str:
        return percent(self.share)


@dataclass
class AgendaItem:
    fr: FundingRequest
    summary: str
    votes: list
    counts: Counter
    groups: list[GroupShare]
    outcome: str | None = None  # projected (planned) or recorded (closed)
    average: Decimal | None = None
    criteria_averages: list = field(default_factory=list)
    decision: CommitteeDecision | None = None
    own_vote: Vote | None = None
    form: dict | None = None  # values and errors to re-display

    @property
    def anchor(self) -> str:
        return f"point-{self.fr.pk}"

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, "") if self.outcome else ""

    @property
    def outcome_badge(self) -> str:
        return OUTCOME_BADGES.get(self.outcome, "")

    @property
    def amount_label(self) -> str:
        return euros(self.fr.amount_requested)


def _group_shares(votes) -> list[GroupShare]:
    groups = Counter(member_group(v.member) for v in votes)
    total = sum(groups.values())
    return [
        GroupShare(group, n, (Decimal(n) / Decimal(total)).quantize(Decimal("0.0001")))
        for group, n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _criteria_averages(scheme, votes) -> list[dict]:
    out = []
    for criterion in scheme.grid or []:
        values = []
        for vote in votes:
            raw = (vote.scores or {}).get(criterion["code"])
            if raw is not None:
                values.append(Decimal(str(raw)))
        average = (sum(values) / len(values)).quantize(Decimal("0.01")) if values else None
        out.append(
            {
                "code": criterion["code"],
                "label": criterion["label"],
                "max": criterion.get("max"),
                "average": average,
                "count": len(values),
            }
        )
    return out


def agenda_items(session, user=None, outcomes=None) -> list[AgendaItem]:
    """Each agenda item with its votes, group shares, and the outcome: recorded once the
    session is closed, projected by ``session_outcomes`` while it is planned."""
    agenda = list(session.agenda.all())
    votes_by_fr = defaultdict(list)
    for vote in session.votes.all():
        votes_by_fr[vote.funding_request_id].append(vote)
    decisions = {d.funding_request_id: d for d in session.decisions.all()}
    summaries = instructor_summaries(agenda)
    projected = {}
    if session.state == SessionState.PLANNED:
        outcomes = outcomes or committee_service.session_outcomes(session)
        projected = {o.funding_request.pk: o for o in outcomes.items}
    items = []
    for fr in agenda:
        votes = votes_by_fr.get(fr.pk, [])
        item = AgendaItem(
            fr=fr,
            summary=summaries.get(fr.pk, ""),
            votes=votes,
            counts=Counter(v.vote for v in votes),
            groups=_group_shares(votes),
            criteria_averages=_criteria_averages(session.scheme, votes),
        )
        decision = decisions.get(fr.pk)
        if decision is not None:
            item.decision = decision
            item.outcome = decision.outcome
            item.average = decision.average_score
        elif fr.pk in projected:
            item.outcome = projected[fr.pk].outcome
            item.average = projected[fr.pk].average_score
        if user is not None:
            item.own_vote = next((v for v in votes if v.member_id == user.pk), None)
        items.append(item)
    return items


def validity(session, outcomes=None) -> dict:
    """Figures of the validity check; the verdict comes from ``session_outcomes`` only."""
    outcomes = outcomes or committee_service.session_outcomes(session)
    present = len(session.members.all())
    total = committee_service.committee_size(session)
    return {
        "problems": outcomes.problems,
        "valid": not outcomes.problems,
        "present": present,
        "total": total,
        "present_share": percent(Decimal(present) / Decimal(total)) if total else "0 %",
        "quorum_rate": percent(session.scheme.quorum_rate),
        "max_group_share": percent(session.scheme.max_group_share),
    }


def members_by_college(members) -> list[dict]:
    """Members present grouped by college then interest group, for the page and minutes."""
    grouped: dict[tuple[str, str], list] = defaultdict(list)
    for member in members:
        college = member.get_college_display() or "Collège non renseigné"
        grouped[(college, member_group(member))].append(member)
    return [
        {"college": college, "group": group, "members": people, "count": len(people)}
        for (college, group), people in sorted(grouped.items())
    ]


# ---------------------------------------------------------------- pages


@login_required
@require_GET
def session_list(request):
    user = request.user
    if not _may_see_sessions(user):
        return _forbidden(
            request,
            RESERVED,
        )
    base = selectors.session_list(user=user).annotate(
        n_agenda=Count("agenda", distinct=True),
        n_members=Count("members", distinct=True),
        n_selected=Count("decisions", filter=Q(decisions__outcome="selected"), distinct=True),
        n_adjourned=Count("decisions", filter=Q(decisions__outcome="adjourned"), distinct=True),
        n_rejected=Count("decisions", filter=Q(decisions__outcome="rejected"), distinct=True),
    )
    planned = base.filter(state=SessionState.PLANNED).order_by("date", "id")
    closed = base.filter(state=SessionState.CLOSED).order_by("-date", "-id")
    waiting = selectors.awaiting_committee(user=user).count()
    return render(
        request,
        "web/committee/session_list.html",
        {
            "nav": "committee",
            "planned": planned,
            "closed": closed,
            "waiting": waiting,
            "may_plan": allowed(user, "session_create"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request):
    user = request.user
    if not allowed(user, "session_create"):
        return _forbidden(request, "Seuls les agents du PETR planifient les séances du comité.")
    schemes = list(committee_schemes())
    members = list(committee_members(user))
    values = {"date": "", "members": set(), "scheme": schemes[0].code if schemes else ""}
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        values["date"] = request.POST.get("date", "")[:20]
        values["scheme"] = request.POST.get("scheme", values["scheme"])[:20]
        raw_members = request.POST.getlist("members")
        chosen = set()
        for raw in raw_members:
            member_id = inputs.read_id(raw)
            if member_id is None:
                errors["members"] = "Sélection de membres invalide."
            else:
                chosen.add(member_id)
        values["members"] = chosen
        day = inputs.read_date(values["date"], french=True)
        if day is None:
            errors["date"] = "Indiquez la date de la séance (jj/mm/aaaa)."
        scheme = next((s for s in schemes if s.code == values["scheme"]), None)
        if scheme is None:
            errors["scheme"] = "Choisissez un dispositif qui passe en comité."
        if not chosen and "members" not in errors:
            errors["members"] = "Cochez les membres présents."
        if not errors:
            try:
                session = committee_service.session_create(
                    actor=user, date=day, members=sorted(chosen), scheme=scheme
                )
            except DomainError as exc:
                if exc.code == "forbidden":
                    return _forbidden(request, exc.message)
                message = exc.message
                for key, msgs in exc.errors.items():
                    errors[key] = " ".join(str(m) for m in msgs)
            else:
                messages.success(
                    request,
                    f"Séance du {session.date:%d/%m/%Y} planifiée : "
                    f"{session.agenda.count()} demande(s) à l'ordre du jour.",
                )
                return redirect("web:committee-session", pk=session.pk)
        status = 400
    waiting = list(
        selectors.awaiting_committee(user=user)
        .filter(scheme__in=[s.pk for s in schemes])
        .select_related("case", "case__organisation", "scheme")
        .order_by("scheme__code", "id")
    )
    summaries = instructor_summaries(waiting)
    rows = [
        {"fr": fr, "summary": summaries.get(fr.pk, ""), "amount": euros(fr.amount_requested)}
        for fr in waiting
    ]
    member_rows = [
        {
            "user": m,
            "name": member_name(m),
            "group": member_group(m),
            "checked": m.pk in values["members"],
        }
        for m in members
    ]
    return render(
        request,
        "web/committee/session_new.html",
        {
            "nav": "committee",
            "schemes": schemes,
            "members": member_rows,
            "agenda": rows,
            "values": values,
            "errors": errors,
            "message": message,
        },
        status=status,
    )


def _session_page(request, session, *, status=200, form_item=None, close_error=None):
    user = request.user
    planned = session.state == SessionState.PLANNED
    outcomes = committee_service.session_outcomes(session) if planned else None
    items = agenda_items(session, user, outcomes)
    if form_item is not None:
        for item in items:
            if item.fr.pk == form_item["fr"]:
                item.form = form_item
    check = validity(session, outcomes) if planned else None
    if check is not None:
        check["unvoted"] = sum(1 for item in items if not item.votes)
    role = user.effective_role
    is_member = any(m.pk == user.pk for m in session.members.all())
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


@login_required
@require_GET
def session_detail(request, pk: int):
    session, refused = _readable_session(request, pk)
    if refused:
        return refused
    return _session_page(request, session)


@login_required
@require_POST
def vote_post(request, pk: int):
    user = request.user
    if not _may_see_sessions(user):
        return _forbidden(request, "Votre rôle ne permet pas d'enregistrer un vote.")
    try:
        session = _session_or_404(request, pk)
    except DomainError as exc:
        return _forbidden(request, exc.message, status=404)
    post = request.POST
    fr_id = inputs.read_id(post.get("funding_request", ""))
    raw_member = post.get("member", "")
    member_id = inputs.read_id(raw_member)
    form = {
        "fr": fr_id,
        "vote": post.get("vote", "")[:10],
        "member": member_id,
        "scores": {},
        "errors": {},
        "message": "",
    }
    scores = {}
    for criterion in session.scheme.grid or []:
        code = criterion["code"]
        raw = post.get(f"score_{code}", "")
        form["scores"][code] = raw[:50]
        if raw.strip():
            scores[code] = raw  # read by the service (engine.inputs), French or ASCII
    if form["vote"] not in Vote.Choice.values:
        form["errors"]["vote"] = "Choisissez pour, contre ou abstention."
    if raw_member and member_id is None:
        form["errors"]["member"] = "Membre inconnu."
    if (
        user.effective_role in PROXY_VOTER_ROLES
        and member_id is None
        and "member" not in form["errors"]
    ):
        form["errors"]["member"] = "Choisissez le membre pour qui vous enregistrez le vote."
    if fr_id is None or not any(fr.pk == fr_id for fr in session.agenda.all()):
        return _forbidden(
            request, "Cette demande n'est pas à l'ordre du jour de la séance.", status=400
        )
    if form["errors"]:
        form["message"] = "Le vote n'a pas été enregistré : corrigez les champs signalés."
        return _session_page(request, session, status=400, form_item=form)
    try:
        committee_service.vote_record(
            actor=user,
            session=session,
            funding_request_id=fr_id,
            member_id=member_id,
            vote=form["vote"],
            scores=scores,
        )
    except DomainError as exc:
        form["message"] = exc.message
        for key, msgs in exc.errors.items():
            text = " ".join(str(m) for m in msgs)
            if key == "scores":
                matched = [
                    c["code"]
                    for c in session.scheme.grid or []
                    if f"« {c['label']} »" in exc.message
                ]
                for code in matched or [c["code"] for c in session.scheme.grid or []]:
                    form["errors"][f"score_{code}"] = exc.message if matched else text
            elif key in ("vote", "member"):
                form["errors"][key] = text
        if exc.code == "forbidden":
            return _forbidden(request, exc.message)
        session = _session_or_404(request, pk)
        return _session_page(request, session, status=exc.status, form_item=form)
    fr = next(fr for fr in session.agenda.all() if fr.pk == fr_id)
    who = "Votre vote" if member_id in (None, user.pk) else "Le vote"
    messages.success(request, f"{who} sur « {fr.case.title} » est enregistré.")
    return redirect(reverse("web:committee-session", args=[session.pk]) + f"#point-{fr_id}")


@login_required
@require_POST
def session_close(request, pk: int):
    user = request.user
    if not _may_see_sessions(user):
        return _forbidden(request, "Votre rôle ne permet pas de clore une séance.")
    try:
        session = _session_or_404(request, pk)
    except DomainError as exc:
        return _forbidden(request, exc.message, status=404)
    try:
        transition_apply(
            instance=session,
            name="close",
            actor=user,
            comment=(request.POST.get("comment", "") or "")[:2000],
        )
    except DomainError as exc:
        if exc.code == "forbidden":
            return _forbidden(request, exc.message)
        reasons = exc.errors.get("committee") or []
        session = _session_or_404(request, pk)
        return _session_page(
            request,
            session,
            status=exc.status,
            close_error={
                "message": exc.message
                if not reasons
                else "La séance ne peut pas être close : le comité ne peut pas délibérer valablement.",
                "reasons": reasons,
            },
        )
    messages.success(
        request,
        f"Séance du {session.date:%d/%m/%Y} close : les décisions sont appliquées aux demandes.",
    )
    return redirect("web:committee-session", pk=session.pk)


# ---------------------------------------------------------------- minutes


def minutes_context(session, *, public: bool = False) -> dict:
    """What the minutes show: date, members present by college and group, quorum, per
    project the votes, the average score per criterion and the outcome; signatures."""
    items = agenda_items(session)
    present = len(session.members.all())
    total = committee_service.committee_size(session)
    return {
        "session": session,
        "public": public,
        "members": members_by_college(session.members.all()),
        "present": present,
        "total": total,
        "present_share": percent(Decimal(present) / Decimal(total)) if total else "0 %",
        "quorum_rate": percent(session.scheme.quorum_rate),
        "max_group_share": percent(session.scheme.max_group_share),
        "grid": session.scheme.grid or [],
        "grid_min": session.scheme.grid_min_score,
        "grid_max": session.scheme.grid_max_score,
        "items": items,
        "counts": Counter(item.outcome for item in items),
    }


def render_minutes(session, *, public: bool = False) -> bytes:
    try:
        from web.pdf import render_pdf
    except ImportError:  # pragma: no cover - the shared helper is the normal path
        from django.template.loader import render_to_string
        from weasyprint import HTML

        def render_pdf(template, context):
            return HTML(string=render_to_string(template, context)).write_pdf()

    return render_pdf("web/pdf/minutes.html", minutes_context(session, public=public))


def minutes_response(session, *, public: bool = False):
    pdf = render_minutes(session, public=public)
    name = f"proces-verbal-comite-{session.date:%Y-%m-%d}.pdf"
    try:
        from web.pdf import pdf_response
    except ImportError:  # pragma: no cover
        from django.http import HttpResponse

        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return pdf_response(pdf, name)


@login_required
@require_GET
def session_minutes(request, pk: int):
    session, refused = _readable_session(request, pk)
    if refused:
        return refused
    if session.state != SessionState.CLOSED:
        return _forbidden(
            request,
            "Le procès-verbal est établi à la clôture de la séance.",
            status=404,
        )
    return minutes_response(session)
