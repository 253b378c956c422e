"""The documents users sign when something is wrong (issue 15 point 3, review): a template
the PETR edited with an error, a certificate that cannot be read or used, an uploaded
scan too large (a pixel bomb), a PDF with huge or many pages, a copy for a closed dossier.
Each is refused in French as a ``DomainError`` (never a crash), quickly, and a PDF's
pages are closed whatever happens."""

from __future__ import annotations

# ruff: noqa: F811 - the fixtures imported from the signed documents tests are arguments
import io
import struct
import time
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter

from cases import signed_documents as sd
from cases.models import CaseState, Document
from cases.signed_documents import scan
from engine.errors import DomainError
from tests import factories as f
from tests.cases.test_signed_documents import (  # noqa: F401 - fixtures
    _fast_passwords,
    certificate,
    granted,
)

pytestmark = pytest.mark.django_db


# --- a template the PETR edited with an error ------------------------------------------


def _docx(tmp_path, kind: str, text: str) -> None:
    from docx import Document as Docx

    own = Docx()
    own.add_paragraph(text)
    own.save(tmp_path / f"{kind}.docx")


@pytest.mark.parametrize(
    "text",
    [
        "Modèle : {{ organisation ",  # Jinja2 TemplateSyntaxError
        "Modèle : {% if organisation %} sans fin",  # TemplateSyntaxError (unclosed block)
        "Modèle : {{ inconnu.attribut }}",  # Jinja2 UndefinedError
    ],
)
def test_a_broken_docx_template_is_said_in_french(granted, settings, tmp_path, text):
    _docx(tmp_path, "notification", text)
    settings.GUICHET_DOCUMENT_TEMPLATES_DIR = str(tmp_path)
    context = sd.grant_context(granted, "notification")
    with pytest.raises(DomainError, match="« notification.docx » contient une erreur") as raised:
        sd.docx_render("notification", context)
    assert raised.value.code == "unavailable"
    assert "GUICHET_DOCUMENT_TEMPLATES_DIR" in raised.value.message


def test_a_docx_template_that_is_not_a_docx_is_said_in_french(granted, settings, tmp_path):
    (tmp_path / "convention.docx").write_bytes(b"pas un fichier Word")
    settings.GUICHET_DOCUMENT_TEMPLATES_DIR = str(tmp_path)
    with pytest.raises(DomainError, match="« convention.docx » contient une erreur") as raised:
        sd.docx_render("convention", sd.grant_context(granted, "convention"))
    assert raised.value.code == "unavailable"


@pytest.mark.parametrize(
    "source",
    [
        "<p>{% if organisation %}jamais fermé</p>".encode(),  # TemplateSyntaxError
        b"<p>{{ organisation|filtre_inconnu }}</p>",  # TemplateSyntaxError
        b"<p>{% include 'nulle-part.html' %}</p>",  # TemplateDoesNotExist
        "<p>Modèle en Latin-1 : é</p>".encode("latin-1"),  # not UTF-8
    ],
)
def test_a_broken_html_template_is_said_in_french(granted, settings, tmp_path, source):
    (tmp_path / "convention.html").write_bytes(source)
    settings.GUICHET_DOCUMENT_TEMPLATES_DIR = str(tmp_path)
    with pytest.raises(DomainError, match="« convention.html » contient une erreur") as raised:
        sd.pdf_render("convention", sd.grant_context(granted, "convention"))
    assert raised.value.code == "unavailable"


# --- a certificate that cannot be read or used ---------------------------------------


def test_a_wrong_certificate_password_is_unavailable(granted, certificate, settings):
    settings.GUICHET_SIGNING_P12_PASSWORD = "pas le bon"
    pdf = sd.pdf_render("convention", sd.grant_context(granted, "convention", signed=True))
    with pytest.raises(DomainError, match="certificat de signature du PETR") as raised:
        sd.pdf_sign(pdf)
    assert raised.value.code == "unavailable"


def test_a_damaged_certificate_file_is_unavailable(granted, settings, tmp_path):
    damaged = tmp_path / "petr.p12"
    damaged.write_bytes(b"\x30\x82 pas un PKCS#12")
    settings.GUICHET_SIGNING_P12 = str(damaged)
    settings.GUICHET_SIGNING_P12_PASSWORD = "secret"
    pdf = sd.pdf_render("convention", sd.grant_context(granted, "convention", signed=True))
    with pytest.raises(DomainError, match="certificat de signature du PETR") as raised:
        sd.pdf_sign(pdf)
    assert raised.value.code == "unavailable"


def test_a_signing_error_of_pyhanko_is_unavailable(granted, certificate):
    """pyHanko refuses to sign (here: the signature field is already filled)."""
    pdf = sd.pdf_sign(sd.pdf_render("convention", sd.grant_context(granted, "convention")))
    with pytest.raises(DomainError, match="n'a pas pu être signé") as raised:
        sd.pdf_sign(pdf)
    assert raised.value.code == "unavailable"


# --- an uploaded image too large --------------------------------------------------------


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` grey pixels and holds almost none."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(20000, 20000), (8000, 6000)])
def test_a_pixel_bomb_is_refused_quickly_without_being_decoded(size):
    """20000 × 20000 is beyond Pillow's own limit; 8000 × 6000 beyond the guichet's."""
    bomb = _png_header(*size)
    started = time.monotonic()
    with pytest.raises(DomainError, match="Image trop grande pour être lue") as raised:
        sd.qr_decode(bomb, "image/png")
    assert time.monotonic() - started < 1
    assert raised.value.errors == {"file": ["Image trop grande."]}


def test_a_pixel_bomb_dropped_as_a_signed_copy_writes_nothing():
    upload = SimpleUploadedFile("bombe.png", _png_header(20000, 20000), "image/png")
    with pytest.raises(DomainError, match="Image trop grande"):
        sd.signed_copy_attach(actor=f.agent(), upload=upload)
    assert not Document.objects.filter(kind__startswith="signed_").exists()


@pytest.fixture
def sizes_read(monkeypatch):
    """The sizes of the images handed to the QR code reader."""
    import zxingcpp

    sizes, read = [], zxingcpp.read_barcodes

    def recording(image, *args, **kwargs):
        sizes.append(image.size)
        return read(image, *args, **kwargs)

    monkeypatch.setattr(zxingcpp, "read_barcodes", recording)
    return sizes


def test_a_large_scan_is_reduced_before_reading_and_its_code_still_read(granted, sizes_read):
    import pypdfium2 as pdfium

    pdf = sd.pdf_render("convention", sd.grant_context(granted, "convention"))
    document = pdfium.PdfDocument(pdf)
    image = document[0].render(scale=5).to_pil().convert("L")  # 2975 × 4210, 600 dpi-ish
    document.close()
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    texts = sd.qr_decode(out.getvalue(), "image/jpeg")
    assert max(sizes_read[0]) <= scan.MAX_SIDE < max(image.size)
    assert sd.token_read(texts[0]) == (granted.case_id, granted.pk, "convention")


# --- a PDF with huge or many pages -----------------------------------------------------


def _pdf(*sizes: tuple[float, float]) -> bytes:
    writer = PdfWriter()
    for width, height in sizes:
        writer.add_blank_page(width=width, height=height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def closed(monkeypatch):
    """How many PDF pages and documents were opened and closed while reading."""
    import pypdfium2 as pdfium

    counts = {"pages": 0, "pages closed": 0, "documents closed": 0}
    get_page, close_page = pdfium.PdfDocument.get_page, pdfium.PdfPage.close
    close_document = pdfium.PdfDocument.close

    def opening(self, index):
        counts["pages"] += 1
        return get_page(self, index)

    def closing_page(self, *args, **kwargs):
        counts["pages closed"] += 1
        return close_page(self, *args, **kwargs)

    def closing_document(self, *args, **kwargs):
        counts["documents closed"] += 1
        return close_document(self, *args, **kwargs)

    monkeypatch.setattr(pdfium.PdfDocument, "get_page", opening)
    monkeypatch.setattr(pdfium.PdfPage, "close", closing_page)
    monkeypatch.setattr(pdfium.PdfDocument, "close", closing_document)
    return counts


def test_only_the_first_pages_are_rendered_within_bounds(sizes_read, closed):
    a4 = (595, 842)
    huge = (scan.MAX_PAGE_POINTS * 10, scan.MAX_PAGE_POINTS * 10)  # beyond the standard
    large = (scan.MAX_PAGE_POINTS, scan.MAX_PAGE_POINTS / 2)
    started = time.monotonic()
    assert sd.qr_decode(_pdf(huge, large, a4, a4, a4, a4), "application/pdf") == []
    assert time.monotonic() - started < 5
    assert closed == {"pages": scan.PAGES_READ, "pages closed": 3, "documents closed": 1}
    assert len(sizes_read) == 2  # the huge page is not rendered, nor pages 4 to 6
    assert scan.MAX_SIDE - 2 <= max(sizes_read[0]) <= scan.MAX_SIDE  # reduced to fit
    assert abs(sizes_read[1][1] - 842 * scan.MAX_SCALE) <= 2  # an A4 page: at most 216 dpi


def test_pages_and_document_are_closed_when_rendering_fails(monkeypatch, closed):
    import pypdfium2 as pdfium

    def broken(self, **kwargs):
        raise pdfium.PdfiumError("rendu impossible")

    monkeypatch.setattr(pdfium.PdfPage, "render", broken)
    assert sd.qr_decode(_pdf((595, 842), (595, 842)), "application/pdf") == []
    assert closed == {"pages": 1, "pages closed": 1, "documents closed": 1}


# --- a signed copy for a dossier in a terminal state ---------------------------------


def test_a_signed_copy_for_a_closed_dossier_is_refused_like_any_upload(granted):
    import qrcode

    code = io.BytesIO()
    qrcode.make(sd.token_make(granted, "convention"), box_size=6, border=4).save(code)
    cases = type(granted.case).objects.filter(pk=granted.case_id)
    state = granted.case.state
    cases.update(state=CaseState.CLOSED)
    upload = SimpleUploadedFile("copie.png", code.getvalue(), "image/png")
    with pytest.raises(DomainError, match="Le dossier est clos") as raised:
        sd.signed_copy_attach(actor=f.agent(), upload=upload)
    assert raised.value.code == "unavailable"
    assert not Document.objects.filter(kind__startswith="signed_").exists()
    # the same copy, the dossier open again: attached
    cases.update(state=state)
    upload.seek(0)
    doc = sd.signed_copy_attach(actor=f.agent(), upload=upload)
    assert doc.case_id == granted.case_id and doc.kind == "signed_convention"
