"""Attachments of the messages on a dossier (issue 12): the form field that takes them, and
their download.

An attachment is reachable only by who may read its message (``selectors.attachment_get``:
the dossier visible to the user, an internal note only to who reads notes); anything else
is a 404, whether it exists or not. Files live outside any public URL, and are sent as
downloads with their sniffed type and ``nosniff``, as documents are (``web.documents``).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from cases import selectors
from cases.services.documents import MAX_ATTACHMENTS
from engine.audit import access_record

from .documents import SAFE_TYPES

ATTACHMENTS_HELP = (
    f"Facultatif : {MAX_ATTACHMENTS} fichiers au plus (PDF, image PNG ou JPEG, document "
    "bureautique), 10 Mo au plus chacun."
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input; each is checked by the service (``message_post``)."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Pièces jointes")
        kwargs.setdefault("help_text", ATTACHMENTS_HELP)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        return list(data) if isinstance(data, (list, tuple)) else [data]


def posted_files(request) -> list:
    return request.FILES.getlist("attachments")[: MAX_ATTACHMENTS + 1]


@login_required
@require_GET
def attachment_download(request, pk: int):
    attachment = selectors.attachment_get(user=request.user, pk=pk)
    if attachment is None:
        raise Http404("Pièce jointe introuvable.")
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404("Fichier absent du stockage.") from None
    access_record(
        user=request.user,
        action="export",
        subject=attachment,
        aggregate_id=attachment.message.case_id,
        request=request,
    )
    ctype = attachment.content_type
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename or "piece-jointe",
        content_type=ctype if ctype in SAFE_TYPES else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
