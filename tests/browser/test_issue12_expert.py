"""An outside expert's opinion by e-mail (issue 12): the agent invites the expert from the
dossier page, the expert opens the one-time link from the e-mail (no account) at 1280 px
and on a phone (390 px), reads the dossier, gives the opinion; the link is then spent and
the agent sees the opinion and its history line. axe-core on every page."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from cases.models import ExpertInvitation
from tests import factories as f

from .conftest import _watch_csp, check_page, login, text
from .test_documents_request import filed_case

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NO_OVERFLOW = """() => ({width: document.documentElement.clientWidth,
                         scroll: document.documentElement.scrollWidth})"""


def phone_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    _watch_csp(page)
    page.set_default_timeout(15000)
    return context, page


def test_the_expert_gives_an_opinion_through_a_one_time_link(new_page, browser, live_server):
    agent = f.agent(first_name="Claire", last_name="Martin")
    porteur = f.porteur()
    case = filed_case(porteur, "Halle couverte de Lisle-sur-Tarn")

    desk = new_page()
    login(desk, agent, f.PASSWORD)
    desk.goto(f"/dossiers/{case.pk}/")
    desk.locator("summary", has_text="Inviter un expert extérieur").click()
    form = desk.locator("#expert form")
    form.get_by_label("Nom de l'expert").fill("Jeanne Bastide")
    form.get_by_label("Adresse électronique").fill("pas-une-adresse")
    form.get_by_label("Question posée à l'expert").fill("La charpente bois est-elle adaptée ?")
    form.get_by_role("button", name="Envoyer l'invitation").click()
    expect(desk.locator("#expert")).to_contain_text("Adresse électronique invalide")
    assert not ExpertInvitation.objects.exists()
    form = desk.locator("#expert form")
    form.get_by_label("Adresse électronique").fill("jeanne.bastide@example.org")
    form.get_by_role("button", name="Envoyer l'invitation").click()
    expect(desk.locator("main")).to_contain_text("Invitation envoyée à Jeanne Bastide")
    check_page(desk, "expert-agent-invitation")

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["jeanne.bastide@example.org"]
    link = re.search(r"(/avis-expert/[^/\s]+/)", mail.outbox[0].body).group(1)

    # At 1280 px, with no account: the dossier read-only and the form.
    expert = new_page()
    expert.goto(link)
    expect(expert.get_by_role("heading", level=1)).to_contain_text("Votre avis sur le dossier")
    assert "Halle couverte de Lisle-sur-Tarn" in text(expert)
    assert "La charpente bois est-elle adaptée ?" in text(expert)
    check_page(expert, "expert-lien-1280")

    # On a phone: the same page fits, the expert answers (an empty answer is refused first).
    context, phone = phone_page(browser, live_server)
    try:
        phone.goto(link)
        layout = phone.evaluate(NO_OVERFLOW)
        assert layout["scroll"] <= layout["width"], layout
        check_page(phone, "expert-lien-390")
        phone.get_by_role("button", name="Envoyer mon avis").click()
        expect(phone.locator("main")).to_contain_text("Écrivez votre avis avant de l'envoyer.")
        check_page(phone, "expert-lien-erreur-390")
        phone.get_by_role("textbox", name="Votre avis").fill(
            "Charpente adaptée ; vérifier la portée de 14 m."
        )
        phone.get_by_label("Favorable", exact=True).check()
        phone.get_by_role("button", name="Envoyer mon avis").click()
        expect(phone.get_by_role("heading", level=1)).to_have_text(
            "Merci, votre avis est enregistré"
        )
        check_page(phone, "expert-merci-390")
        phone.goto(link)
        expect(phone.locator("main")).to_contain_text("Ce lien a déjà été utilisé")
        assert "Halle couverte" not in text(phone)
        layout = phone.evaluate(NO_OVERFLOW)
        assert layout["scroll"] <= layout["width"], layout
        check_page(phone, "expert-lien-utilise-390")
    finally:
        context.close()

    invitation = ExpertInvitation.objects.get()
    assert invitation.answer_value == "favourable" and invitation.answered_at

    desk.goto(f"/dossiers/{case.pk}/")
    main = text(desk)
    assert "Avis de Jeanne Bastide (expert extérieur) : favorable" in main
    assert "Avis de l'expert extérieur reçu : favorable" in main
    check_page(desk, "expert-agent-avis-recu")
