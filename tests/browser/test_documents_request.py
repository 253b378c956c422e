"""Scenario 2: the agent asks for missing pieces, the porteur provides them from the
follow-up page, the agent declares the dossier complete. Two browsers, two users."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from cases import services
from cases.models import Case, CaseState
from engine.transitions import transition_apply
from tests import factories as f
from tests.engine import walk

from .conftest import check_page, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PDF = b"%PDF-1.4\n%guichet\n"


def filed_case(porteur, title):
    """A DETR dossier filed 20 days ago, with its required pieces (built by the services)."""
    case = services.case_create(
        actor=porteur, data={"title": title, "state": "draft", "financing_plan": walk.DETR_PLAN}
    )
    for code in f.scheme("DETR").required_document_codes():
        services.document_upload(
            actor=porteur,
            case=case,
            kind=code,
            upload=SimpleUploadedFile(f"{code}.pdf", PDF, content_type="application/pdf"),
        )
    receipt = timezone.localdate() - dt.timedelta(days=20)
    transition_apply(instance=case, name="submit", actor=porteur, data={"date": str(receipt)})
    return Case.objects.get(pk=case.pk)


def test_agent_requests_pieces_porteur_provides_them_agent_declares_complete(new_page, tiny_pdf):
    agent = f.agent(first_name="Claire", last_name="Martin")
    porteur = f.porteur()
    case = filed_case(porteur, "Rénovation de la salle des fêtes")
    url = f"/dossiers/{case.pk}/"

    # The agent finds the dossier in the inbox and opens it.
    desk = new_page()
    login(desk, agent, f.PASSWORD)
    desk.goto("/agent/")
    expect(desk.locator("main")).to_contain_text("Rénovation de la salle des fêtes")
    check_page(desk, "agent-boite-de-reception")
    desk.goto(url)
    expect(desk.get_by_role("heading", level=1)).to_have_text("Rénovation de la salle des fêtes")
    expect(desk.locator(".badge").first).to_have_text("Déposé")
    check_page(desk, "agent-dossier-depose")

    # « Demander des pièces »: an empty request is refused with its French message.
    desk.locator("summary", has_text="Demander des pièces").click()
    form = desk.locator('form[data-transition="request_documents"]')
    form.get_by_role("button", name="Confirmer : demander des pièces").click()
    expect(desk.locator("#resume-erreurs")).to_contain_text("Listez les pièces manquantes.")
    expect(desk.locator("#resume-erreurs")).to_be_focused()
    assert Case.objects.get(pk=case.pk).state == CaseState.SUBMITTED
    form = desk.locator('form[data-transition="request_documents"]')
    form.get_by_label("Autres pièces (une par ligne)").fill(
        "Plan de masse\nAttestation de non-commencement des travaux"
    )
    form.get_by_role("button", name="Confirmer : demander des pièces").click()
    expect(desk.locator(".badge").first).to_have_text("Incomplet")
    case.refresh_from_db()
    assert case.state == CaseState.INCOMPLETE
    assert case.missing_documents == [
        "Plan de masse",
        "Attestation de non-commencement des travaux",
    ]

    # The porteur, in another browser, sees what is missing, joins it and sends it.
    home = new_page()
    login(home, porteur, f.PASSWORD)
    expect(home.locator("main")).to_contain_text("Incomplet")
    home.goto(f"/mes-dossiers/{case.pk}/")
    missing = home.locator("section", has=home.locator("#manquantes"))
    expect(missing).to_contain_text("Plan de masse")
    expect(missing).to_contain_text("Attestation de non-commencement des travaux")
    expect(home.locator(".case-meta .badge")).to_contain_text("Incomplet")
    check_page(home, "porteur-dossier-incomplet")
    for name, label in (
        ("plan-de-masse.pdf", "Plan de masse"),
        ("attestation.pdf", "Attestation de non-commencement"),
    ):
        upload = home.locator("#pieces form")
        upload.get_by_label("Pièce").select_option("other")
        upload.get_by_label("Fichier").set_input_files(str(tiny_pdf(name)))
        upload.get_by_label("Précision (facultatif)").fill(label)
        upload.get_by_role("button", name="Joindre").click()
        expect(home.locator(".flash")).to_contain_text(name)
    pieces = text(home, "#pieces")
    assert "plan-de-masse.pdf — Plan de masse" in pieces and "attestation.pdf" in pieces
    home.get_by_role("button", name="Transmettre les pièces").click()
    expect(home.locator(".flash")).to_contain_text("C'est enregistré.")
    expect(home.locator(".case-meta .badge")).to_contain_text("Déposé")
    expect(home.locator("#historique ~ ol")).to_contain_text("Pièces complémentaires transmises")
    assert Case.objects.get(pk=case.pk).state == CaseState.SUBMITTED

    # Back to the agent: the new pieces are there; « Déclarer complet ».
    desk.goto(url)
    expect(desk.locator(".badge").first).to_have_text("Déposé")
    expect(desk.locator("main")).to_contain_text("plan-de-masse.pdf")
    desk.locator("summary", has_text="Déclarer complet").click()
    form = desk.locator('form[data-transition="declare_complete"]')
    form.get_by_role("button", name="Confirmer : déclarer complet").click()
    expect(desk.locator(".badge").first).to_have_text("En instruction")
    case.refresh_from_db()
    assert case.state == CaseState.INSTRUCTION and case.complete_on == timezone.localdate()
    check_page(desk, "agent-dossier-en-instruction")

    home.reload()
    expect(home.locator(".case-meta .badge")).to_contain_text("En instruction")
    expect(home.locator("#ou-en-est ~ p").first).to_contain_text("Le dossier est complet")
