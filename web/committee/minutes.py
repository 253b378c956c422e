"""The minutes of a closed session (PDF): date (and a written consultation's closing
date), members present by college and group, substitutions, quorum, per project the
declarations of interest, the votes, its validity, the average score per criterion and the
outcome; signatures. The public page offers the same minutes (``public=True``)."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET

from cases.models import SessionState

from ..pdf import pdf_response, render_pdf
from .agenda import agenda_items, attendance, members_by_college, substitutions
from .common import forbidden, readable_session


@login_required
@require_GET
def session_minutes(request, pk: int):
    session, refused = readable_session(request, pk)
    if refused:
        return refused
    if session.state != SessionState.CLOSED:
        return forbidden(
            request,
            "Le procès-verbal est établi à la clôture de la séance.",
            status=404,
        )
    return minutes_response(session)


def minutes_response(session, *, public: bool = False):
    pdf = render_pdf("web/pdf/minutes.html", minutes_context(session, public=public))
    return pdf_response(pdf, f"proces-verbal-comite-{session.date:%Y-%m-%d}.pdf")


def minutes_context(session, *, public: bool = False) -> dict:
    items = agenda_items(session)
    return {
        "session": session,
        "public": public,
        "members": members_by_college(session.members.all()),
        **attendance(session),
        "grid": session.scheme.grid or [],
        "grid_min": session.scheme.grid_min_score,
        "grid_max": session.scheme.grid_max_score,
        "items": items,
        "substitutions": substitutions(session),
        "invalid_items": sum(1 for item in items if not item.valid),
        "counts": Counter(item.outcome for item in items),
    }
