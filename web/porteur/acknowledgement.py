"""The receipts of a filed dossier (PDF): the desk's récépissé, and each funding request's
CRPA acknowledgement (R112-5) once its funder's receipt is known (revised rule 1, ADR 009).

Both are read by the porteur of the dossier and by its staff (``case_or_404``: anyone
else gets a 404). The dates come from ``cases.legal_track.request_track``."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases import legal_track, rules, selectors
from engine.models import Deadline

from ..pdf import pdf_response, render_pdf
from .common import case_or_404


@login_required
@require_GET
def acknowledgement(request, pk: int):
    """The desk's récépissé: what was filed, with each funder and its own receipt."""
    case = case_or_404(request, pk)
    if case.receipt_date is None:
        raise Http404("Le dossier n'est pas encore déposé.")
    pdf = render_pdf("web/pdf/acknowledgement.html", acknowledgement_context(case))
    return pdf_response(pdf, f"recepisse-{case.reference or case.pk}.pdf")


@login_required
@require_GET
def request_acknowledgement(request, pk: int, request_pk: int):
    """One request's CRPA acknowledgement; a clear 404 page while its funder's receipt is
    not known."""
    case = case_or_404(request, pk)
    fr = (
        case.funding_requests.select_related("scheme__funder").filter(pk=request_pk).first()
        if case.receipt_date is not None
        else None
    )
    if fr is None:
        raise Http404("Demande introuvable dans ce dossier.")
    if not legal_track.acknowledgement_available(fr):
        context = {"case": case, "fr": fr, "back": _back_url(request, case)}
        return render(request, "web/porteur/acknowledgement_unavailable.html", context, status=404)
    context = {
        **_common(case),
        "track": legal_track.request_track(fr),
        "amount": rules.euros(fr.amount_requested),
    }
    pdf = render_pdf("web/pdf/acknowledgement_request.html", context)
    name = f"accuse-reception-{case.reference or case.pk}-{fr.scheme.code.lower()}.pdf"
    return pdf_response(pdf, name)


def _back_url(request, case) -> str:
    from cases.models import User

    if request.user.effective_role == User.Role.PORTEUR:
        return reverse("web:case-porteur", args=[case.pk])
    return reverse("web:case-detail", args=[case.pk])


def _common(case) -> dict:
    """What every receipt of the dossier states: who, which dossier, who to ask."""
    return {
        "case": case,
        "organisation": case.organisation,
        "referent": case.referent_agent,
        "receipt": case.receipt_date,
        "issued_on": timezone.localdate(),
        "communes": list(case.communes.all()),
    }


def acknowledgement_context(case) -> dict:
    """The récépissé: each funder and its request, sent on the desk's receipt, received by
    its funder when known; each funder's legal periods run from its own receipt."""
    requests = list(case.funding_requests.select_related("scheme__funder").order_by("id"))
    completeness = (
        selectors.case_deadlines(case)
        .filter(kind="completeness", subject_type__model="case")
        .exclude(state=Deadline.State.CANCELLED)
        .order_by("-id")
        .first()
    )
    return {
        **_common(case),
        "rows": [
            {"track": legal_track.request_track(fr), "amount": rules.euros(fr.amount_requested)}
            for fr in requests
        ],
        "total": rules.euros(sum((fr.amount_requested for fr in requests), Decimal(0))),
        "completeness": completeness,
    }


def acknowledgement_links(case) -> dict:
    """The receipts a page offers for the dossier: the récépissé once filed, and one CRPA
    acknowledgement per request whose funder's receipt is known (the others are named as
    awaited)."""
    if case.receipt_date is None:
        return {"recepisse": None, "acknowledged": [], "awaited": []}
    requests = case.funding_requests.select_related("scheme__funder").order_by("id")
    acknowledged, awaited = [], []
    for fr in requests:
        if legal_track.acknowledgement_available(fr):
            url = reverse("web:request-acknowledgement", args=[case.pk, fr.pk])
            acknowledged.append({"request": fr, "url": url})
        else:
            awaited.append(fr)
    return {
        "recepisse": reverse("web:acknowledgement", args=[case.pk]),
        "acknowledged": acknowledged,
        "awaited": awaited,
    }
