import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import builders, services
from tests import factories as f

PDF = b"%PDF-1.4\n%security\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api():
    """``api(user)``: a DRF client authenticated with the user's token (anonymous if None)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


def make_case(porteur, title="Maison de santé"):
    return builders.case_build(
        porteur=porteur, title=title, plan=builders.plan(100000, ("DETR", 40000)), state="draft"
    )


def upload(porteur, case, name="devis.pdf", content=PDF, kind="other"):
    return services.document_upload(
        actor=porteur, case=case, kind=kind, upload=SimpleUploadedFile(name, content)
    )


@pytest.fixture
def dossier():
    """A porteur's draft dossier with one PDF, and an outsider's dossier."""
    porteur = f.porteur()
    case = make_case(porteur)
    doc = upload(porteur, case)
    return porteur, case, doc
