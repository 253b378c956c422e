"""A scanned, hand-signed copy comes back: its QR code is read (the first pages of a PDF
rendered with pypdfium2, or the image itself), the token checked, and the file attached
to the dossier and request it names, as a document « convention signée » (or « lettre de
notification signée »), through the checks every upload goes through."""

from __future__ import annotations

import io

from engine.errors import DomainError

from ..models import Case, Document
from ..permissions import R, require
from ..services.documents import checked_upload, document_store
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
MAX_SIDE = 2600  # pixels of the longest side of an image handed to the QR code reader
MAX_SCALE = 3.0  # a PDF page is rendered at most at 216 dpi
MAX_PAGE_POINTS = 14400  # the largest page side the PDF standard allows (200 inches)
MAX_PIXELS = 40_000_000  # an image larger than this is refused, not decoded
SCAN_FORMATS = {"application/pdf", "image/png", "image/jpeg"}

NO_CODE = (
    "Aucun code QR du guichet n'a été trouvé sur ce document : déposez la copie complète "
    "(PDF ou image PNG/JPEG), scannée droite et nette, avec le code imprimé en bas de page."
)


def _too_big() -> DomainError:
    said = (
        f"Image trop grande pour être lue (plus de {MAX_PIXELS // 1_000_000} millions de "
        "pixels) : scannez la copie à 300 points par pouce au plus, ou déposez-la en PDF."
    )
    return DomainError(said, errors={"file": ["Image trop grande."]})


def _pages(data: bytes) -> list:
    """The first ``PAGES_READ`` pages of a PDF as PIL images, at most ``MAX_SIDE`` pixels
    a side; a page larger than the standard allows is not rendered. Every page, bitmap
    and the document are closed, whatever happens."""
    import pypdfium2 as pdfium

    images = []
    pdf = pdfium.PdfDocument(data)
    try:
        for index in range(min(len(pdf), PAGES_READ)):
            page = pdf[index]
            try:
                width, height = page.get_size()
                if not 0 < max(width, height) <= MAX_PAGE_POINTS:
                    continue
                bitmap = page.render(scale=min(MAX_SCALE, MAX_SIDE / max(width, height)))
                try:
                    images.append(bitmap.to_pil().copy())
                finally:
                    bitmap.close()
            finally:
                page.close()
    finally:
        pdf.close()
    return images


def _image(data: bytes):
    """The uploaded image, reduced to at most ``MAX_SIDE`` pixels a side (a JPEG decoded
    already reduced); one claiming more than ``MAX_PIXELS`` is refused from its header,
    before any pixel is decoded."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # beyond even Pillow's own limit
        raise _too_big() from None
    if image.width * image.height > MAX_PIXELS:
        raise _too_big()
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def qr_decode(data: bytes, content_type: str) -> list[str]:
    """The texts of the QR codes found on the document (PDF: its first pages; image: the
    image), in reading order. A document that cannot be read yields no code."""
    import zxingcpp

    try:
        images = _pages(data) if content_type == "application/pdf" else [_image(data)]
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


def signed_copy_attach(*, actor, upload) -> Document:
    """The scanned copy ``upload`` attached to the dossier its QR code names (checked:
    size, real format, the token's signature, the request still granted, the actor may
    see the dossier and, for a funder's instructor, the request is its funder's; a
    dossier in a terminal state takes no new document, as for every upload)."""
    require(actor, "signed_copy_upload")
    data, ctype, filename = checked = checked_upload(upload)
    if ctype not in SCAN_FORMATS:
        raise DomainError(
            "Déposez la copie scannée en PDF ou en image (PNG, JPEG).",
            errors={"file": ["Format non accepté pour une copie scannée."]},
        )
    case_id, request_id, kind = _token_of(qr_decode(data, ctype))
    case = _visible_case(actor, case_id)
    fr = grant_request(case=case, request_pk=request_id)
    if actor.effective_role == R.FUNDER_INSTRUCTOR and fr.scheme.funder_id != actor.funder_id:
        raise DomainError("Cette aide est celle d'un autre financeur.", code="forbidden")
    return document_store(
        actor=actor,
        case=case,
        kind=SIGNED_KINDS[kind],
        checked=checked,
        label=f"{SIGNED_LABELS[kind]} — {fr.scheme.name}"[:200],
        payload={"request": fr.pk, "document": KINDS[kind]},
    )
