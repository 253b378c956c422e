"""Filing a dossier: creating the draft, then one page per step (the project, the plan,
the schemes, the pieces, the summary and the submission)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect

from cases import services
from cases.models import CaseState
from engine.errors import DomainError
from engine.transitions import transition_apply

from .. import porteur_forms as pf
from .common import (
    STEP_NAMES,
    case_or_404,
    error_summary,
    porteur_required,
    refusal_summary,
    required_documents,
    step_url,
    tracking_url,
)
from .documents import step_documents
from .plan import plan_view, step_plan, step_schemes
from .steps import after_save, editable_or_redirect, render_step, save


@porteur_required
def intake_start(request):
    form = pf.ProjectForm(request.POST or None)
    errors = []
    if request.method == "POST":
        if form.is_valid():
            try:
                case = services.case_create(
                    actor=request.user, data={**form.to_data(), "state": CaseState.DRAFT}
                )
            except DomainError as exc:
                errors = refusal_summary(exc, form, form.fields)
            else:
                messages.success(
                    request,
                    f"Dossier {case.reference} créé en brouillon : vous pouvez le compléter "
                    "à votre rythme.",
                )
                return after_save(request, case, "projet")
        else:
            errors = error_summary(form)
    return render_step(
        request,
        None,
        "projet",
        "web/porteur/intake_project.html",
        {"form": form, "errors": errors},
    )


@porteur_required
def intake_step(request, pk: int, step: str):
    case = case_or_404(request, pk)
    if step not in STEP_NAMES:
        raise Http404("Étape inconnue.")
    if (response := editable_or_redirect(request, case)) is not None:
        return response
    handler = {
        "projet": step_project,
        "plan": step_plan,
        "dispositifs": step_schemes,
        "pieces": step_documents,
        "recapitulatif": step_recap,
    }[step]
    return handler(request, case)


def step_project(request, case):
    initial = {
        "title": case.title,
        "description": case.description,
        "theme": case.theme_ref.slug if case.theme_ref else "",
        "communes": [c.insee for c in case.communes.all()],
    }
    form = pf.ProjectForm(request.POST or None, initial=initial, current_theme=case.theme_ref)
    errors = []
    if request.method == "POST":
        if form.is_valid():
            errors = save(request, case, form.to_data(), form, form.fields)
            if errors is None:
                return after_save(request, case, "projet")
        else:
            errors = error_summary(form)
    return render_step(
        request,
        case,
        "projet",
        "web/porteur/intake_project.html",
        {"form": form, "errors": errors},
    )


def _submit(request, case) -> list[tuple[str, str]]:
    """Submit the dossier; the error summary of a refusal (none when submitted)."""
    try:
        transition_apply(
            instance=case, name="submit", actor=request.user, comment="Dépôt en ligne."
        )
    except DomainError as exc:
        return submit_errors(case, exc)
    return []


def submit_errors(case, exc: DomainError) -> list[tuple[str, str]]:
    """Every reason of a refused deposit at once (the guard gives them all, issue 12
    point 6): [(link, message)], the plan's rules linked to the plan step, each missing
    piece to its card on the pieces step."""
    errors = exc.errors or {}
    out = [
        (step_url(case, "plan"), f"Plan de financement : {m}")
        for m in errors.get("financing_plan", [])
    ]
    missing = {r.code: r for r in required_documents(case) if r.missing}
    for code in errors.get("missing_documents", []):
        entry = missing.get(code)
        if entry is not None:
            out.append(
                (
                    f"{step_url(case, 'pieces')}#piece-{code}",
                    f"Pièce manquante : {entry.label} (demandée par "
                    f"{', '.join(entry.scheme_names)})",
                )
            )
    known = {"financing_plan", "documents", "missing_documents"}
    out += [("", str(m)) for k, items in errors.items() if k not in known for m in items]
    return out or [("", exc.message)]


def step_recap(request, case):
    errors = []
    if request.method == "POST" and request.POST.get("action") == "submit":
        errors = _submit(request, case)
        if not errors:
            messages.success(
                request,
                f"Dossier {case.reference} déposé le {case.receipt_date:%d/%m/%Y}. Votre accusé "
                "de réception est disponible sur cette page.",
            )
            return redirect(tracking_url(case))
    elif request.method == "POST":
        return after_save(request, case, "recapitulatif")
    case = case_or_404(request, case.pk)
    return render_step(
        request,
        case,
        "recapitulatif",
        "web/porteur/intake_recap.html",
        {
            "errors": errors,
            "plan": plan_view(case, services.plan_summary(case)),
            "required": required_documents(case),
            "communes": list(case.communes.all()),
        },
    )
