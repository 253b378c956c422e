"""Scenario 5: keyboard only (Tab, Enter, Space; no mouse, no ``fill``, no ``click``).

A porteur logs in, opens a draft dossier, goes to the last step and tries to file it
without its pieces: the refusal's summary receives the focus. An agent, also by
keyboard, opens the « Demander des pièces » action, is refused (no piece listed), gets the
focus on the summary, then types the piece and confirms with Space."""

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseState
from tests import factories as f
from tests.engine import walk

from .conftest import check_page, focused, tab_to

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def keyboard_login(page, user):
    page.goto("/connexion/")
    tab_to(page, lambda e: e["id"] == "id_username")
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_password"
    page.keyboard.type(f.PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_keyboard_only_refused_submit_focuses_the_error_summary(new_page):
    agent = f.agent()
    porteur = f.porteur()
    draft, _ = walk.draft_case(walk.DETR_PLAN, porteur=porteur, title="Cantine scolaire")
    filed, _ = walk.submitted_case(walk.DETR_PLAN, title="Salle multisports")

    # The porteur, keyboard only.
    page = new_page()
    keyboard_login(page, porteur)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers")
    # the skip link is the first stop and leads to the content
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Aller au contenu"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "contenu"
    tab_to(page, lambda e: e["tag"] == "a" and e["text"] == "Cantine scolaire")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 1 sur 5")
    tab_to(page, lambda e: e["tag"] == "a" and "Récapitulatif et dépôt" in e["text"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 5 sur 5")
    tab_to(page, lambda e: e["tag"] == "button" and e["text"] == "Déposer le dossier")
    page.keyboard.press("Space")
    summary = page.locator("#erreurs")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Le dossier ne peut pas encore être déposé")
    expect(summary).to_contain_text("Délibération")  # a missing DETR piece, by name
    assert Case.objects.get(pk=draft.pk).state == CaseState.DRAFT
    check_page(page, "clavier-depot-refuse")
    # Tab continues from the summary into its own links (not back at the top); each
    # reason is a link to where it is fixed: Enter leads to the missing piece's card.
    page.keyboard.press("Tab")
    now = focused(page)
    assert now["tag"] == "a" and now["text"].startswith("Pièce manquante : Délibération")
    assert page.evaluate(
        "() => document.querySelector('#erreurs').contains(document.activeElement)"
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 4 sur 5")
    assert "#piece-" in page.url
    expect(page.locator(page.url[page.url.index("#") :])).to_contain_text("Délibération")

    # The agent, keyboard only, on the dossier page.
    desk = new_page()
    keyboard_login(desk, agent)
    desk.goto(f"/dossiers/{filed.pk}/")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Salle multisports")
    tab_to(desk, lambda e: e["tag"] == "summary" and e["text"] == "Demander des pièces")
    desk.keyboard.press("Enter")  # opens the action's form
    form = desk.locator('form[data-transition="request_documents"]')
    expect(form).to_be_visible()
    tab_to(desk, lambda e: e["tag"] == "button" and e["text"].startswith("Confirmer"))
    desk.keyboard.press("Enter")
    summary = desk.locator("#resume-erreurs")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Listez les pièces manquantes.")
    assert Case.objects.get(pk=filed.pk).state == CaseState.SUBMITTED
    check_page(desk, "clavier-action-refusee")
    # from the summary, the link leads back to the form, then to the pieces' text area
    tab_to(desk, lambda e: e["tag"] == "textarea" and e["name"] == "documents_other")
    desk.keyboard.type("Plan de masse")
    tab_to(desk, lambda e: e["tag"] == "button" and e["text"].startswith("Confirmer"))
    desk.keyboard.press("Space")
    expect(desk.locator(".badge").first).to_have_text("Incomplet")
    filed.refresh_from_db()
    assert filed.state == CaseState.INCOMPLETE and filed.missing_documents == ["Plan de masse"]
