"""The bulk page (issue 12, « 800 dossiers à accepter »): the rows selected in the agents'
list of dossiers or in the funders' lists get ONE transition, or one message, in four
steps posted to the same address:

1. ``etape=selection`` (from the list): the selection, the actions offered;
2. ``etape=champs``: the fields of the chosen action (and the amounts column of a grant);
3. ``etape=verifier``: what will be done — count, total amount, lines refused beforehand;
4. ``etape=appliquer``: ``cases.services.bulk`` applies it; the per-item report.

Each step re-reads the selection and the input from the post (nothing is kept in the
session), so a refusal re-shows the form with what was typed.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cases.services.bulk import (
    MAX_ITEMS,
    BulkReport,
    cases_bulk_message,
    claims_bulk_transition,
    requests_bulk_transition,
)
from engine.errors import DomainError
from engine.transitions import registration_for

from .agent.common import TASK_ROLES, role
from .bulk_forms import (
    CLAIMS,
    DOSSIERS,
    MESSAGE,
    Selection,
    amounts_by_request,
    column_from_upload,
    common_fields,
    items_for,
    offered_actions,
    read_column,
    read_common,
    read_selection,
)
from .funders import ACTING_ROLES

BULK_ROLES = TASK_ROLES | ACTING_ROLES
MESSAGE_MAX = 10000
STEPS = ("selection", "champs", "verifier", "appliquer")
FIELD_LABELS = {"montants": "Colonne des montants", "fichier": "Fichier", "message": "Message"}


@login_required
@require_http_methods(["GET", "POST"])
def bulk(request):
    user = request.user
    if role(user) not in BULK_ROLES:
        raise Http404
    if request.method == "GET":
        return redirect("web:agent-inbox" if role(user) in TASK_ROLES else "web:funders")
    post = request.POST
    try:
        selection = read_selection(user, post)
    except DomainError as exc:
        return _render(request, {"step": "erreur", "error": exc.message}, 400)
    actions = offered_actions(user, selection)
    step = post.get("etape") if post.get("etape") in STEPS else "selection"
    action = next((a for a in actions if a.name == post.get("action")), None)
    base = {"selection": selection, "actions": actions, "action": action, "max": MAX_ITEMS}
    if step == "selection" or action is None:
        error = "" if step == "selection" else "Choisissez l'action à appliquer."
        return _render(
            request, {**base, "step": "selection", "error": error}, 400 if error else 200
        )
    values = _values(post, action.name, selection)
    if step == "champs":
        return _fields_page(request, base, values)
    try:
        plan = _plan(request, selection, action.name, values)
    except DomainError as exc:
        return _fields_page(request, base, values, exc, status=exc.status)
    if step == "verifier":
        return _render(request, {**base, **plan, "values": values, "step": "verifier"})
    return _apply(request, base, plan, values)


def _render(request, context: dict, status: int = 200):
    selection = context.get("selection")
    back = reverse("web:agent-inbox")
    if selection is not None and selection.source != DOSSIERS:
        back = reverse("web:funders")
    elif selection is None and role(request.user) not in TASK_ROLES:
        back = reverse("web:funders")
    context = {"nav": "agent" if back.endswith("/agent/") else "funders", "back": back, **context}
    return render(request, "web/bulk/page.html", context, status=status)


def _values(post, name: str, selection: Selection) -> dict:
    """What the user typed (re-shown on a refusal, carried to the next step)."""
    keep = {"comment", "montants", "message"}
    if name != MESSAGE:
        keep |= {f.name for f in registration_for(selection.model).specs[name].fields}
    return {k: post.get(k, "").strip() if k != "montants" else post.get(k, "") for k in keep}


def _fields_page(request, base: dict, values: dict, exc: DomainError | None = None, status=200):
    name = base["action"].name
    selection = base["selection"]
    errors = (exc.errors if exc else None) or {}
    fields = [] if name == MESSAGE else common_fields(name, values, errors, model=selection.model)
    labels = {**FIELD_LABELS, **{f.name: f.label for f in fields}}
    context = {
        **base,
        "step": "champs",
        "values": values,
        "error": exc.message if exc else "",
        "errors": {k: [str(e) for e in v] for k, v in errors.items() if isinstance(v, list)},
        "error_links": [(f"bulk-{k}", labels[k]) for k in errors if k in labels],
        "fields": fields,
        "needs_amounts": name != MESSAGE and _needs_amounts(selection, name),
        "paying": selection.source == CLAIMS,
    }
    return _render(request, context, status)


def _needs_amounts(selection: Selection, name: str) -> bool:
    spec = registration_for(selection.model).specs[name]
    return spec.field(selection.amount_field) is not None


def _plan(request, selection: Selection, name: str, values: dict) -> dict:
    """What will be done: for a message, the dossiers; for a transition, each request
    with its amount (a grant) or the French reason it is refused beforehand; the total."""
    if name == MESSAGE:
        text = values["message"]
        if not text:
            raise DomainError("Écrivez le message.", errors={"message": ["Obligatoire."]})
        if len(text) > MESSAGE_MAX:
            raise DomainError(
                f"Message trop long : {MESSAGE_MAX} caractères au plus.",
                errors={"message": ["Trop long."]},
            )
        rows = [{"case": c, "fr": None} for c in _cases(selection)]
        return {"rows": rows, "count": len(rows), "total": None, "skipped": []}
    common = read_common(name, values, model=selection.model)
    items = items_for(selection, name)
    needs = _needs_amounts(selection, name)
    amounts = _amounts(request, values, items, selection) if needs else {}
    rows, total = [], Decimal("0.00")
    for item in items:
        claim = item if selection.source == CLAIMS else None
        fr = claim.funding_request if claim else item
        row = {"fr": fr, "claim": claim, "case": fr.case, "data": dict(common), "refused": ""}
        if needs:
            amount = amounts.get(item.pk, "Aucun montant pour cette demande dans la colonne.")
            if isinstance(amount, Decimal):
                row["amount"], row["data"][selection.amount_field] = amount, amount
                total += amount
            else:
                row["refused"] = amount
        rows.append(row)
    with_items = {fr.case_id for fr in (r["fr"] for r in rows)}
    skipped = [c for c in selection.cases if c.pk not in with_items]
    count = sum(1 for r in rows if not r["refused"])
    return {"rows": rows, "count": count, "total": total if needs else None, "skipped": skipped}


def _cases(selection: Selection) -> list:
    if selection.source == DOSSIERS:
        return selection.cases
    seen = {}
    for fr in selection.requests:
        seen.setdefault(fr.case_id, fr.case)
    return list(seen.values())


def _amounts(request, values: dict, items, selection: Selection) -> dict:
    """The amount of each item: from the pasted or uploaded column; for payments, a claim
    the column does not name is paid the amount it asks (an empty column pays every one
    its own)."""
    upload = request.FILES.get("fichier")
    if upload is not None:
        values["montants"] = column_from_upload(upload)  # shown and carried from now on
    lines = read_column(values["montants"])
    paying = selection.source == CLAIMS
    if not lines and not paying:
        raise DomainError(
            "Collez la colonne des montants (référence ; montant) ou déposez un fichier.",
            errors={"montants": ["Obligatoire."]},
        )
    found = amounts_by_request(lines, items, paid=paying) if lines else {}
    if paying:
        return {claim.pk: found.get(claim.pk, claim.amount) for claim in items}
    return found


def _apply(request, base: dict, plan: dict, values: dict):
    name = base["action"].name
    try:
        if name == MESSAGE:
            items = [{"id": row["case"].pk} for row in plan["rows"]]
            body = {"items": items, "body": values["message"], "internal": False}
            report = cases_bulk_message(actor=request.user, body=body)
        else:
            todo = [r for r in plan["rows"] if not r["refused"]]
            body = {
                "items": [
                    {"id": (r["claim"] or r["fr"]).pk, "comment": values["comment"], **r["data"]}
                    for r in todo
                ]
            }
            paying = base["selection"].source == CLAIMS
            apply = claims_bulk_transition if paying else requests_bulk_transition
            report = apply(actor=request.user, name=name, body=body) if todo else BulkReport()
    except DomainError as exc:
        return _fields_page(request, base, values, exc, status=exc.status)
    refused = {r["id"]: r["detail"] for r in report.refused}
    for row in plan["rows"]:
        pk = row["case"].pk if name == MESSAGE else (row.get("claim") or row["fr"]).pk
        row["refused"] = row.get("refused") or refused.get(pk, "")
    applied = sum(1 for r in plan["rows"] if not r["refused"])
    context = {**base, **plan, "step": "rapport", "applied": applied}
    context["refused_count"] = len(plan["rows"]) - applied
    return _render(request, context)
