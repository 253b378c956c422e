"""The DOCX (``docxtpl``) and the PDF (WeasyPrint) of a document of a granted request.

The PDF's page layout is the guichet's: the template gives the body, this module adds the
style and, in the bottom-right margin box of every page, the QR code of the document's
token (``context.token_make``) with a line telling what it is for."""

from __future__ import annotations

import base64
import io

import qrcode
from django.template import engines

from .context import template_path

QR_BOX = 2  # pixels per module; WeasyPrint lays a PNG out at 96 dpi: ~21 mm for 40 modules

STYLE = """
@page {
  size: A4; margin: 18mm 16mm 34mm;
  @bottom-left {
    content: "%(label)s %(reference)s — page " counter(page) " / " counter(pages)
      "\\A Le code ci-contre rattache la copie signée et scannée au dossier.";
    white-space: pre; font-family: "DejaVu Sans", Arial, sans-serif; font-size: 7.5pt;
    color: #444; vertical-align: middle;
  }
  @bottom-right { content: url(%(qr)s); vertical-align: middle; }
}
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9.5pt; color: #1a1a1a;
  line-height: 1.4; }
h1 { font-size: 15pt; color: #0b5563; margin: 2mm 0; }
h2 { font-size: 11pt; color: #0b5563; border-bottom: 1px solid #c9d1d6; margin: 5mm 0 2mm;
  break-after: avoid; }
table { width: 100%%; border-collapse: collapse; margin: 2mm 0; }
caption { text-align: left; font-weight: bold; padding: 1mm 0; }
th, td { border: 1px solid #c9d1d6; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
table.kv th { width: 40%%; background: #f3f5f6; }
td.num { text-align: right; white-space: nowrap; }
td.blank { height: 25mm; color: #777; font-size: 8pt; }
tr { break-inside: avoid; }
.issuer { font-weight: bold; }
.signature-note { font-size: 8pt; color: #444; margin-top: 6mm; }
"""


def qr_png(text: str) -> bytes:
    """A PNG of ``text`` as a QR code (error correction M, a 2-module quiet zone)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=QR_BOX, border=2
    )
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()


def docx_render(kind: str, context: dict) -> bytes:
    """The DOCX of ``kind`` filled with ``context`` (the PETR's template if it set one)."""
    from docxtpl import DocxTemplate

    doc = DocxTemplate(str(template_path(kind, "docx")))
    doc.render(context, autoescape=True)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _css_text(value: str) -> str:
    return value.replace("\\", "").replace('"', "'").replace("\n", " ")[:120]


def _fetcher():
    """No resource outside the document (only ``data:`` URLs) while rendering."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"})


def pdf_render(kind: str, context: dict) -> bytes:
    """The PDF of ``kind``: the HTML template rendered with ``context`` (Django template
    language), the guichet's page style and the QR code on every page. Unsigned."""
    from weasyprint import CSS, HTML

    source = template_path(kind, "html").read_text(encoding="utf-8")
    html = engines["django"].from_string(source).render(context)
    qr = "data:image/png;base64," + base64.b64encode(qr_png(context["token"])).decode()
    style = STYLE % {
        "label": _css_text(context["kind_label"]),
        "reference": _css_text(context["reference"]),
        "qr": qr,
    }
    fetcher = _fetcher()
    return HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[CSS(string=style, url_fetcher=fetcher)]
    )
