"""Issue 12 points 6 and 7 and the wizard's autosave, in a browser at 1280 and 390 px:
the theme chosen in the controlled list and the draft saved while typing, no funder code
on the pages, a chosen file attached by « Continuer », and every reason of a refused
deposit in one summary with links."""

import re

import pytest
from playwright.sync_api import expect

from cases import builders
from cases.models import Case
from tests import factories as f

from .conftest import check_page, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_wizard_autosave_names_and_all_errors_at_once(page, tiny_pdf, width):
    page.set_viewport_size({"width": width, "height": 900})
    f.agent()
    porteur = f.porteur()
    case = builders.case_build(
        porteur=porteur,
        title="Salle polyvalente",
        state="draft",
        plan={
            "expenses": [{"label": "Travaux", "amount": "100000", "tax": "HT", "eligible": True}],
            "resources": [
                {"kind": "scheme", "scheme": "DETR", "amount": "30000"},
                {"kind": "scheme", "scheme": "REGION_OCC", "amount": "10000"},
            ],
        },
    )
    login(page, porteur, f.PASSWORD)

    # the project: the theme from the list, the draft saved while typing
    page.goto(f"/dossiers/{case.pk}/etapes/projet/")
    page.get_by_label("Thème").select_option(label="Économie et emploi")
    page.get_by_label("Titre du projet").fill("Salle polyvalente et tiers-lieu")
    status = page.locator("[data-autosave-status]")
    expect(status).to_have_text(re.compile(r"Brouillon enregistré à \d\d:\d\d"))
    expect(status).to_have_attribute("aria-live", "polite")
    case.refresh_from_db()
    assert case.title == "Salle polyvalente et tiers-lieu" and case.theme == "Économie et emploi"
    check_page(page, "etape-1-autosave")
    page.reload()  # the returning porteur finds the draft
    expect(page.get_by_label("Titre du projet")).to_have_value("Salle polyvalente et tiers-lieu")

    # the schemes by their names, never a funder code
    page.goto(f"/dossiers/{case.pk}/etapes/dispositifs/")
    expect(page.get_by_label("Solliciter : Région Occitanie")).to_be_checked()
    assert "REGION_OCC" not in text(page)
    check_page(page, "etape-3-dispositifs")

    # a file chosen, then « Continuer » without « Joindre »: attached, not dropped
    page.goto(f"/dossiers/{case.pk}/etapes/pieces/")
    assert "REGION_OCC" not in text(page)
    first = page.locator("section.piece[id^='piece-']:not(#piece-other)").first
    kind = first.get_attribute("id").removeprefix("piece-")
    first.get_by_label("Fichier").set_input_files(str(tiny_pdf("devis.pdf")))
    check_page(page, "etape-4-pieces")
    page.get_by_role("button", name="Continuer vers le récapitulatif").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 5 sur 5")
    assert list(Case.objects.get(pk=case.pk).documents.values_list("kind", flat=True)) == [kind]

    # the deposit refused: the plan and the pieces in one summary, each with its link
    page.get_by_role("button", name="Déposer le dossier").click()
    summary = page.locator("#erreurs")
    expect(summary).to_be_focused()
    expect(
        summary.get_by_role("link", name=re.compile("^Plan de financement")).first
    ).to_be_visible()
    assert summary.get_by_role("link", name=re.compile("^Pièce manquante")).count() >= 2
    assert "REGION_OCC" not in text(page)
    check_page(page, "etape-5-erreurs")
    summary.get_by_role("link", name=re.compile("^Pièce manquante")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 4 sur 5")
