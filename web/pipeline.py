"""« Revue des projets » (issue 14, point 7): each commune's and each EPCI's projects by
expected year, from the idea to the works, printable for the annual review with the
elected members. For the territory's staff (an EPCI partner: its EPCI); others 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases import selectors
from cases.pipeline import pipeline, review_years
from engine import inputs
from engine.errors import DomainError

R = selectors.R
READERS = (R.AGENT, R.DIRECTOR, R.EPCI_PARTNER, R.ADMIN)


@login_required
@require_GET
def project_review(request):
    user = request.user
    if user.effective_role not in READERS and not user.is_superuser:
        raise Http404
    cases = selectors.case_list(user=user)
    epcis = list(selectors.epci_list(user=user).order_by("name"))
    chosen, error = None, ""
    raw = (request.GET.get("epci") or "")[:20]
    if raw:
        try:
            pk = inputs.parse_id(raw, field="epci", label="EPCI")
        except DomainError:
            pk = None
        chosen = next((e for e in epcis if e.pk == pk), None)
        if chosen is None:
            error = "EPCI inconnu : la revue montre tout le territoire."
        else:
            cases = cases.filter(epci_id=chosen.pk)
    years = review_years(timezone.localdate())
    groups = pipeline(cases, years=years)
    context = {
        "nav": "review",
        "years": years,
        "groups": groups,
        "epcis": epcis,
        "chosen": chosen,
        "error": error,
    }
    return render(request, "web/agent/project_review.html", context, status=400 if error else 200)
