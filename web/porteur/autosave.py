"""The wizard's autosave: the steps' forms post themselves here as the porteur types or
leaves a field (``web/static/web/autosave.js``, debounced), and the draft is saved through
the same forms and the same ``case_update`` as « Enregistrer le brouillon ». Without
JavaScript nothing changes: the buttons save as before.

The answer is JSON: ``{"saved": true, "at": "14:05", "message": "Brouillon enregistré à
14:05"}``, or a 400 with the French reasons (``errors``) and nothing saved.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases.models import CaseState

from .. import porteur_forms as pf
from .common import case_or_404, error_summary, porteur_required
from .plan import active_schemes, plan_posted, plan_with_schemes
from .steps import save

NOT_SAVED = "Brouillon non enregistré : "


def _project(request, case):
    form = pf.ProjectForm(request.POST, current_theme=case.theme_ref)
    return (form.to_data(), []) if form.is_valid() else (None, error_summary(form))


def _plan(request, case):
    basis, expenses, resources, plan = plan_posted(request, case, active_schemes())
    if plan is None:
        return None, error_summary(basis, expenses, resources)
    return {"financing_plan": plan}, []


def _schemes(request, case):
    form = pf.SchemeChoiceForm(request.POST, schemes=active_schemes())
    if not form.is_valid():
        return None, error_summary(form)
    return {"financing_plan": plan_with_schemes(case, form.chosen())}, []


DRAFT_STEPS = {"projet": _project, "plan": _plan, "dispositifs": _schemes}


def _refused(message: str, errors=(), status=400) -> JsonResponse:
    return JsonResponse(
        {"saved": False, "message": NOT_SAVED + message, "errors": list(errors)}, status=status
    )


@porteur_required
@require_POST
def intake_draft(request, pk: int, step: str):
    case = case_or_404(request, pk)
    parse = DRAFT_STEPS.get(step)
    if parse is None:
        return _refused("cette étape n'a pas d'enregistrement automatique.", status=404)
    if case.state != CaseState.DRAFT:
        return _refused("le dossier n'est plus un brouillon.", status=409)
    data, errors = parse(request, case)
    if data is not None:
        errors = save(request, case, data) or []
    if errors:
        messages = [m for _, m in errors]
        return _refused("corrigez d'abord « " + messages[0] + " ».", messages)
    at = timezone.localtime().strftime("%H:%M")
    return JsonResponse({"saved": True, "at": at, "message": f"Brouillon enregistré à {at}"})
