"""The frame of the intake steps: the step bar, saving a draft through ``case_update``,
where « Enregistrer » and « Continuer » lead, and who may still edit the dossier."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from cases import services
from cases.models import CaseState
from engine.errors import DomainError

from .common import STEP_NAMES, STEPS, refusal_summary, step_url, tracking_url


def steps_context(case, current) -> list[dict]:
    done = STEP_NAMES.index(current) if current in STEP_NAMES else 0
    return [
        {
            "name": name,
            "label": label,
            "number": i + 1,
            "url": step_url(case, name) if case else "",
            "current": name == current,
            "done": i < done,
        }
        for i, (name, label) in enumerate(STEPS)
    ]


def render_step(request, case, step, template, context):
    from ..correction_blocks import field_corrections  # the blocks read porteur.common

    return render(
        request,
        template,
        {
            "nav": "my-cases",
            "case": case,
            "step": step,
            "steps": steps_context(case, step),
            "field_corrections": field_corrections(case),
            **context,
        },
    )


def after_save(request, case, step):
    """« Enregistrer le brouillon » stays on the step; « Continuer » goes to the next."""
    if request.POST.get("action") == "next" and step != STEP_NAMES[-1]:
        return redirect(step_url(case, STEP_NAMES[STEP_NAMES.index(step) + 1]))
    messages.success(request, "Brouillon enregistré.")
    return redirect(step_url(case, step))


def editable_or_redirect(request, case):
    """None while the dossier is a draft; else the follow-up page, with why."""
    if case.state == CaseState.DRAFT:
        return None
    if case.state in (CaseState.IDEA, CaseState.SCOPING):
        messages.info(request, "Ouvrez d'abord la demande pour saisir le dossier.")
    else:
        messages.info(request, "Le dossier est déposé : suivez-le sur cette page.")
    return redirect(tracking_url(case))


def save(request, case, data, form=None, fields=()) -> list[tuple[str, str]] | None:
    """Save through ``case_update``; None when saved, else the error summary entries."""
    try:
        services.case_update(actor=request.user, case=case, data=data)
    except DomainError as exc:
        return refusal_summary(exc, form, fields)
    return None
