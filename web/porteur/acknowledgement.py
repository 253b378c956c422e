"""The acknowledgement of receipt of a filed dossier (PDF, CRPA R112-5)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases import rules, selectors
from engine.calendar import period_end
from engine.models import Deadline

from ..pdf import pdf_response, render_pdf
from .common import case_or_404


@login_required
@require_GET
def acknowledgement(request, pk: int):
    case = case_or_404(request, pk)
    if case.receipt_date is None:
        raise Http404("Le dossier n'est pas encore déposé.")
    pdf = render_pdf("web/pdf/acknowledgement.html", acknowledgement_context(case))
    return pdf_response(pdf, f"accuse-reception-{case.reference or case.pk}.pdf")


def acknowledgement_context(case) -> dict:
    """What the acknowledgement of receipt states (CRPA R112-5): dates from the deadlines
    when they exist, else computed with the legal calendar from the schemes' periods."""
    requests = list(case.funding_requests.all())
    deadlines = list(
        selectors.case_deadlines(case).exclude(state=Deadline.State.CANCELLED).order_by("-id")
    )
    completeness = next((d for d in deadlines if d.kind == "completeness"), None)
    implicit_by_request = {}
    for d in deadlines:
        if d.kind == "implicit_decision" and d.subject_type.model == "fundingrequest":
            implicit_by_request.setdefault(d.subject_id, d)
    return {
        "case": case,
        "organisation": case.organisation,
        "referent": case.referent_agent,
        "receipt": case.receipt_date,
        "rows": [
            _request_row(case, fr, completeness, implicit_by_request.get(fr.pk)) for fr in requests
        ],
        "total": rules.euros(sum((fr.amount_requested for fr in requests), Decimal(0))),
        "completeness": completeness,
        "issued_on": timezone.localdate(),
        "communes": list(case.communes.all()),
    }


def _request_row(case, fr, completeness, implicit_deadline) -> dict:
    """One scheme asked for: by when the dossier is complete, by when silence is a
    decision (the open deadline's date, else computed from the scheme's periods)."""
    s = fr.scheme
    months = s.completeness_months or 0
    receipt = case.receipt_date
    if completeness is not None:
        complete_by = completeness.due_on
    else:
        complete_by = period_end(receipt, months=months) if months else receipt
    if implicit_deadline is not None:
        implicit, computed = implicit_deadline.due_on, False
    elif s.implicit_decision_months:
        start = case.complete_on or complete_by
        implicit, computed = period_end(start, months=s.implicit_decision_months), True
    else:
        implicit, computed = None, True
    return {
        "request": fr,
        "scheme": s,
        "amount": rules.euros(fr.amount_requested),
        "completeness_months": s.completeness_months,
        "complete_by": complete_by,
        "implicit": implicit,
        "implicit_computed": computed,
        "implicit_months": s.implicit_decision_months,
    }
