"""The documents users sign, on the pages, when the PETR's template or certificate cannot
be used (issue 15 point 3, review): the page answers 503 with the French reason, as an
HTML page (never a 500, never a response whose content type is « 503 »); a scanned copy
that is a pixel bomb is refused in French on the upload form."""

from __future__ import annotations

# ruff: noqa: F811 - the fixtures imported from the cases tests are used as arguments
import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Document
from tests import factories as f
from tests.cases.test_signed_documents import (  # noqa: F401 - fixtures
    _fast_passwords,
    certificate,
    granted,
)
from tests.cases.test_signed_documents_failures import _png_header
from tests.web.test_signed_documents_pages import UPLOAD, url

pytestmark = pytest.mark.django_db


def _unavailable(response, said: str) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    body = html.unescape(response.content.decode())
    assert "Document indisponible" in body and said in body


def test_a_broken_petr_template_is_a_503_page_in_french(client, granted, settings, tmp_path):
    from docx import Document as Docx

    own = Docx()
    own.add_paragraph("Modèle : {{ organisation ")
    own.save(tmp_path / "notification.docx")
    (tmp_path / "convention.html").write_text("<p>{% if title %}jamais fermé</p>")
    settings.GUICHET_DOCUMENT_TEMPLATES_DIR = str(tmp_path)
    client.force_login(f.agent())
    _unavailable(
        client.get(url(granted, "notification", "docx")),
        "« notification.docx » contient une erreur",
    )
    _unavailable(
        client.get(url(granted, "convention", "pdf")), "« convention.html » contient une erreur"
    )
    # the other documents still come from the default templates
    assert client.get(url(granted, "convention", "docx")).status_code == 200
    assert client.get(url(granted, "notification", "pdf")).status_code == 200


def test_a_wrong_certificate_password_is_a_503_page_in_french(
    client, granted, certificate, settings
):
    settings.GUICHET_SIGNING_P12_PASSWORD = "pas le bon"
    client.force_login(f.agent())
    _unavailable(
        client.get(url(granted, "convention", "pdf")),
        "Le certificat de signature du PETR ne peut pas être lu",
    )


def test_a_pixel_bomb_dropped_on_the_form_is_refused_in_french(client):
    client.force_login(f.agent())
    bomb = SimpleUploadedFile("scan.png", _png_header(20000, 20000), "image/png")
    response = client.post(UPLOAD, {"file": bomb})
    assert response.status_code == 400
    assert "Image trop grande pour être lue" in html.unescape(response.content.decode())
    assert not Document.objects.filter(kind__startswith="signed_").exists()
