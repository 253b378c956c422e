"""DS habits in a browser (issue 12): the agent asks a correction and sends a file with a
message; the porteur sees the request and the badge, corrects the title in place, reads
« Mes notifications » and marks them read. Every page at 1280 and 390 px with axe-core."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from cases import services
from cases.models import CorrectionRequest, CorrectionState, MessageAttachment
from notifications.relay import outbox_relay
from tests import factories as f

from .conftest import check_page, login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PDF = b"%PDF-1.4\n%guichet\n"
SLOW = 90_000  # ms: a loaded CI machine may take long to serve a page


@pytest.fixture
def slow_page(new_page):
    """A browser page patient with a loaded machine (the assertions wait as long)."""
    expect.set_options(timeout=SLOW)

    def make():
        p = new_page()
        p.set_default_timeout(SLOW)
        p.set_default_navigation_timeout(SLOW)
        return p

    yield make
    expect.set_options(timeout=5_000)


def test_correction_attachment_and_notifications(slow_page, tiny_pdf):
    agent = f.agent(first_name="Claire", last_name="Martin")
    porteur = f.porteur(first_name="Jeanne", last_name="Roux")
    case = services.case_create(
        actor=porteur, data={"title": "Salle des fete de Lautrec", "state": "draft"}
    )
    services.document_upload(
        actor=porteur,
        case=case,
        kind="other",
        upload=SimpleUploadedFile("rib.pdf", PDF, content_type="application/pdf"),
    )

    # The agent asks a correction of the title, then writes with a file attached.
    desk = slow_page()
    login(desk, agent, f.PASSWORD)
    desk.goto(f"/dossiers/{case.pk}/")
    desk.locator("summary", has_text="Demander une correction au porteur").click()
    desk.get_by_label("Champ ou pièce à corriger").select_option("field:title")
    desk.get_by_label("Ce qu'il faut corriger").fill("Le titre comporte une faute : « fêtes ».")
    desk.get_by_role("button", name="Demander la correction").click()
    expect(desk.locator("#corrections")).to_contain_text("Titre du projet — À corriger")
    message = desk.locator("form#message")
    message.get_by_label("Message au porteur").fill("Voici le modèle de délibération.")
    message.get_by_label("Pièces jointes").set_input_files(str(tiny_pdf("modele.pdf")))
    message.get_by_role("button", name="Envoyer au porteur").click()
    expect(desk.locator("#messages")).to_contain_text("modele.pdf")
    check_page(desk, "agent-dossier-correction-piece-jointe")
    outbox_relay()

    # The porteur: the badge, the « À faire » list, the correction in place, the file.
    home = slow_page()
    login(home, porteur, f.PASSWORD)
    home.goto(f"/mes-dossiers/{case.pk}/")
    badge = home.locator("a.notif-link")
    expect(badge).to_contain_text("2 notifications non lues")
    todo = home.locator("#a-faire")
    expect(todo).to_contain_text("Le titre comporte une faute")
    check_page(home, "porteur-dossier-a-faire")
    with home.expect_download() as download:
        home.get_by_role("link", name="modele.pdf").click()
    assert download.value.suggested_filename == "modele.pdf"
    todo.get_by_label("Valeur corrigée").fill("Salle des fêtes de Lautrec")
    todo.get_by_role("button", name="Enregistrer la correction").click()
    expect(home.locator(".flash")).to_contain_text("Correction enregistrée")
    expect(home.locator("#a-faire")).to_have_count(0)
    expect(home.locator("main")).to_contain_text("Correction faite : Titre du projet")
    assert CorrectionRequest.objects.get(case=case).state == CorrectionState.CORRECTED
    assert MessageAttachment.objects.filter(filename="modele.pdf").count() == 1

    # « Mes notifications »: newest first, one marked read, then all.
    badge.click()
    expect(home.get_by_role("heading", level=1)).to_have_text("Mes notifications")
    items = home.locator("ol.notifications-list > li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Nouveau message")
    check_page(home, "porteur-mes-notifications")
    items.first.get_by_role("button", name="Marquer comme lue").click()
    expect(home.locator("a.notif-link")).to_contain_text("1 notification non lue")
    home.get_by_role("button", name="Tout marquer comme lu").click()
    expect(home.locator("main")).to_contain_text("Toutes vos notifications sont lues.")
    expect(home.locator(".notif-badge")).to_have_count(0)
    check_page(home, "porteur-notifications-lues")
