"""The PDF of a whole dossier, and the decision document of each decided request.

Both are read by whoever may read the dossier (``selectors.case_get`` scopes it: its
porteur, the territory's staff, the funders with a request on it; anyone else gets a 404).
The whole dossier holds its identity, porteur, project, financing plan, each request with
its legal track (``cases.legal_track.request_track``), decisions, claims and payments, the
list of its pieces and its history, capped at ``HISTORY_CAP`` entries (the most recent; the
others counted « … et N autres »), so that the PDF stays bounded whatever the dossier."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases import legal_track, rules, selectors
from cases.models import FundingRequest, PaymentClaim, RequestState
from cases.services.plan import plan_summary
from engine.errors import DomainError
from engine.transitions import registration_for

from .pdf import pdf_response, render_pdf

HISTORY_CAP = 100  # WeasyPrint lays out ~100 lines a second on a busy machine
DOCUMENTS_CAP = 300
#: The states where a funder's decision on the request exists (granted or refused, and on).
DECIDED = [
    RequestState.GRANTED,
    RequestState.COMMITTED,
    RequestState.PAYING,
    RequestState.PAID,
    RequestState.REFUSED,
    RequestState.REJECTED,
]


def _case_or_404(request, pk):
    try:
        return selectors.case_get(user=request.user, pk=pk)
    except DomainError:
        raise Http404("Dossier introuvable.") from None


def _requests(case) -> list[FundingRequest]:
    claims = PaymentClaim.objects.prefetch_related("payments").order_by("id")
    return list(
        case.funding_requests.select_related("scheme__funder")
        .prefetch_related(Prefetch("claims", queryset=claims))
        .order_by("id")
    )


def _history(case) -> tuple[list[dict], int]:
    """The latest ``HISTORY_CAP`` entries, oldest first, and how many are left out."""
    logs = selectors.case_history(case)
    total = logs.count()
    skipped = max(0, total - HISTORY_CAP)
    rows = []
    for log in logs[skipped:]:
        model = log.content_type.model_class()
        spec = registration_for(model).specs.get(log.transition) if model else None
        rows.append(
            {
                "at": log.timestamp,
                "what": (spec.label if spec else "") or log.transition,
                "subject": log.content_type.name,
                "by": (log.by.get_full_name() or log.by.username) if log.by_id else "automatique",
                "comment": log.description or "",
            }
        )
    return rows, skipped


def dossier_context(case) -> dict:
    requests = _requests(case)
    history, skipped = _history(case)
    documents = list(selectors.document_list(user=None, case=case)[: DOCUMENTS_CAP + 1])
    return {
        "case": case,
        "organisation": case.organisation,
        "referent": case.referent_agent,
        "issued_on": timezone.localdate(),
        "communes": list(case.communes.all()),
        "summary": plan_summary(case),
        "expenses": list(case.expenses.all()),
        "resources": list(case.resources.select_related("scheme__funder")),
        "requests": [
            {
                "fr": fr,
                "track": legal_track.request_track(fr),
                "decided": fr.state in DECIDED,
                "claims": list(fr.claims.all()),
                "paid": sum(
                    (p.amount for c in fr.claims.all() for p in c.payments.all()), Decimal(0)
                ),
            }
            for fr in requests
        ],
        "documents": documents[:DOCUMENTS_CAP],
        "documents_more": len(documents) > DOCUMENTS_CAP,
        "history": history,
        "history_skipped": skipped,
    }


@login_required
@require_GET
def case_pdf(request, pk: int):
    case = _case_or_404(request, pk)
    pdf = render_pdf("web/pdf/dossier.html", dossier_context(case))
    return pdf_response(pdf, f"dossier-{case.reference or case.pk}.pdf")


@login_required
@require_GET
def decision_pdf(request, pk: int, request_pk: int):
    """The funder's decision on one request (granted or refused), as recorded: the amount,
    its date, its motivation. A 404 while the request is undecided."""
    case = _case_or_404(request, pk)
    fr = (
        case.funding_requests.select_related("scheme__funder")
        .filter(pk=request_pk, state__in=DECIDED)
        .first()
    )
    if fr is None:
        raise Http404("Aucune décision n'a encore été prise sur cette demande.")
    context = {
        "case": case,
        "organisation": case.organisation,
        "referent": case.referent_agent,
        "issued_on": timezone.localdate(),
        "fr": fr,
        "granted": fr.state not in (RequestState.REFUSED, RequestState.REJECTED),
        "amount": rules.euros(fr.amount_granted) if fr.amount_granted is not None else "",
        "requested": rules.euros(fr.amount_requested),
        "track": legal_track.request_track(fr),
        "decision_log": selectors.case_history(case)
        .filter(content_type__model="fundingrequest", object_id=fr.pk, state=fr.state)
        .last()
        if fr.state in (RequestState.REFUSED, RequestState.REJECTED)
        else None,
    }
    pdf = render_pdf("web/pdf/decision.html", context)
    return pdf_response(pdf, f"decision-{case.reference or case.pk}-{fr.scheme.code.lower()}.pdf")


def dossier_pdf_links(case) -> dict:
    """The page's links: the whole dossier, and one decision per decided request (read
    from the requests the dossier page prefetched: no query of its own there)."""
    decided = [fr for fr in case.funding_requests.all() if fr.state in DECIDED]
    return {
        "dossier": reverse("web:case-pdf", args=[case.pk]),
        "decisions": [
            {
                "request": fr,
                "granted": fr.state not in (RequestState.REFUSED, RequestState.REJECTED),
                "url": reverse("web:request-decision-pdf", args=[case.pk, fr.pk]),
            }
            for fr in sorted(decided, key=lambda fr: fr.pk)
        ],
    }
