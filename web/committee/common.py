"""What the committee pages share: the refusal page, the session read (visibility from
``cases.selectors``), the committee of the planner's territory, the members' names and
interest groups, the agent's summary of each request."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.shortcuts import render

from cases import committee as committee_service
from cases import selectors
from cases.models import FundingRequest, User
from engine.errors import DomainError
from schemes.models import Scheme

RESERVED = "Les séances du comité LEADER sont réservées à ses membres et à l'équipe du PETR."


def forbidden(request, message: str, status: int = 403):
    return render(
        request,
        "web/committee/error.html",
        {"nav": "committee", "message": message, "status": status},
        status=status,
    )


def readable_session(request, pk):
    """(session, None), or (None, the page refusing it: 403 for the role, 404 if unknown)."""
    if not selectors.session_readable(request.user):
        return None, forbidden(request, RESERVED)
    try:
        return session_or_404(request, pk), None
    except DomainError as exc:
        return None, forbidden(request, exc.message, status=404)


def session_or_404(request, pk):
    """The session with what its pages show (bounded prefetches), if the user sees it."""
    session = selectors.session_detail_list(user=request.user).filter(pk=pk).first()
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
    """How every committee page and the minutes name a member: first and last name, the
    login only when both are empty."""
    full = f"{user.first_name or ''} {user.last_name or ''}".strip()
    return full or user.username


def points_text(value) -> str:
    """Points in French form: 16,50 (two decimals, comma)."""
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):f}".replace(".", ",")


def vote_summary(vote) -> str:
    """A recorded vote as people read it: « Pour, 16,50 » (« sans note » if not scored)."""
    total = points_text(vote.total_score) if vote.scores else "sans note"
    return f"{vote.get_vote_display()}, {total}"


def member_group(user) -> str:
    return committee_service.interest_group_of(user)


def recorded_vote_form(vote) -> dict:
    """The vote form of a member who already voted: their vote and scores pre-filled, and
    the replacement made explicit (``replace``), so nothing recorded is lost silently."""
    return {
        "fr": vote.funding_request_id,
        "vote": vote.vote,
        "member": vote.member_id,
        "scores": {
            code: str(points).replace(".", ",") for code, points in (vote.scores or {}).items()
        },
        "errors": {},
        "message": "",
        "replace": True,
        "recorded": vote_summary(vote),
        "member_name": member_name(vote.member),
    }
