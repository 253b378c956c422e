"""HTML to PDF with WeasyPrint, the one place every area renders a PDF through (the pages'
acknowledgements, minutes… in ``web.pdf``; the documents users sign in
``cases.signed_documents``).

Nothing is fetched over the network while rendering: only ``data:`` URLs and the local
static files (``/static/…``, found by the static files finders) are read; any other
resource is refused.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.staticfiles import finders


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


def html_to_pdf(html: str, *, stylesheets: Iterable[str] = ()) -> bytes:
    """The PDF bytes of the HTML text ``html``, with the extra CSS texts ``stylesheets``
    applied after the document's own styles."""
    from weasyprint import CSS, HTML

    fetcher = _fetcher()
    styles = [CSS(string=text, url_fetcher=fetcher) for text in stylesheets]
    return HTML(string=html, base_url="file:///", url_fetcher=fetcher).write_pdf(
        stylesheets=styles or None
    )
