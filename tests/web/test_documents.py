"""The shared document download: visible only with its dossier, always an attachment with
its stored (sniffed) type and ``nosniff``."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import Document
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%guichet test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def make_doc(porteur, content=PDF, name="devis.pdf"):
    case = services.case_create(actor=porteur, data={"title": "Salle des fêtes", "state": "draft"})
    return services.document_upload(
        actor=porteur,
        case=case,
        kind="devis",
        upload=SimpleUploadedFile(name, content, content_type="text/html"),
    )


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_download_is_an_attachment_with_the_sniffed_type(client):
    porteur = f.porteur()
    doc = make_doc(porteur, PNG, name="photo<script>.html")
    client.force_login(porteur)
    response = client.get(f"/pieces/{doc.pk}/telecharger/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".png" in response["Content-Disposition"] and "<" not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body(response) == PNG


def test_a_stored_type_outside_the_accepted_list_is_sent_as_bytes(client):
    porteur = f.porteur()
    doc = make_doc(porteur)
    Document.objects.filter(pk=doc.pk).update(content_type="text/html")
    client.force_login(porteur)
    response = client.get(f"/pieces/{doc.pk}/telecharger/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")


def test_visibility_follows_the_dossier(client):
    porteur = f.porteur()
    doc = make_doc(porteur)
    url = f"/pieces/{doc.pk}/telecharger/"
    assert client.get(url)["Location"].startswith("/connexion/")
    client.force_login(f.porteur())  # another organisation
    assert client.get(url).status_code == 404
    client.force_login(f.funder_instructor("ETAT"))  # no request of its funder on the dossier
    assert client.get(url).status_code == 404
    client.force_login(f.agent())  # PETR staff see the territory's dossiers
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405
    assert client.get("/pieces/0/telecharger/").status_code == 404


def test_a_missing_file_is_a_404_not_a_500(client):
    porteur = f.porteur()
    doc = make_doc(porteur)
    doc.file.storage.delete(doc.file.name)
    client.force_login(porteur)
    assert client.get(f"/pieces/{doc.pk}/telecharger/").status_code == 404
