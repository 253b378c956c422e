"""A scanned, hand-signed copy comes back: its QR code is read (the first pages of a PDF
rendered with pypdfium2, or the image itself), the token checked, and the file attached
to the dossier and request it names, as a document « convention signée » (or « lettre de
notification signée »), through the checks every upload goes through."""

from __future__ import annotations

import hashlib
import io

from django.core.files.base import ContentFile
from django.db import transaction

from engine.errors import DomainError
from engine.outbox import event_emit

from ..models import Case, Document
from ..permissions import R, require
from ..services.documents import checked_upload
from .context import KINDS, grant_request, token_read

#: Document kinds of the signed copies (``Document.kind``), by document.
SIGNED_KINDS = {"convention": "signed_convention", "notification": "signed_notification"}
SIGNED_LABELS = {
    "convention": "Convention signée (copie scannée)",
    "notification": "Lettre de notification signée (copie scannée)",
}
#: The French label of each of those kinds, for the lists of a dossier's pieces.
SIGNED_KIND_LABELS = {
    "signed_convention": "Convention signée",
    "signed_notification": "Lettre de notification signée",
}
PAGES_READ = 3  # the code is on every page: the first few are enough
MAX_SIDE = 2600  # pixels of the longest side of a page rendered for reading
MAX_PIXELS = 40_000_000  # an image larger than this is refused, not decoded
SCAN_FORMATS = {"application/pdf", "image/png", "image/jpeg"}

NO_CODE = (
    "Aucun code QR du guichet n'a été trouvé sur ce document : déposez la copie complète "
    "(PDF ou image PNG/JPEG), scannée droite et nette, avec le code imprimé en bas de page."
)


def _pages(data: bytes):
    """The first pages of a PDF as PIL images, at most ``MAX_SIDE`` pixels a side."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        for index in range(min(len(pdf), PAGES_READ)):
            page = pdf[index]
            width, height = page.get_size()
            scale = min(3.0, MAX_SIDE / max(width, height, 1))
            yield page.render(scale=scale).to_pil()
    finally:
        pdf.close()


def _image(data: bytes):
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    if image.width * image.height > MAX_PIXELS:
        raise DomainError("Image trop grande pour être lue.", errors={"file": [NO_CODE]})
    image.load()
    return image


def qr_decode(data: bytes, content_type: str) -> list[str]:
    """The texts of the QR codes found on the document (PDF: its first pages; image: the
    image), in reading order. A document that cannot be read yields no code."""
    import zxingcpp

    try:
        images = list(_pages(data)) if content_type == "application/pdf" else [_image(data)]
    except DomainError:
        raise
    except Exception:  # a damaged file: no code rather than a 500
        return []
    found = []
    for image in images:
        for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
            if code.valid and code.text:
                found.append(code.text)
    return found


def _token_of(texts: list[str]) -> tuple[int, int, str]:
    if not texts:
        raise DomainError(NO_CODE, errors={"file": ["Aucun code QR."]})
    last_error = None
    for text in texts:
        try:
            return token_read(text)
        except DomainError as error:
            last_error = error
    raise last_error


def _visible_case(actor, case_id: int) -> Case:
    from ..selectors import case_get

    try:
        return case_get(user=actor, pk=case_id)
    except DomainError:
        raise DomainError(
            "Ce document appartient à un dossier que vous ne suivez pas.",
            code="forbidden",
            errors={"file": ["Dossier hors de votre périmètre."]},
        ) from None


def signed_copy_attach(*, actor, upload, expected_case: Case | None = None) -> Document:
    """The scanned copy ``upload`` attached to the dossier its QR code names (checked:
    size, real format, the token's signature, the request still granted, the actor may
    see the dossier and, for a funder's instructor, the request is its funder's)."""
    require(actor, "signed_copy_upload")
    data, ctype, filename = checked_upload(upload)
    if ctype not in SCAN_FORMATS:
        raise DomainError(
            "Déposez la copie scannée en PDF ou en image (PNG, JPEG).",
            errors={"file": ["Format non accepté pour une copie scannée."]},
        )
    case_id, request_id, kind = _token_of(qr_decode(data, ctype))
    if expected_case is not None and expected_case.pk != case_id:
        raise DomainError(
            "Le code QR de ce document désigne un autre dossier que celui-ci.",
            errors={"file": ["Document d'un autre dossier."]},
        )
    case = _visible_case(actor, case_id)
    fr = grant_request(case=case, request_pk=request_id)
    if actor.effective_role == R.FUNDER_INSTRUCTOR and fr.scheme.funder_id != actor.funder_id:
        raise DomainError("Cette aide est celle d'un autre financeur.", code="forbidden")
    doc = Document(
        case=case,
        kind=SIGNED_KINDS[kind],
        label=f"{SIGNED_LABELS[kind]} — {fr.scheme.name}"[:200],
        filename=filename,
        size=len(data),
        content_type=ctype,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
    )
    with transaction.atomic():
        doc.file.save(filename, ContentFile(data), save=False)
        doc.save()
        event_emit(
            topic="document.uploaded",
            subject=doc,
            aggregate_id=case.pk,
            actor_id=actor.pk,
            payload={"kind": doc.kind, "request": fr.pk, "document": KINDS[kind]},
        )
    return doc
