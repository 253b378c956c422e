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
    """What the acknowledgement of receipt states (CRPA R112-5). Each funder keeps its own
    legal track (revised rules 1-3, ADR 009): each request's receipt by its funder, start
    of eligibility, completeness and implicit-decision date (the request's stored date or
    open deadline when it exists, else computed with the legal calendar from its scheme's
    periods, or what it runs from when not yet known)."""
    requests = list(case.funding_requests.select_related("scheme__funder").order_by("id"))
    deadlines = list(
        selectors.case_deadlines(case).exclude(state=Deadline.State.CANCELLED).order_by("-id")
    )
    completeness = next(
        (d for d in deadlines if d.kind == "completeness" and d.subject_type.model == "case"),
        None,
    )
    by_request: dict[tuple[str, int], Deadline] = {}
    for d in deadlines:
        if d.subject_type.model == "fundingrequest":
            by_request.setdefault((d.kind, d.subject_id), d)
    return {
        "case": case,
        "organisation": case.organisation,
        "referent": case.referent_agent,
        "receipt": case.receipt_date,
        "rows": [
            _request_row(
                fr,
                by_request.get(("completeness", fr.pk)),
                by_request.get(("implicit_decision", fr.pk)),
            )
            for fr in requests
        ],
        "total": rules.euros(sum((fr.amount_requested for fr in requests), Decimal(0))),
        "completeness": completeness,
        "issued_on": timezone.localdate(),
        "communes": list(case.communes.all()),
    }


def _request_row(fr, completeness_deadline, implicit_deadline) -> dict:
    """One scheme asked for, on its own funder's track: received when, eligible from when,
    complete by when, by when silence is a decision, and what each runs from."""
    s = fr.scheme
    months = s.completeness_months or 0
    received = fr.received_on
    complete_computed = False
    if fr.complete_on is not None:
        complete_by = fr.complete_on
    elif completeness_deadline is not None:
        complete_by = completeness_deadline.due_on
    elif received is not None and months:
        complete_by, complete_computed = period_end(received, months=months), True
    else:
        complete_by = None
    implicit_from_receipt = s.implicit_decision_from == s.ImplicitFrom.RECEIPT
    if fr.implicit_decision_on is not None:
        implicit, computed = fr.implicit_decision_on, False
    elif implicit_deadline is not None:
        implicit, computed = implicit_deadline.due_on, False
    elif not s.implicit_decision_months:
        implicit, computed = None, False
    else:
        start = received if implicit_from_receipt else fr.complete_on
        if start is None and not implicit_from_receipt and s.deemed_complete:
            start = complete_by  # réputée complète at the end of its completeness period
        implicit = period_end(start, months=s.implicit_decision_months) if start else None
        computed = implicit is not None
    return {
        "request": fr,
        "scheme": s,
        "amount": rules.euros(fr.amount_requested),
        "sent_on": fr.sent_on,
        "received_on": received,
        "eligibility_start": fr.eligibility_start,
        "completeness_months": s.completeness_months,
        "deemed_complete": s.deemed_complete,
        "complete_on": fr.complete_on,
        "complete_by": complete_by,
        "complete_computed": complete_computed,
        "implicit": implicit,
        "implicit_computed": computed,
        "implicit_months": s.implicit_decision_months,
        "implicit_from_receipt": implicit_from_receipt,
    }
