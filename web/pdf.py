"""PDF rendering with WeasyPrint, shared by every area (acknowledgements, minutes…).

``render_pdf("web/pdf/x.html", context)`` renders a Django template to PDF bytes;
``pdf_response(...)`` wraps them in an attachment response. Static files referenced in the
template (``{% static %}``) are resolved from the app directories, never over HTTP
(``engine.pdf.html_to_pdf``, the rendering every area shares).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.text import get_valid_filename

from engine.pdf import html_to_pdf


def render_pdf(template: str, context: dict | None = None, *, request=None) -> bytes:
    """The PDF bytes of ``template`` rendered with ``context`` (French, A4 by the template)."""
    return html_to_pdf(render_to_string(template, context or {}, request=request))


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    """An attachment response for PDF bytes (never displayed inline by the browser)."""
    name = get_valid_filename(filename) or "document.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
