"""PDF rendering with WeasyPrint, shared by every area (acknowledgements, minutes…).

``render_pdf("web/pdf/x.html", context)`` renders a Django template to PDF bytes;
``pdf_response(...)`` wraps them in an attachment response. Static files referenced in the
template (``{% static %}``) are resolved from the app directories, never over HTTP.
"""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.text import get_valid_filename


def _fetcher():
    """A URL fetcher that reads ``/static/…`` from the local static files and ``data:``
    URLs, and refuses anything else (no network access while rendering)."""
    from django.conf import settings
    from weasyprint.urls import URLFetcher, path2url

    static = "/" + settings.STATIC_URL.strip("/") + "/"

    class LocalFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file://") and static in url:
                found = finders.find(url.split(static, 1)[1].split("?")[0])
                if found:
                    return super().fetch(path2url(str(found)), headers)
            raise ValueError(f"Ressource refusée dans un PDF : {url[:80]}")

    return LocalFetcher(allowed_protocols={"file", "data"})


def render_pdf(template: str, context: dict | None = None, *, request=None) -> bytes:
    """The PDF bytes of ``template`` rendered with ``context`` (French, A4 by the template)."""
    from weasyprint import HTML

    html = render_to_string(template, context or {}, request=request)
    return HTML(string=html, base_url="file:///", url_fetcher=_fetcher()).write_pdf()


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    """An attachment response for PDF bytes (never displayed inline by the browser)."""
    name = get_valid_filename(filename) or "document.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
