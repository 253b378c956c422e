"""The territory's treasuries (issue 13): the organisations with a live operation ranked by
the depth of their p80 treasury trough — the communes per inhabitant first —, each linked to
its forecast page. For the territory's staff (an EPCI partner: its EPCI); anyone else 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from cases import selectors
from cases.treasury_ranking import treasury_ranking

R = selectors.R


@login_required
@require_GET
def treasury_territory(request):
    user = request.user
    if user.effective_role == R.PORTEUR:
        return redirect("web:my-treasury")
    if user.effective_role not in selectors.TREASURY_STAFF and not user.is_superuser:
        raise Http404
    rows = treasury_ranking(selectors.treasury_organisation_list(user=user))
    communes = [r for r in rows if r.population]
    others = sorted(
        (r for r in rows if not r.population), key=lambda r: (-r.depth, r.organisation.name)
    )
    context = {
        "nav": "treasury-territory",
        "communes": communes,
        "others": others,
        "at_risk": sum(1 for r in rows if r.depth > 0),
        "count": len(rows),
    }
    return render(request, "web/agent/treasury_territory.html", context)
