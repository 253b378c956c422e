"""The documents users sign (issue 15 point 3): the grant agreement (convention
attributive) and the notification letter of a granted request, from templates the PETR
may replace (DOCX with ``docxtpl``, PDF with WeasyPrint), pre-filled from the dossier,
its plan and the decision; the PDF signed PAdES with the PETR's certificate (pyHanko);
a QR code on each page carrying a signed token, so that the scanned hand-signed copy is
attached to the right dossier when it comes back.

- ``context``: the figures of a grant, the token in the QR code, where templates live;
- ``render``: the DOCX and the PDF of a document;
- ``signing``: the PAdES signature and its check;
- ``scan``: reading the QR code of an uploaded copy and attaching it to its dossier.
"""

from .context import KINDS, grant_context, grant_request, token_make, token_read
from .render import docx_render, pdf_render
from .scan import qr_decode, signed_copy_attach
from .signing import pdf_sign, signing_configured

__all__ = [
    "KINDS",
    "docx_render",
    "grant_context",
    "grant_request",
    "pdf_render",
    "pdf_sign",
    "qr_decode",
    "signed_copy_attach",
    "signing_configured",
    "token_make",
    "token_read",
]
