"""The PAdES signature of a PDF with the PETR's certificate (pyHanko).

The certificate is a PKCS#12 file (``.p12`` / ``.pfx``: key, certificate and its chain)
whose path and password come from the settings ``GUICHET_SIGNING_P12`` and
``GUICHET_SIGNING_P12_PASSWORD``. Without them, documents are produced unsigned and say
so (``context.grant_context(signed=False)``). A certificate that cannot be read or used
(a wrong password, a damaged file, pyHanko refusing to sign) makes the signed document
unavailable, said in French (``DomainError(code="unavailable")``), never a server error."""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings

from engine.errors import DomainError

FIELD = "SignaturePETR"


def signing_configured() -> bool:
    path = getattr(settings, "GUICHET_SIGNING_P12", "") or ""
    return bool(path) and Path(path).is_file()


def _signer():
    from pyhanko.sign import signers

    password = getattr(settings, "GUICHET_SIGNING_P12_PASSWORD", "") or ""
    try:
        signer = signers.SimpleSigner.load_pkcs12(
            settings.GUICHET_SIGNING_P12, passphrase=password.encode() if password else None
        )
    except (ValueError, TypeError, OSError):  # a wrong password or a damaged file
        signer = None
    if signer is None:
        raise DomainError(
            "Le certificat de signature du PETR ne peut pas être lu (fichier PKCS#12 ou mot "
            "de passe incorrect) : voyez GUICHET_SIGNING_P12 dans le README.",
            code="unavailable",
        )
    return signer


def pdf_sign(pdf: bytes, *, reason: str = "", location: str = "") -> bytes:
    """``pdf`` signed PAdES (baseline B) with the PETR's certificate, as an incremental
    update that any standard reader verifies; ``pdf`` unchanged when no certificate is set."""
    if not signing_configured():
        return pdf
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason[:200] or None,
        location=location[:200] or None,
    )
    from pyhanko.pdf_utils.misc import PdfError

    signer = _signer()
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = signers.sign_pdf(writer, meta, signer=signer)
    except (PdfError, ValueError) as exc:  # pyHanko's SigningError is a ValueError
        raise DomainError(
            "Le document n'a pas pu être signé avec le certificat du PETR "
            f"({str(exc)[:200]}) : vérifiez GUICHET_SIGNING_P12 (voyez le README).",
            code="unavailable",
        ) from None
    return out.getvalue()


def pdf_signature_status(pdf: bytes, *, trust_roots=()):
    """The pyHanko validation status of the PDF's first signature, trusting
    ``trust_roots`` (asn1crypto certificates); None when the PDF holds no signature."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(pdf))
    if not reader.embedded_signatures:
        return None
    context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)
    return validate_pdf_signature(reader.embedded_signatures[0], context)
