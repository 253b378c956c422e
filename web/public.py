"""Public transparency page (no login): budgets, supported projects, committee decisions,
calendar and criteria; public minutes of closed committee sessions.

Reads come from ``cases.public_selectors`` (published data only, bounded queries).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases import public_selectors as ps
from cases.calls import calls_public_rows
from cases.envelopes import envelope_figures
from cases.payments import expected_delay_days
from cases.rules import euros, percent
from schemes.models import Envelope

from .committee.minutes import minutes_response
from .open_data import open_data_block

PAGE_SIZE = 50
BAR_WIDTH = 200  # SVG user units


def _budget_row(budget: ps.SchemeBudget) -> dict:
    def part(amount: Decimal) -> dict:
        share = budget.share(amount)
        return {
            "amount": euros(amount),
            "share": percent(share.quantize(Decimal("0.0001"))) if budget.envelope else "—",
            "width": int((share * BAR_WIDTH).quantize(Decimal(1))),
        }

    available = budget.available
    return {
        "scheme": budget.scheme,
        "envelope": euros(budget.envelope) if budget.envelope is not None else "Non publiée",
        "has_envelope": bool(budget.envelope),
        "programmed": part(budget.programmed),
        "granted": euros(budget.granted),
        "selected": euros(budget.selected),
        "has_selected": budget.selected > 0,
        "committed": part(budget.committed),
        "paid": part(budget.paid),
        "available": euros(available) if available is not None else "—",
        "over": available is not None and available < 0,
    }


def _scheme_rules(scheme, delay_days: int) -> dict:
    def months(n):
        return f"{n} mois" if n else None

    return {
        "scheme": scheme,
        "rates": f"de {percent(scheme.rate_min)} à {percent(scheme.rate_max)} de la dépense éligible",
        "ceiling": (
            percent(scheme.public_aid_ceiling) if scheme.public_aid_ceiling is not None else None
        ),
        "min_amount": euros(scheme.min_amount) if scheme.min_amount else None,
        "completeness": months(scheme.completeness_months),
        "implicit": months(scheme.implicit_decision_months),
        "works_start": months(scheme.works_start_months),
        "works_start_from": scheme.get_works_start_from_display().lower(),
        "completion": months(scheme.completion_months),
        "completion_from": scheme.get_completion_from_display().lower(),
        "balance": months(scheme.balance_claim_months),
        "payment_delay": delay_days,
        "documents": scheme.required_documents or [],
        "grid": scheme.grid or [],
        "grid_max": scheme.grid_max_score,
        "grid_min": scheme.grid_min_score,
        "quorum": percent(scheme.quorum_rate),
        "max_group_share": percent(scheme.max_group_share),
    }


def _not_found(request, message: str):
    return render(
        request, "web/public/not_found.html", {"nav": "public", "message": message}, status=404
    )


@require_GET
def transparency(request, slug: str | None = None):
    """One territory's page: ``/t/<slug>/transparence/`` or ``/transparence/?territoire=
    <slug>``; ``/transparence/`` alone shows the first territory (the only one today)."""
    today = timezone.localdate()
    territory = ps.public_territory(slug or request.GET.get("territoire"))
    if territory is None:
        return _not_found(request, "Aucun territoire ne porte ce nom.")
    request.territory = territory  # the layout names it (web.context_processors)
    budgets = ps.scheme_budgets(territory)
    schemes = [b.scheme for b in budgets]
    scheme_filter = request.GET.get("dispositif", "")[:20]
    if scheme_filter not in {s.code for s in schemes}:
        scheme_filter = ""
    paginator = Paginator(
        ps.supported_projects(territory=territory, scheme_code=scheme_filter or None), PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "web/public/transparency.html",
        {
            "nav": "public",
            "today": today,
            "budgets": [_budget_row(b) for b in budgets],
            "total": _total(budgets),
            "bar_width": BAR_WIDTH,
            "projects": [_project_row(row) for row in ps.project_rows(page.object_list)],
            "page": page,
            "paginator": paginator,
            "schemes": schemes,
            "scheme_filter": scheme_filter,
            "sessions": [_session_row(s) for s in ps.committee_sessions_closed(territory)],
            "upcoming": list(ps.committee_sessions_upcoming(territory=territory, today=today)),
            "territory": territory,
            "territory_param": territory.slug if not slug and request.GET.get("territoire") else "",
            "territories": ps.public_territories(),
            "rules": [_scheme_rules(s, expected_delay_days(s, today=today)) for s in schemes],
            "open_data": open_data_block(territory, schemes),
            "calls": calls_public_rows(territory_id=territory.pk, today=today),
            # the envelopes of the year and their consumption (issue 14): the same figures
            # as the funders' page and the API
            "envelope_year": today.year,
            "envelopes": envelope_figures(
                Envelope.objects.filter(territory=territory, year=today.year)
                .select_related("scheme", "action_sheet")
                .order_by("scheme__code", "action_sheet__code")
            ),
        },
    )


def _total(budgets) -> dict:
    """The territory's envelope, programmed, committed and paid amounts, all schemes."""
    return {
        "envelope": euros(sum((b.envelope or 0 for b in budgets), Decimal(0))),
        "programmed": euros(sum((b.programmed for b in budgets), Decimal(0))),
        "committed": euros(sum((b.committed for b in budgets), Decimal(0))),
        "paid": euros(sum((b.paid for b in budgets), Decimal(0))),
    }


def _project_row(row) -> dict:
    """A supported project: its communes and the aid granted by each scheme."""
    return {
        "case": row.case,
        "communes": ", ".join(row.communes) or "—",
        "aids": [
            {
                "code": fr.scheme.code,
                "name": fr.scheme.name,
                "amount": euros(fr.amount_granted or 0),
            }
            for fr in row.aids
        ],
        "total": euros(row.total),
    }


def _session_row(session) -> dict:
    """A closed committee session and its decisions, with the count of votes."""

    def votes(d) -> str:
        abstentions = "abstentions" if d.votes_abstain > 1 else "abstention"
        return f"{d.votes_for} pour, {d.votes_against} contre, {d.votes_abstain} {abstentions}"

    return {
        "session": session,
        "decisions": [
            {
                "title": d.funding_request.case.title,
                "holder": d.funding_request.case.organisation.name,
                "outcome": d.outcome,
                "label": d.get_outcome_display(),
                "amount": euros(d.funding_request.amount_requested),
                "votes": votes(d),
            }
            for d in session.decisions.all()
        ],
    }


@require_GET
def public_minutes(request, pk: int):
    session = ps.committee_session_public(pk)
    if session is None:
        return _not_found(request, "Aucun procès-verbal publié pour cette séance.")
    return minutes_response(session, public=True)
