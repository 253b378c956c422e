"""The documents users sign (issue 15 point 3): the convention and the notification letter
of a granted request, filled from the dossier, its plan and the decision (DOCX read back
with python-docx, PDF text read back with pypdf); the PAdES signature checked with
pyHanko's validator against a throwaway CA made here (valid; a byte changed after signing
is detected); the scan simulation: page 1 rendered to PNG, its QR code decoded, the token
naming the right dossier."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pypdf import PdfReader

from cases import builders
from cases import signed_documents as sd
from cases.signed_documents.signing import pdf_signature_status
from engine.errors import DomainError
from tests.engine import walk

pytestmark = pytest.mark.django_db

PLAN = builders.plan(125000, ("DETR", 50000), expense_label="Charpente de la halle")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


@pytest.fixture
def granted():
    case, porteur, agent = walk.instructing_case(PLAN, title="Halle couverte de Lisle")
    fr = case.funding_requests.select_related("scheme").get(scheme__code="DETR")
    builders.request_grant_on(
        fr, instructor=walk.instructor_for("DETR"), amount="43210.00", granted="2026-04-15"
    )
    fr.refresh_from_db()
    return fr


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject, issuer, key, signing_key, *, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    )  # fmt: skip
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture
def certificate(settings, tmp_path):
    """A throwaway CA and the PETR's certificate signed by it, as a PKCS#12 in the
    settings; returns the CA (asn1crypto) to trust when validating."""
    from asn1crypto import x509 as asn1_x509

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("CA de test", "CA de test", ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate("PETR de test", "CA de test", key, ca_key, ca=False)
    p12 = tmp_path / "petr.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"petr", key, cert, [ca], serialization.BestAvailableEncryption(b"secret")
        )
    )
    settings.GUICHET_SIGNING_P12 = str(p12)
    settings.GUICHET_SIGNING_P12_PASSWORD = "secret"
    return asn1_x509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))


def text_of(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def docx_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return " ".join([p.text for p in doc.paragraphs] + cells)


def test_the_docx_of_the_convention_holds_the_dossiers_figures(granted):
    context = sd.grant_context(granted, "convention")
    text = docx_text(sd.docx_render("convention", context))
    case = granted.case
    assert case.reference in text and "Halle couverte de Lisle" in text
    assert case.organisation.name in text and granted.scheme.funder.name in text
    assert "43 210,00 €" in text  # amount granted
    assert "50 000,00 €" in text  # amount requested
    assert "125 000,00 €" in text and "Charpente de la halle" in text  # the plan's line
    assert "15/04/2026" in text  # the decision's date
    assert "{{" not in text and "{%" not in text


def test_the_petrs_own_template_replaces_the_default(granted, settings, tmp_path):
    from docx import Document

    own = Document()
    own.add_paragraph("Modèle maison : {{ organisation }} reçoit {{ amount_granted }}.")
    own.save(tmp_path / "notification.docx")
    settings.GUICHET_DOCUMENT_TEMPLATES_DIR = str(tmp_path)
    text = docx_text(sd.docx_render("notification", sd.grant_context(granted, "notification")))
    assert text == f"Modèle maison : {granted.case.organisation.name} reçoit 43 210,00 €."
    # the convention has no template of its own there: the default one still serves
    assert "Convention attributive" in docx_text(
        sd.docx_render("convention", sd.grant_context(granted, "convention"))
    )


def test_the_pdf_holds_the_figures_and_says_when_it_is_not_signed(granted, settings):
    settings.GUICHET_SIGNING_P12 = ""
    assert not sd.signing_configured()
    pdf = sd.pdf_render("notification", sd.grant_context(granted, "notification"))
    assert sd.pdf_sign(pdf) == pdf  # no certificate: unchanged
    text = text_of(pdf)
    assert granted.case.reference in text and "43 210,00 €" in text
    assert "125 000,00 €" in text and "15/04/2026" in text
    assert "non signé électroniquement" in text
    assert pdf_signature_status(pdf) is None


def test_the_signed_pdf_is_valid_and_a_change_after_signing_is_detected(granted, certificate):
    context = sd.grant_context(granted, "convention", signed=True)
    pdf = sd.pdf_sign(sd.pdf_render("convention", context), reason="Convention")
    assert "signé électroniquement par le PETR" in text_of(pdf)
    status = pdf_signature_status(pdf, trust_roots=[certificate])
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.signing_cert.subject.human_friendly == "Common Name: PETR de test"
    # untrusted when the CA is not known
    assert not pdf_signature_status(pdf, trust_roots=[]).trusted
    # a byte changed in the signed part (the producer's name): the digest no longer matches
    tampered = pdf.replace(b"WeasyPrint", b"WeasyPrinx", 1)
    assert tampered != pdf and len(tampered) == len(pdf)
    broken = pdf_signature_status(tampered, trust_roots=[certificate])
    assert not broken.intact and not broken.bottom_line


def _png_of_page_one(pdf: bytes):
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    image = document[0].render(scale=2).to_pil()
    document.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_scan_simulation_the_qr_code_of_page_one_names_the_dossier(granted):
    pdf = sd.pdf_render("convention", sd.grant_context(granted, "convention"))
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 1
    png = _png_of_page_one(pdf)
    texts = sd.qr_decode(png, "image/png")
    assert len(texts) == 1
    assert sd.token_read(texts[0]) == (granted.case_id, granted.pk, "convention")
    # every page carries the code: the PDF itself reads the same
    assert sd.token_read(sd.qr_decode(pdf, "application/pdf")[0])[0] == granted.case_id


def test_a_forged_or_changed_token_is_refused_in_french(granted):
    token = sd.token_make(granted, "notification")
    assert sd.token_read(token) == (granted.case_id, granted.pk, "notification")
    payload, signature = token.rsplit(":", 1)
    for bad in ("", "n'importe quoi", token[:-2] + "xx", payload + ":" + signature[::-1]):
        with pytest.raises(DomainError, match="code QR"):
            sd.token_read(bad)


def test_a_request_not_granted_has_no_documents(granted):
    other = walk.instructing_case(PLAN, title="Autre")[0].funding_requests.first()
    with pytest.raises(DomainError, match="Aucune aide accordée"):
        sd.grant_request(case=other.case, request_pk=other.pk)
    assert sd.grant_request(case=granted.case, request_pk=granted.pk) == granted
    with pytest.raises(DomainError):
        sd.grant_request(case=granted.case, request_pk="10" * 30)


def test_every_page_carries_the_qr_code(granted):
    """A long plan runs over several pages: each one carries the same code."""
    import pypdfium2 as pdfium
    import zxingcpp

    context = sd.grant_context(granted, "convention")
    line = {"label": "Lot de travaux", "amount": "1 000,00 €", "tax": "HT"}
    context["expenses"] = [line] * 60
    document = pdfium.PdfDocument(sd.pdf_render("convention", context))
    assert len(document) >= 3
    for index in range(len(document)):
        image = document[index].render(scale=2).to_pil()
        codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        assert [c.text for c in codes] == [context["token"]], f"page {index + 1}"
    document.close()


def test_a_wrong_certificate_password_is_said_in_french(granted, certificate, settings):
    settings.GUICHET_SIGNING_P12_PASSWORD = "pas le bon"
    pdf = sd.pdf_render("convention", sd.grant_context(granted, "convention", signed=True))
    with pytest.raises(DomainError, match="certificat de signature du PETR ne peut pas"):
        sd.pdf_sign(pdf)
