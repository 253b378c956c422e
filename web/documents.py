"""Download of a dossier's document, shared by every area.

The document is reachable only if its dossier is visible to the user (``case_get``
scopes it); anything else is a 404, whether the document exists or not. The file is always
sent as an attachment with its stored content type (sniffed from the bytes at upload,
never text/html) and ``nosniff``, so a browser never renders it in the site's origin.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from cases import selectors
from cases.models import Document
from engine.audit import access_record
from engine.errors import DomainError

SAFE_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
}


@login_required
@require_GET
def document_download(request, pk: int):
    case_id = Document.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise Http404("Pièce introuvable.")
    try:
        case = selectors.case_get(user=request.user, pk=case_id)
    except DomainError:
        raise Http404("Pièce introuvable.") from None
    doc = selectors.document_list(user=request.user, case=case).filter(pk=pk).first()
    if doc is None:
        raise Http404("Pièce introuvable.")
    response = file_response(doc)
    access_record(
        user=request.user, action="export", subject=doc, aggregate_id=case.pk, request=request
    )
    return response


def file_response(doc: Document) -> FileResponse:
    """The stored file as an attachment, never rendered in the site's origin (404 when
    the storage has lost it). Also serves the outside expert's link (``web.experts``)."""
    try:
        handle = doc.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404("Fichier absent du stockage.") from None
    ctype = doc.content_type if doc.content_type in SAFE_TYPES else "application/octet-stream"
    response = FileResponse(
        handle, as_attachment=True, filename=doc.filename or "document", content_type=ctype
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
