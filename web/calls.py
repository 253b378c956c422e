"""Calls for projects in the agents' pages (issue 14 point 5): the territory's calls —
open, coming, closed, published or not — with the form an agent publishes one with
(``cases.calls.call_create``: its checks and French messages), and a call's page with
its committee agenda, the requests awaiting committee ranked by pre-score
(``cases.calls.call_ranking`` through ``call_agenda``), printable as is.

For the staff and committee of the territory (``cases.calls.AGENDA_READERS``); the form
for the authors of calls only (``CALL_AUTHORS``); anyone else 403, another territory's
call 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from cases.calls import (
    call_agenda,
    call_agenda_figures,
    call_create,
    may_create_call,
    may_read_agenda,
    territory_call_rows,
)
from engine import inputs
from engine.errors import DomainError
from schemes.models import Call, Scheme

FIELDS = ("scheme", "title", "description", "opens_on", "closes_on", "envelope", "selection")
RESERVED = "Les appels à projets du territoire sont réservés à l'équipe du PETR et au comité."


def refused(request, message: str, status: int = 403):
    return render(
        request,
        "web/calls/error.html",
        {"nav": "maquette", "message": message, "status": status},
        status=status,
    )


def _typed(post) -> dict:
    """The form's values as ``call_create`` reads them: an amount and dates typed the French
    way (« 300 000,00 », « 15/12/2026 ») read here; everything else as sent."""
    data = {name: post.get(name, "") for name in FIELDS}
    if str(data["envelope"]).strip():
        data["envelope"] = inputs.parse_money(
            data["envelope"], field="envelope", label="budget de l'appel", french=True
        )
    for name, label in (("opens_on", "date d'ouverture"), ("closes_on", "date de clôture")):
        if str(data[name]).strip():
            data[name] = inputs.parse_date(data[name], field=name, label=label, french=True)
    return data


@login_required
@require_http_methods(["GET", "POST"])
def call_list(request):
    user = request.user
    if not may_read_agenda(user):
        return refused(request, RESERVED)
    values = {name: "" for name in FIELDS} | {"selection": Call.Selection.RANKING}
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        if not may_create_call(user):
            return refused(request, "Seuls les agents du PETR publient des appels à projets.")
        values = {name: request.POST.get(name, "")[:25000] for name in FIELDS}
        try:
            call = call_create(actor=user, data=_typed(request.POST))
        except DomainError as exc:
            if exc.code == "forbidden":
                return refused(request, exc.message)
            message, status = exc.message, 400
            errors = {k: " ".join(str(m) for m in v) for k, v in exc.errors.items()}
        else:
            messages.success(request, f"L'appel à projets « {call.title} » est publié.")
            return redirect("web:call", pk=call.pk)
    context = {
        "nav": "maquette",
        "rows": territory_call_rows(user),
        "may_create": may_create_call(user),
        "schemes": Scheme.objects.filter(active=True).order_by("name"),
        "selections": Call.Selection.choices,
        "values": values,
        "errors": errors,
        "message": message,
    }
    return render(request, "web/calls/list.html", context, status=status)


@login_required
@require_GET
def call_page(request, pk: int):
    try:
        call, ranked = call_agenda(user=request.user, call_id=pk)
    except DomainError as exc:
        return refused(request, exc.message, status=exc.status)
    context = {
        "nav": "maquette",
        "call": call,
        **call_agenda_figures(call, ranked),
        "today": timezone.localdate(),
    }
    return render(request, "web/calls/detail.html", context)
