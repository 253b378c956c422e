"""Uploads: the type comes from the bytes; markup disguised as a PDF, polyglots, empty or
oversized files are refused in French; names are sanitised."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Document
from tests import factories as f

from .conftest import PDF, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(api):
    porteur = f.porteur()
    case = make_case(porteur)
    client = api(porteur)

    def post(name, content, **extra):
        return client.post(
            f"/api/v1/cases/{case.pk}/documents/",
            {"kind": "other", "file": SimpleUploadedFile(name, content), **extra},
            format="multipart",
        )

    post.case = case
    return post


REFUSED = {
    "html disguised as pdf": ("x.pdf", b"<html><body><script>alert(1)</script></body></html>"),
    "doctype": ("x.pdf", b"<!DOCTYPE html><title>x</title>"),
    "svg disguised as pdf": (
        "x.pdf",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
    ),
    "svg with xml prolog": ("x.pdf", b'<?xml version="1.0"?><svg></svg>'),
    "pdf magic only later": ("x.pdf", b"<html></html>\n%PDF-1.4\n%%EOF"),
    "pdf magic after whitespace": ("x.pdf", b"   \n%PDF-1.4\n%%EOF"),
    "pdf/html polyglot": ("x.pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF"),
    "jpeg/html polyglot": ("x.jpg", b"\xff\xd8\xff\xe0<script>alert(document.cookie)</script>"),
    "png/svg polyglot": ("x.png", b"\x89PNG\r\n\x1a\n<svg onload=alert(1)>"),
    "executable": ("x.pdf", b"MZ\x90\x00\x03\x00\x00\x00"),
    "zip that is no office document": ("x.docx", b"PK\x03\x04not really a zip"),
    "plain text": ("x.pdf", "Facture réglée".encode()),
}


@pytest.mark.parametrize("name, content", REFUSED.values(), ids=REFUSED.keys())
def test_disguised_or_dangerous_content_is_refused_in_french(target, name, content):
    response = target(name, content)
    assert response.status_code == 400, response.content
    body = response.json()
    assert "Format refusé" in body["detail"]
    assert body["errors"]["file"]
    assert not Document.objects.exists()


def test_empty_file_is_refused(target):
    response = target("vide.pdf", b"")
    assert response.status_code == 400
    assert "vide" in response.json()["detail"]
    assert not Document.objects.exists()


def test_too_big_file_is_refused(target, settings):
    settings.GUICHET_MAX_UPLOAD_BYTES = 2048
    response = target("gros.pdf", PDF + b"0" * 4096)
    assert response.status_code == 400
    assert "trop volumineux" in response.json()["detail"]
    assert not Document.objects.exists()


def test_request_far_over_the_limit_is_cut_before_parsing(target, settings):
    settings.GUICHET_MAX_REQUEST_BYTES = 4096
    response = target("enorme.pdf", PDF + b"0" * 10_000)
    assert response.status_code == 413
    assert "trop volumineuse" in response.json()["detail"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\win.ini.pdf", "win.ini.pdf"),
        ("devis\x00.html.pdf", None),
        ("a" * 300 + ".pdf", None),
        ("Facture électricité (mai).pdf", "Facture-electricite-mai.pdf"),
        ("page.html", "page.pdf"),  # the extension follows the real content
        ("....pdf", "document.pdf"),
    ],
)
def test_names_are_sanitised(target, settings, name, expected):
    response = target(name, PDF)
    assert response.status_code == 201, response.content
    filename = response.json()["filename"]
    if expected:
        assert filename == expected
    assert filename.endswith(".pdf")
    assert "/" not in filename and "\\" not in filename and "\x00" not in filename
    assert ".." not in filename.removesuffix(".pdf")
    assert len(filename) <= 100
    doc = Document.objects.get()
    stored = os.path.realpath(doc.file.path)
    assert stored.startswith(os.path.realpath(settings.MEDIA_ROOT) + os.sep)
    assert f"dossiers{os.sep}{target.case.pk}{os.sep}" in stored


def test_a_real_pdf_and_office_document_are_accepted(target):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    docx = target("budget.docx", buffer.getvalue())
    assert docx.status_code == 201 and docx.json()["filename"] == "budget.docx"
    pdf = target("devis.pdf", PDF)
    assert pdf.status_code == 201
    doc = Document.objects.get(pk=pdf.json()["id"])
    assert doc.content_type == "application/pdf"


def test_label_with_nul_byte_is_refused(target):
    response = target("devis.pdf", PDF, label="RIB\x00")
    assert response.status_code == 400 and response.json()["detail"]
