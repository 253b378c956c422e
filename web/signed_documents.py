"""The documents users sign (issue 15 point 3), on the pages: for a granted request, the
convention and the notification letter as DOCX (to edit) and as PDF (signed PAdES with
the PETR's certificate when one is set, a QR code on each page); and the page where an
agent or a funder's instructor drops the scanned hand-signed copy, attached to the
dossier its QR code names. Logic in ``cases.signed_documents``; the views parse and
render. A request the user may not see, or not granted, is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_GET

from cases import selectors
from cases import signed_documents as sd
from cases.models import REQUEST_GRANTED
from cases.permissions import R, allowed
from engine.errors import DomainError

from .pdf import pdf_response

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _grant(request, pk, request_pk, kind: str):
    """The granted request the user may read the documents of, or 403 / 404."""
    if not allowed(request.user, "signed_documents_read"):
        raise PermissionDenied("Votre rôle ne permet pas d'éditer ces documents.")
    if kind not in sd.KINDS:
        raise Http404("Document inconnu.")
    try:
        case = selectors.case_get(user=request.user, pk=pk)
        fr = sd.grant_request(case=case, request_pk=request_pk)
    except DomainError:
        raise Http404("Aucune aide accordée sur cette demande.") from None
    user = request.user
    if user.effective_role == R.FUNDER_INSTRUCTOR and fr.scheme.funder_id != user.funder_id:
        raise Http404("Aucune aide accordée sur cette demande.")
    return fr


def _name(fr, kind: str, ext: str) -> str:
    stem = f"{kind}-{fr.case.reference or fr.case_id}-{fr.scheme.code.lower()}"
    return (get_valid_filename(stem) or kind) + ext


def _unavailable(request, exc: DomainError):
    """A template or a certificate of the PETR that cannot be used: said, not a 500."""
    context = {"message": exc.message}
    return render(request, "web/signed_documents/error.html", context, status=503)


@login_required
@require_GET
def grant_docx(request, pk: int, request_pk: int, kind: str):
    fr = _grant(request, pk, request_pk, kind)
    try:
        data = sd.docx_render(kind, sd.grant_context(fr, kind, signed=False))
    except DomainError as exc:
        return _unavailable(request, exc)
    response = HttpResponse(data, content_type=DOCX)
    response["Content-Disposition"] = f'attachment; filename="{_name(fr, kind, ".docx")}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def grant_pdf(request, pk: int, request_pk: int, kind: str):
    fr = _grant(request, pk, request_pk, kind)
    signed = sd.signing_configured()
    place = getattr(fr.case.territory, "name", "")
    try:
        pdf = sd.pdf_render(kind, sd.grant_context(fr, kind, signed=signed))
        pdf = sd.pdf_sign(pdf, reason=sd.KINDS[kind], location=place)
    except DomainError as exc:
        return _unavailable(request, exc)
    return pdf_response(pdf, _name(fr, kind, ".pdf"))


def grant_links(user, case) -> list[dict]:
    """The page's links: each granted request of ``case`` with its documents, for who may
    read them (read from the requests the dossier page prefetched)."""
    if not allowed(user, "signed_documents_read"):
        return []
    rows = []
    for fr in sorted(case.funding_requests.all(), key=lambda fr: fr.pk):
        if fr.state not in REQUEST_GRANTED or fr.amount_granted is None:
            continue
        links = []
        for kind, label in sd.KINDS.items():
            for ext, view in (("pdf", "web:grant-pdf"), ("docx", "web:grant-docx")):
                url = reverse(view, args=[case.pk, fr.pk, kind])
                links.append({"label": f"{label} ({ext.upper()})", "url": url})
        rows.append({"request": fr, "links": links})
    return rows


@login_required
def signed_copy_upload(request):
    """GET: the form; POST: the scanned copy attached to its dossier, or the form again
    with a French message (no code, a code of another site, a file refused)."""
    if not allowed(request.user, "signed_copy_upload"):
        raise PermissionDenied("Votre rôle ne permet pas de déposer une copie signée.")
    error = ""
    if request.method == "POST":
        try:
            doc = sd.signed_copy_attach(actor=request.user, upload=request.FILES.get("file"))
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                f"« {doc.label} » rattachée au dossier {doc.case.reference} — {doc.case.title}.",
            )
            return redirect(reverse("web:signed-copy-upload") + f"?dossier={doc.case_id}")
    last = None
    shown = request.GET.get("dossier", "")
    if request.method == "GET" and shown.isascii() and shown.isdigit() and len(shown) < 18:
        try:
            last = selectors.case_get(user=request.user, pk=shown)
        except DomainError:
            last = None
    context = {"error": error, "last": last, "max_mb": _max_mb()}
    return render(
        request, "web/signed_documents/upload.html", context, status=400 if error else 200
    )


def _max_mb() -> int:
    from django.conf import settings

    return settings.GUICHET_MAX_UPLOAD_BYTES // (1024 * 1024)
