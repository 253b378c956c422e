"""The PDF of a whole dossier and the decision documents (issue 12, DS habit and point
10): who may read the dossier downloads them, nobody else; the history is capped so a
long dossier stays quick."""

import io
import re
import time

import pytest
from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog
from pypdf import PdfReader

from cases import builders
from cases.models import Case
from tests import factories as f
from tests.engine import walk
from web import dossier_pdf

pytestmark = pytest.mark.django_db

PLAN = builders.plan(100000, ("DETR", 40000), ("REGION_OCC", 20000), expense_label="Halle")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


def text_of(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


@pytest.fixture
def decided():
    """DETR granted and committed, REGION_OCC refused."""
    case, porteur, agent = walk.instructing_case(PLAN, title="Halle couverte de Lisle")
    requests = {fr.scheme.code: fr for fr in case.funding_requests.select_related("scheme")}
    detr = walk.grant_and_commit(requests["DETR"], amount="38000.00")
    region = requests["REGION_OCC"]
    builders.transition(
        region,
        "refuse",
        actor=walk.instructor_for("REGION_OCC"),
        motivation="Enveloppe épuisée pour 2026.",
        date="2026-04-16",
    )
    region.refresh_from_db()
    return {"case": Case.objects.get(pk=case.pk), "porteur": porteur, "agent": agent,
            "detr": detr, "region": region}  # fmt: skip


def pdf_url(case) -> str:
    return f"/dossiers/{case.pk}/dossier.pdf"


def decision_url(case, fr) -> str:
    return f"/dossiers/{case.pk}/demandes/{fr.pk}/decision.pdf"


def test_the_whole_dossier_pdf_holds_every_part(client, decided):
    case = decided["case"]
    builders.document_add(
        actor=decided["porteur"], case=case, kind="devis", label="Devis charpente"
    )
    client.force_login(decided["porteur"])
    response = client.get(pdf_url(case))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="dossier-')
    text = text_of(response.content)
    assert "Halle couverte de Lisle" in text and case.reference in text
    assert case.organisation.name in text  # the porteur
    assert "Plan de financement" in text and "Halle" in text
    assert "Reçue par le financeur le" in text  # each request's legal track
    assert "38 000,00 € accordés" in text or "38000,00 € accordés" in text
    assert "Enveloppe épuisée pour 2026." in text  # the refusal's motivation
    assert "Engagée (convention) le 20/04/2026" in text
    assert "Devis charpente" in text  # the pieces
    assert "Historique" in text and "Refuser" in text


def test_who_may_read_the_dossier_downloads_it_others_get_404(client, decided):
    case = decided["case"]
    urls = [pdf_url(case), decision_url(case, decided["detr"])]
    for user in (decided["porteur"], decided["agent"], walk.instructor_for("DETR")):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 200, (user, url)
    for user in (f.porteur(), f.funder_instructor("DEPT_TARN")):  # no request of its funder
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
    client.logout()
    assert client.get(urls[0])["Location"].startswith("/connexion/")


def test_decision_documents_of_granted_and_refused_requests(client, decided):
    case, detr, region = decided["case"], decided["detr"], decided["region"]
    client.force_login(decided["porteur"])
    granted = text_of(client.get(decision_url(case, detr)).content)
    assert "Décision d'attribution" in granted and "Aide accordée" in granted
    assert "38 000,00" in granted and "recours" in granted
    refused = client.get(decision_url(case, region))
    assert refused["Content-Disposition"].endswith('-region_occ.pdf"')
    text = text_of(refused.content)
    assert "Décision de refus" in text and "Enveloppe épuisée pour 2026." in text
    assert "16/04/2026" in text or "Date de la décision" in text

    page = client.get(f"/mes-dossiers/{case.pk}/").content.decode()
    assert pdf_url(case) in page and decision_url(case, detr) in page
    assert decision_url(case, region) in page


def test_an_undecided_request_has_no_decision_document(client):
    case, porteur, _ = walk.instructing_case(PLAN, title="Halle")
    fr = case.funding_requests.first()
    client.force_login(porteur)
    response = client.get(decision_url(case, fr))
    assert response.status_code == 404
    assert decision_url(case, fr) not in client.get(f"/mes-dossiers/{case.pk}/").content.decode()
    client.force_login(f.agent())
    assert pdf_url(case) in client.get(f"/dossiers/{case.pk}/").content.decode()


def test_a_long_history_is_capped_and_renders_quickly(client, decided):
    case = decided["case"]
    kept = StateLog.objects.filter(content_type=ContentType.objects.get_for_model(Case))
    template = kept.filter(object_id=str(case.pk)).first()
    StateLog.objects.bulk_create(
        StateLog(
            content_type=template.content_type,
            object_id=str(case.pk),
            transition=template.transition,
            state=template.state,
            source_state=template.source_state,
            description=f"Étape de test {i}",
        )
        for i in range(500)
    )
    context = dossier_pdf.dossier_context(case)
    assert len(context["history"]) == dossier_pdf.HISTORY_CAP
    assert context["history_skipped"] > 300
    client.force_login(decided["agent"])
    start = time.monotonic()
    response = client.get(pdf_url(case))
    elapsed = time.monotonic() - start
    assert response.status_code == 200
    text = text_of(response.content)
    assert f"… et {context['history_skipped']} autres entrées plus anciennes" in text
    assert "Étape de test 499" in text and "Étape de test 5 " not in text
    assert elapsed < 15, elapsed
