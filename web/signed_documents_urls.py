"""Routes of the documents users sign (issue 15 point 3): the convention and notification
letter of a granted request (DOCX, signed PDF), and the drop of a scanned signed copy."""

from django.urls import path

from . import signed_documents

urlpatterns = [
    path(
        "dossiers/<int:pk>/demandes/<int:request_pk>/a-signer/<slug:kind>.pdf",
        signed_documents.grant_pdf,
        name="grant-pdf",
    ),
    path(
        "dossiers/<int:pk>/demandes/<int:request_pk>/a-signer/<slug:kind>.docx",
        signed_documents.grant_docx,
        name="grant-docx",
    ),
    path(
        "conventions/copies-signees/",
        signed_documents.signed_copy_upload,
        name="signed-copy-upload",
    ),
]
