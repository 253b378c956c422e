"""Programming scenarios (issue 14, point 3): the list and the creation of drafts, a
draft's page — the requests of the year to mark « à financer / à reporter / à refuser »
with the envelopes, the 80 % / 20 % rules and each porteur's treasury recomputed at each
save (live with JavaScript: ``scenario.js`` sends the table and swaps the figures) —,
several drafts side by side, and the application by each funder of its decisions.
Everything is read and written by ``cases.scenarios`` and ``cases.services.scenarios``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cases import maquette, scenarios
from cases.models import ScenarioChoice, User
from cases.services import scenarios as services
from engine.errors import DomainError

PER_PAGE = 50
ITEMS_PER_PAGE = 50  # the scenario's choices, listed by pages (« choix »), as the requests
MAX_COMPARED = 4
#: A page computes the treasury of at most this many porteurs not kept in the cache (the
#: few a save changed); more — a scenario seen cold, after a transition anywhere — and the
#: page shows at once what it has, the treasury by a request of its own
#: (``scenario_treasury``: ``scenario.js`` fetches it, a link without JavaScript).
TREASURY_INLINE = 20
INSTRUCTOR = User.Role.FUNDER_INSTRUCTOR


def _may_see(user) -> bool:
    return scenarios.may_draft(user) or user.effective_role == INSTRUCTOR


def _scenario(request, pk: int):
    if not _may_see(request.user):
        raise Http404
    return get_object_or_404(scenarios.scenario_list(user=request.user), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def scenario_list(request):
    user = request.user
    if not _may_see(user):
        raise Http404
    error, values = None, {"year": str(timezone.localdate().year)}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:5000] for k in ("title", "year", "note")}
        try:
            scenario = services.scenario_create(actor=user, **values)
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, f"Scénario « {scenario.title} » créé.")
            return redirect("web:scenario", pk=scenario.pk)
    items = list(scenarios.scenario_list(user=user).order_by("-year", "title", "pk")[:200])
    return render(
        request,
        "web/scenarios/list.html",
        {
            "scenarios": items,
            "may_draft": scenarios.may_draft(user),
            "error": error,
            "values": values,
        },
        status=400 if error else 200,
    )


def _rows_from(post) -> list[dict]:
    ids = post.getlist("request")[: services.MAX_ROWS + 1]
    return [
        {
            "request": pk,
            "choice": post.get(f"choice-{pk}", "")[:20],
            "amount": post.get(f"amount-{pk}", "")[:40],
            "motivation": post.get(f"motivation-{pk}", "")[:5000],
        }
        for pk in ids
    ]


def _context(request, scenario, *, funder: str, page_number):
    user = request.user
    items = list(scenarios.items_of(scenario, user=user))
    items_page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("choix", "1")[:10])
    stale = scenarios.stale_reasons(items)
    live = scenarios.pending(items, stale)  # once for the three figures below
    by_request = {i.funding_request_id: i for i in items}
    page = None
    if scenarios.may_draft(user) and not scenario.applied_at:
        paginator = Paginator(scenarios.candidates(scenario, user=user, funder=funder), PER_PAGE)
        page = paginator.get_page(page_number)
    return {
        "scenario": scenario,
        "items": items,
        "items_page": items_page,
        "by_request": by_request,
        "page": page,
        "rows": [(fr, by_request.get(fr.pk)) for fr in page] if page else [],
        "funder": funder,
        "funders": maquette.funder_choices(),
        "choices": ScenarioChoice.choices,
        "may_draft": scenarios.may_draft(user),
        "may_apply": user.effective_role == INSTRUCTOR,
        "to_apply": sum(1 for i in items if not i.outcome),
        "envelopes": scenarios.envelopes(scenario, items, user=user, live=live),
        "plans": scenarios.plan_checks(items, live=live),
        "exposures": scenarios.exposures(items, live=live, at_most=TREASURY_INLINE),
        "stale": stale,
    }


@login_required
@require_http_methods(["GET", "POST"])
def scenario_page(request, pk: int):
    scenario = _scenario(request, pk)
    funder = request.GET.get("financeur", "")[:20]
    page_number = request.GET.get("page", "1")[:10]
    error, posted = None, {}
    if request.method == "POST":
        rows = _rows_from(request.POST)
        posted = {str(r["request"]): r for r in rows}
        try:
            saved = services.scenario_items_save(actor=request.user, scenario=scenario, rows=rows)
        except DomainError as exc:
            error = exc
        else:
            if request.headers.get("X-Scenario-Live"):
                scenario.refresh_from_db()
                context = _context(request, scenario, funder=funder, page_number=page_number)
                return render(request, "web/scenarios/_figures.html", context)
            messages.success(request, f"{saved} choix enregistré{'s' if saved > 1 else ''}.")
            query = request.GET.urlencode()
            return redirect(f"{request.path}?{query}" if query else request.path)
    context = _context(request, scenario, funder=funder, page_number=page_number)
    context |= {"error": error, "posted": posted}
    if error is not None and request.headers.get("X-Scenario-Live"):
        return render(request, "web/scenarios/_figures.html", context, status=400)
    return render(request, "web/scenarios/page.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET"])
def scenario_treasury(request, pk: int):
    """The treasury of the porteurs the scenario funds, computed whatever their number:
    the section alone for ``scenario.js`` (``X-Scenario-Live``), a page without it."""
    scenario = _scenario(request, pk)
    funded = scenarios.items_of(scenario, user=request.user).filter(choice=ScenarioChoice.FUND)
    items = list(funded.filter(outcome=""))  # what the treasury reads of the scenario
    context = {
        "scenario": scenario,
        "exposures": scenarios.exposures(items),
    }
    if request.headers.get("X-Scenario-Live"):
        return render(request, "web/scenarios/_treasury.html", context)
    return render(request, "web/scenarios/treasury.html", context)


@login_required
@require_POST
def scenario_apply(request, pk: int):
    scenario = _scenario(request, pk)
    try:
        report = services.scenario_apply(actor=request.user, scenario=scenario)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:scenario", pk=scenario.pk)
    if report["message"]:
        messages.error(request, report["message"])
    messages.success(
        request,
        f"Scénario appliqué : {report['applied']} décision(s) enregistrée(s), "
        f"{report['refused']} refusée(s), {report['postponed']} reportée(s). "
        "Le détail figure ligne par ligne.",
    )
    return redirect("web:scenario", pk=scenario.pk)


@login_required
def scenario_compare(request):
    user = request.user
    if not _may_see(user):
        raise Http404
    ids = []
    for raw in request.GET.getlist("s")[:MAX_COMPARED]:
        if raw.isascii() and raw.isdigit() and len(raw) < 12:
            ids.append(int(raw))
    chosen = list(scenarios.scenario_list(user=user).filter(pk__in=ids).order_by("year", "pk"))
    summaries = [scenarios.summary(s, user=user, at_most=TREASURY_INLINE) for s in chosen]
    envelope_rows = []
    if summaries:
        keys = {}
        for column, summary in enumerate(summaries):
            for draft in summary.envelopes:
                e = draft.envelope
                row = keys.setdefault(e.pk, [e, [None] * len(summaries)])
                row[1][column] = draft
        envelope_rows = list(keys.values())
    return render(
        request,
        "web/scenarios/compare.html",
        {
            "summaries": summaries,
            "envelope_rows": envelope_rows,
            "all": list(scenarios.scenario_list(user=user).order_by("-year", "title")[:200]),
            "ids": ids,
            "max": MAX_COMPARED,
        },
    )
