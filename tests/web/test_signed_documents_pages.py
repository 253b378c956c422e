"""The documents users sign, on the pages (issue 15 point 3): the agent and the funder's
instructor download the convention and notification letter of a granted request (DOCX,
PDF signed PAdES and valid for pyHanko's validator); others get 403 / 404; a scanned copy
(page 1 rendered to PNG, or the PDF itself) dropped on « Déposer une copie signée » is
attached to the right dossier; no code, a foreign code or a forged one is refused in
French, with nothing written."""

from __future__ import annotations

# ruff: noqa: F811 - the fixtures imported from the cases tests are used as arguments
import html
import io

import pytest
import qrcode
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases import signed_documents as sd
from cases.models import Document
from cases.signed_documents.signing import pdf_signature_status
from tests import factories as f
from tests.cases.test_signed_documents import (  # noqa: F401 - fixtures
    PLAN,
    _fast_passwords,
    _png_of_page_one,
    certificate,
    docx_text,
    granted,
)
from tests.engine import walk

pytestmark = pytest.mark.django_db


def url(fr, kind: str, ext: str) -> str:
    return f"/dossiers/{fr.case_id}/demandes/{fr.pk}/a-signer/{kind}.{ext}"


UPLOAD = "/conventions/copies-signees/"


def _png(image: Image.Image, name="scan.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def test_the_agent_downloads_the_signed_pdf_and_the_docx(client, granted, certificate):
    agent = granted.case.referent_agent or f.agent()
    client.force_login(agent)
    page = client.get(f"/dossiers/{granted.case_id}/")
    assert page.status_code == 200
    assert url(granted, "convention", "pdf").encode() in page.content
    response = client.get(url(granted, "convention", "pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="convention-')
    status = pdf_signature_status(response.content, trust_roots=[certificate])
    assert status.intact and status.valid and status.trusted
    docx = client.get(url(granted, "notification", "docx"))
    assert docx.status_code == 200 and "43 210,00 €" in docx_text(docx.content)


def test_who_may_not_read_gets_403_or_404(client, granted):
    other_case = walk.instructing_case(PLAN, title="Autre")[0]
    undecided = other_case.funding_requests.first()
    agent = f.agent()
    cases = [
        (agent, url(granted, "convention", "exe"), 404),
        (agent, url(granted, "facture", "pdf"), 404),
        (agent, url(undecided, "convention", "pdf"), 404),
        (agent, f"/dossiers/{granted.case_id}/demandes/{undecided.pk}/a-signer/convention.pdf", 404),
        (walk.instructor_for("REGION_OCC"), url(granted, "convention", "pdf"), 404),
        (granted.case.created_by, url(granted, "convention", "pdf"), 403),
        (granted.case.created_by, UPLOAD, 403),
    ]  # fmt: skip
    for user, path, expected in cases:
        client.force_login(user)
        assert client.get(path).status_code == expected, (user.role, path)
    client.force_login(walk.instructor_for("DETR"))
    assert client.get(url(granted, "notification", "pdf")).status_code == 200


def test_a_scanned_png_of_page_one_is_attached_to_the_right_dossier(client, granted):
    walk.instructing_case(PLAN, title="Un autre dossier")  # the copy must not go there
    pdf = sd.pdf_render("convention", sd.grant_context(granted, "convention"))
    scan = Image.open(io.BytesIO(_png_of_page_one(pdf))).convert("L").rotate(1, fillcolor=255)
    client.force_login(f.agent())
    response = client.post(UPLOAD, {"file": _png(scan)})
    assert response.status_code == 302, response.content.decode()[:2000]
    doc = Document.objects.get(kind="signed_convention")
    assert doc.case_id == granted.case_id and doc.content_type == "image/png"
    assert "Convention signée" in doc.label and granted.scheme.name in doc.label
    page = client.get(response["Location"])
    assert granted.case.reference in page.content.decode()
    pieces = html.unescape(client.get(f"/dossiers/{granted.case_id}/").content.decode())
    assert "(Convention signée, Convention signée (copie scannée)" in pieces
    # the PDF of the notification letter, dropped by the funder's instructor
    letter = sd.pdf_render("notification", sd.grant_context(granted, "notification"))
    client.force_login(walk.instructor_for("DETR"))
    sent = SimpleUploadedFile("lettre.pdf", letter, content_type="application/pdf")
    assert client.post(UPLOAD, {"file": sent}).status_code == 302
    assert Document.objects.get(kind="signed_notification").case_id == granted.case_id


def _qr(text: str) -> Image.Image:
    return qrcode.make(text, box_size=6, border=4).get_image().convert("L")


def test_no_code_or_a_bad_code_is_refused_in_french(client, granted):
    token = sd.token_make(granted, "convention")
    forged = token[: token.rindex(":")] + ":" + "A" * 27
    blank = Image.new("L", (600, 800), 255)
    client.force_login(f.agent())
    for image, said in (
        (blank, "Aucun code QR du guichet"),
        (_qr("https://exemple.fr/pas-un-code"), "n'est pas un code du guichet"),
        (_qr(forged), "n'est pas un code du guichet"),
    ):
        response = client.post(UPLOAD, {"file": _png(image)})
        assert response.status_code == 400
        assert said in html.unescape(response.content.decode())
    text = SimpleUploadedFile("x.pdf", b"%PDF-1.4 pas vraiment un PDF", "application/pdf")
    assert "Aucun code QR" in client.post(UPLOAD, {"file": text}).content.decode()
    assert "Joignez un fichier" in client.post(UPLOAD, {}).content.decode()
    assert not Document.objects.filter(kind__startswith="signed_").exists()


def test_a_copy_of_a_request_of_another_funder_is_refused(client, granted):
    png = _png(_qr(sd.token_make(granted, "convention")))
    client.force_login(walk.instructor_for("REGION_OCC"))
    response = client.post(UPLOAD, {"file": png})
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert "un dossier que vous ne suivez pas" in body or "un autre financeur" in body
    assert not Document.objects.filter(kind__startswith="signed_").exists()
