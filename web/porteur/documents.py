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


def _card_form(request, code: str, required: bool):
    """The form of one card of the pieces step (fields ``<code>-file``, ``<code>-label``),
    bound when the page was posted."""
    bound = request.method == "POST" and "kind" not in request.POST
    return pf.PieceForm(
        request.POST if bound else None,
        request.FILES if bound else None,
        prefix=code,
        required=required,
    )


def _attach_all(request, case, forms: dict) -> tuple[list, list]:
    """Every piece chosen on the page is attached, whichever button was pressed (issue 12
    point 6: a file chosen and not « joint » is never dropped). A card whose « Joindre »
    was pressed without a file says so; the others without a file are left alone."""
    saved, failed = [], []
    pressed = request.POST.get("attach", "")
    for code, form in forms.items():
        if not form.has_file() and code != pressed:
            form.errors.clear()
            continue
        doc = None
        if form.is_valid():
            try:
                doc = services.document_upload(
                    actor=request.user,
                    case=case,
                    kind=code,
                    upload=form.cleaned_data["file"],
                    label=form.cleaned_data["label"],
                )
            except DomainError as exc:
                form.add_error("label" if "label" in exc.errors else "file", exc.message)
        (saved if doc is not None else failed).append(doc or form)
    return saved, failed


def _after_attach(request, case, saved):
    for doc in saved:
        messages.success(request, f"Pièce « {doc.filename} » enregistrée.")
    action = request.POST.get("action")
    if action in ("next", "previous"):
        target = "recapitulatif" if action == "next" else "dispositifs"
        return redirect(step_url(case, target))
    anchor = f"#piece-{saved[-1].kind}" if saved else ""
    return redirect(step_url(case, "pieces") + anchor)


def _legacy_upload(request, case, forms: dict):
    """One piece posted alone (``kind``, ``file``, ``label``: older pages, scripts); a
    refusal is shown on that piece's card."""
    kind = request.POST.get("kind")
    kind = kind if kind in forms else "other"
    form = pf.DocumentForm(request.POST, request.FILES)
    doc = _upload(request, case, form) if form.is_valid() else None
    if doc is None:
        card = pf.PieceForm({f"{kind}-label": request.POST.get("label", "")[:200]}, prefix=kind)
        card.errors.clear()
        for name, items in form.errors.items():
            for item in items:
                card.add_error(name if name in card.fields else None, item)
        forms[kind] = card
    return doc, error_summary(forms[kind])


def step_documents(request, case):
    required = required_documents(case)
    forms = {r.code: _card_form(request, r.code, True) for r in required}
    forms["other"] = _card_form(request, "other", False)
    errors = []
    if request.method == "POST" and "kind" in request.POST:
        doc, errors = _legacy_upload(request, case, forms)
        if doc is not None:
            return _after_attach(request, case, [doc])
    elif request.method == "POST":
        saved, failed = _attach_all(request, case, forms)
        if not failed:
            return _after_attach(request, case, saved)
        for doc in saved:
            messages.success(request, f"Pièce « {doc.filename} » enregistrée.")
        errors = error_summary(*failed)
        if saved:  # the cards show what was just attached
            required = required_documents(case)
    cards = [{**vars(entry), "form": forms[entry.code]} for entry in required]
    others = [d for d in case.documents.all() if d.kind not in {r.code for r in required}]
    return render_step(
        request,
        case,
        "pieces",
        "web/porteur/intake_documents.html",
        {"required": cards, "other_form": forms["other"], "others": others, "errors": errors},
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
