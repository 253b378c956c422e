"""The porteur's pieces: the intake step that asks for the required ones, and the upload
from the follow-up page."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from cases import services
from engine.errors import DomainError

from .. import porteur_forms as pf
from .common import (
    case_or_404,
    document_kinds,
    error_summary,
    porteur_required,
    required_documents,
    step_url,
    tracking_url,
)
from .steps import render_step
from .tracking import tracking_page


def _upload(request, case, form):
    """Store the piece of a valid ``form``; the document, or None with the refusal
    attached to the field it is about (the whole French message goes next to it)."""
    try:
        return services.document_upload(
            actor=request.user,
            case=case,
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            label=form.cleaned_data["label"],
        )
    except DomainError as exc:
        field = next((k for k in exc.errors if k in ("kind", "label")), "file")
        form.add_error(field, exc.message)
        return None


def _document_cards(required, failed_kind, bound) -> tuple[list[dict], object]:
    """A form per required piece and one for any other, the failed one as typed."""
    cards = [
        {
            **vars(entry),
            "form": bound
            if failed_kind == entry.code
            else pf.DocumentForm(initial={"kind": entry.code}, auto_id=f"id_{entry.code}_%s"),
        }
        for entry in required
    ]
    other_form = (
        bound
        if failed_kind == "other"
        else pf.DocumentForm(initial={"kind": "other"}, auto_id="id_other_%s")
    )
    return cards, other_form


def step_documents(request, case):
    required = required_documents(case)
    kinds = {r.code for r in required} | {"other"}
    errors, failed_kind, bound = [], None, None
    if request.method == "POST":
        failed_kind = request.POST.get("kind")
        if failed_kind not in kinds:
            failed_kind = "other"
        bound = pf.DocumentForm(request.POST, request.FILES, auto_id=f"id_{failed_kind}_%s")
        doc = _upload(request, case, bound) if bound.is_valid() else None
        if doc is not None:
            messages.success(request, f"Pièce « {doc.filename} » enregistrée.")
            return redirect(step_url(case, "pieces") + f"#piece-{doc.kind}")
        errors = error_summary(bound)
    cards, other_form = _document_cards(required, failed_kind, bound)
    others = [d for d in case.documents.all() if d.kind not in {r.code for r in required}]
    return render_step(
        request,
        case,
        "pieces",
        "web/porteur/intake_documents.html",
        {"required": cards, "other_form": other_form, "others": others, "errors": errors},
    )


@porteur_required
@require_POST
def case_document(request, pk: int):
    case = case_or_404(request, pk)
    form = pf.DocumentForm(
        request.POST, request.FILES, kind_choices=document_kinds(case), auto_id="id_doc_%s"
    )
    doc = _upload(request, case, form) if form.is_valid() else None
    if doc is None:
        return tracking_page(
            request, case, status=400, errors=error_summary(form), document_form=form
        )
    messages.success(request, f"Pièce « {doc.filename} » enregistrée.")
    return redirect(tracking_url(case, "pieces"))
