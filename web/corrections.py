"""Posts of the correction requests (issue 12): the agent (or a funder's instructor, for
its request) asks or closes one from the dossier page; the porteur corrects a text field in
place from the follow-up page. A refusal shows the page again with what was typed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases import selectors, services
from engine.errors import DomainError

from .agent.case_page import case_page
from .agent.common import get_case_or_404, not_for_porteurs
from .agent_forms import form_error
from .correction_blocks import CorrectionForm, FieldCorrectionForm
from .porteur.common import case_or_404, error_summary, porteur_required, tracking_url
from .porteur.tracking import tracking_page


def _correction_or_404(user, case, cid):
    correction = selectors.correction_list(user=user, case=case).filter(pk=cid).first()
    if correction is None:
        raise Http404("Demande de correction introuvable.")
    return correction


def _agent_url(case) -> str:
    return reverse("web:case-detail", args=[case.pk]) + "#corrections"


@login_required
@require_POST
def correction_create(request, pk: int):
    not_for_porteurs(request)
    case = get_case_or_404(request.user, pk)
    form = CorrectionForm(request.POST, case=case)
    values = request.POST.dict()
    if not form.is_valid():
        errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        submitted = {"key": "correction", "values": values, "errors": errors, "message": ""}
        return case_page(request, case, submitted, status=400)
    kind, _, target = form.cleaned_data["target"].partition(":")
    try:
        correction = services.correction_request(
            actor=request.user, case=case, kind=kind, target=target, body=form.cleaned_data["body"]
        )
    except DomainError as exc:
        submitted = {"key": "correction", **form_error(exc, values)}
        return case_page(request, case, submitted, status=exc.status)
    messages.success(request, f"Correction demandée au porteur (n° {correction.pk}).")
    return redirect(_agent_url(case))


@login_required
@require_POST
def correction_close(request, pk: int, cid: int):
    not_for_porteurs(request)
    case = get_case_or_404(request.user, pk)
    correction = _correction_or_404(request.user, case, cid)
    try:
        services.correction_close(actor=request.user, correction=correction)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Demande de correction close.")
    return redirect(_agent_url(case))


@porteur_required
@require_POST
def correction_apply(request, pk: int, cid: int):
    case = case_or_404(request, pk)
    correction = _correction_or_404(request.user, case, cid)
    form = FieldCorrectionForm(request.POST, auto_id=f"id_corr{cid}_%s")
    if form.is_valid():
        try:
            services.correction_apply(
                actor=request.user, correction=correction, value=form.cleaned_data["value"]
            )
        except DomainError as exc:
            form.add_error("value", exc.message)
        else:
            messages.success(request, "Correction enregistrée : l'agent en est informé.")
            return redirect(tracking_url(case, "a-faire"))
    return tracking_page(
        request,
        case_or_404(request, pk),
        status=400,
        errors=error_summary(form),
        correction_form=(correction.pk, form),
    )
