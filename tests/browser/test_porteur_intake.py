"""Scenario 1: a commune files a DETR + LEADER + own-funds dossier through the web form,
from « Déposer un dossier » to the acknowledgement of receipt (PDF)."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseState
from tests import factories as f

from .conftest import check_page, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_porteur_files_detr_leader_dossier_and_downloads_the_acknowledgement(page, tiny_pdf):
    f.agent(first_name="Claire", last_name="Martin")  # the referent agent
    porteur = f.porteur(first_name="Jeanne", last_name="Maire")
    commune = porteur.organisation.commune

    login(page, porteur, f.PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mes dossiers")
    page.get_by_role("link", name="Déposer un nouveau dossier").first.click()

    # Step 1: the project. A missing title is refused, announced in the error summary.
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 1 sur 5")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    summary = page.locator("#erreurs")
    expect(summary).to_contain_text("Indiquez le titre du projet.")
    expect(summary).to_be_focused()
    assert not Case.objects.exists()
    page.get_by_label("Titre du projet").fill("Halle gourmande et marché couvert")
    page.get_by_label("Description").fill("Une halle pour les producteurs locaux.")
    page.get_by_label("Thème").select_option(label="Alimentation et transition")
    page.get_by_label("Filtrer les communes").fill(commune.name)
    expect(page.locator("#commune-filtre-compte")).to_contain_text("correspondante")
    page.get_by_label(commune.name, exact=True).check()
    check_page(page, "porteur-etape-1-projet")
    page.get_by_role("button", name="Enregistrer et continuer").click()

    # Step 2: the financing plan, totals computed while typing (plan.js).
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 2 sur 5")
    case = Case.objects.get()
    assert case.state == CaseState.DRAFT and case.title == "Halle gourmande et marché couvert"
    assert list(case.communes.values_list("insee", flat=True)) == [commune.insee]
    live = page.locator("#plan-live")
    expect(live).to_contain_text("Dépense éligible : 0,00 €")
    page.get_by_label("Libellé de la dépense n° 1").fill("Travaux de la halle")
    page.get_by_label("Montant de la dépense n° 1 en euros").fill("180 000")
    expect(live).to_contain_text("Dépense éligible : 180 000,00 €")
    page.get_by_label("Libellé de la dépense n° 2").fill("Maîtrise d'œuvre")
    page.get_by_label("Montant de la dépense n° 2 en euros").fill("20 000,555")  # a typo
    page.get_by_label("Financeur ou origine de la ressource n° 1").select_option("scheme:DETR")
    page.get_by_label("Montant de la ressource n° 1 en euros").fill("40 000")
    page.get_by_label("Financeur ou origine de la ressource n° 2").select_option("scheme:LEADER")
    page.get_by_label("Montant de la ressource n° 2 en euros").fill("40000")
    # the invalid amount does not count; the gap and the rates are live
    expect(live).to_contain_text("écart de 100 000,00 € à trouver")
    expect(page.locator("[data-resource-row] [data-rate]").first).to_have_text("22,22 %")
    # the server refuses the typo, on the spot, with its French message
    page.get_by_role("button", name="Ajouter une ligne de ressource").click()
    expect(summary).to_contain_text("Deux décimales au plus.")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Montant de la dépense n° 2 en euros")).to_have_value("20 000,555")
    assert case.expenses.count() == 0
    check_page(page, "porteur-etape-2-plan-erreur")
    # corrected amount, but still unbalanced: saved as a draft with the rule's message
    page.get_by_label("Montant de la dépense n° 2 en euros").fill("20000")
    page.get_by_role("button", name="Ajouter une ligne de ressource").click()
    expect(page.locator(".plan-summary")).to_contain_text("écart de 120 000,00 €")
    expect(page.locator(".plan-summary .violations")).to_contain_text("déséquilibré")
    expect(live).to_contain_text("écart de 120 000,00 € à trouver")
    # the third resource line: own funds balance the plan
    page.get_by_label("Financeur ou origine de la ressource n° 3").select_option("self")
    page.get_by_label("Montant de la ressource n° 3 en euros").fill("120 000")
    expect(live).to_contain_text("Ressources : 200 000,00 € — plan équilibré.")
    expect(live).to_contain_text("Aides publiques : 80 000,00 € (40 %)")
    page.get_by_role("button", name="Enregistrer et continuer").click()

    # Step 3: the schemes, already requested by the plan, with their rules.
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 3 sur 5")
    expect(
        page.get_by_label("Solliciter : Dotation d'équipement des territoires ruraux (DETR)")
    ).to_be_checked()
    expect(page.get_by_label("Solliciter : LEADER")).to_be_checked()
    expect(
        page.get_by_label("Solliciter : Dotation de soutien à l'investissement local (DSIL)")
    ).not_to_be_checked()
    expect(page.get_by_label("Montant demandé au titre de : LEADER")).to_have_value("40000,00")
    expect(page.locator(".plan-summary")).to_contain_text(
        "Le plan de financement respecte toutes les règles."
    )
    check_page(page, "porteur-etape-3-dispositifs")
    page.get_by_role("button", name="Enregistrer et continuer").click()

    # Step 4: the required pieces of both schemes, uploaded one by one.
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 4 sur 5")
    pieces = page.locator("section.piece[id^='piece-']:not(#piece-other)")
    count = pieces.count()
    assert count == 6, count  # DETR 4 + LEADER 4, two shared
    check_page(page, "porteur-etape-4-pieces")
    for i in range(count):
        section = page.locator("section.piece[id^='piece-']:not(#piece-other)").nth(i)
        expect(section).to_contain_text("Manquante")
        section.get_by_label("Fichier").set_input_files(str(tiny_pdf(f"piece-{i}.pdf")))
        section.get_by_role("button", name="Joindre").click()
        expect(page.locator(".flash")).to_contain_text(f"piece-{i}.pdf")
        expect(page.locator("section.piece").nth(i)).to_contain_text("Jointe")
    assert case.documents.count() == 6
    page.get_by_role("button", name="Continuer vers le récapitulatif").click()

    # Step 5: the summary, then filing.
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 5 sur 5")
    recap = text(page)
    assert "Halle gourmande et marché couvert" in recap and commune.name in recap
    assert "manquante" not in recap
    check_page(page, "porteur-etape-5-recapitulatif")
    page.get_by_role("button", name="Déposer le dossier").click()

    # The follow-up page: filed, with the acknowledgement of receipt.
    expect(page.locator(".flash")).to_contain_text("déposé le")
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED and case.receipt_date is not None
    assert page.url.endswith(f"/mes-dossiers/{case.pk}/")
    expect(page.locator(".case-meta .badge")).to_contain_text("Déposé")
    financeurs = text(page)
    assert "DETR" in financeurs and "LEADER" in financeurs and "Claire Martin" in financeurs
    check_page(page, "porteur-dossier-depose")
    # the desk's récépissé, and LEADER's acknowledgement at once (the desk instructs it)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le récépissé de dépôt (PDF)").click()
    pdf = download.value
    assert pdf.suggested_filename.startswith("recepisse-")
    with open(pdf.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Accusé de réception LEADER")).click()
    assert download.value.suggested_filename.endswith("-leader.pdf")

    # « Mes dossiers » lists it as filed.
    page.get_by_role("link", name="Mes dossiers").first.click()
    expect(page.locator("main")).to_contain_text("Halle gourmande et marché couvert")
    expect(page.locator("main")).to_contain_text("Déposé")
    check_page(page, "porteur-mes-dossiers")
