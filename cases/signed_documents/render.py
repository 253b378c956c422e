"""The DOCX (``docxtpl``) and the PDF (WeasyPrint) of a document of a granted request.

The PDF's page layout is the guichet's: the template gives the body, this module adds the
style and, in the bottom-right margin box of every page, the QR code of the document's
token (``context.token_make``) with a line telling what it is for.

A template the PETR edited may be wrong (a Jinja2 or Django template error, a file that is
not a DOCX or not UTF-8): the document is then unavailable, said in French
(``DomainError(code="unavailable")``), never a server error."""

from __future__ import annotations

import base64
import io
import zipfile

import qrcode
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.template.base import VariableDoesNotExist

from engine.errors import DomainError
from engine.pdf import html_to_pdf

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


def _template_error(path, exc: Exception) -> DomainError:
    """The French message of a template that cannot be used, naming the file, with the
    template engine's own words (a line number in the XML of a DOCX would mislead)."""
    detail = str(getattr(exc, "message", None) or exc).replace("\n", " ")[:200]
    return DomainError(
        f"Le modèle de document « {path.name} » contient une erreur ({detail}) : "
        "le document ne peut pas être produit. Corrigez le modèle déposé dans "
        "GUICHET_DOCUMENT_TEMPLATES_DIR (voyez le README) ou retirez-le pour revenir au "
        "modèle par défaut.",
        code="unavailable",
    )


def docx_render(kind: str, context: dict) -> bytes:
    """The DOCX of ``kind`` filled with ``context`` (the PETR's template if it set one)."""
    from docx.opc.exceptions import PackageNotFoundError
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError

    path = template_path(kind, "docx")
    out = io.BytesIO()
    try:
        doc = DocxTemplate(str(path))
        doc.render(context, autoescape=True)
        doc.save(out)
    except (TemplateError, PackageNotFoundError, zipfile.BadZipFile, KeyError) as exc:
        raise _template_error(path, exc) from None
    return out.getvalue()


def _css_text(value: str) -> str:
    return value.replace("\\", "").replace('"', "'").replace("\n", " ")[:120]


def _html(kind: str, context: dict) -> str:
    """The HTML template of ``kind`` rendered with ``context`` (Django template language)."""
    path = template_path(kind, "html")
    try:
        source = path.read_text(encoding="utf-8")
        return engines["django"].from_string(source).render(context)
    except UnicodeDecodeError:
        raise _template_error(path, ValueError("le fichier n'est pas en UTF-8")) from None
    except (TemplateSyntaxError, TemplateDoesNotExist, VariableDoesNotExist) as exc:
        raise _template_error(path, exc) from None


def pdf_render(kind: str, context: dict) -> bytes:
    """The PDF of ``kind``: the HTML template rendered with ``context`` (Django template
    language), the guichet's page style and the QR code on every page. Unsigned."""
    html = _html(kind, context)
    qr = "data:image/png;base64," + base64.b64encode(qr_png(context["token"])).decode()
    style = STYLE % {
        "label": _css_text(context["kind_label"]),
        "reference": _css_text(context["reference"]),
        "qr": qr,
    }
    return html_to_pdf(html, stylesheets=[style])
