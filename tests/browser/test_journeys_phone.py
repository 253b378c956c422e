"""The cross-role journeys of issue 12, on a phone (390 px) and on a desktop (1280 px): a
commune files a DETR + Région dossier through the wizard and reads it; its referent agent
declares it complete and starts the instruction of both requests; the préfecture's
instructor grants the DETR typing a French amount; the public reads /transparence/ and an
elected member the observatory. Every page on the way is checked at the journey's width:
no horizontal overflow, the lists of dossiers read as cards on a phone (« Échéance », « Qui
agit » on screen), axe-core, a screenshot in artifacts/screenshots/."""

from decimal import Decimal

import pytest
from django.apps import apps
from playwright.sync_api import expect

from cases.models import Case, CaseState, FundingRequest, RequestState
from tests import factories as f

from .conftest import DESKTOP, PHONE, _watch_csp, check_page, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def open_as(browser, live_server, width, user=None):
    """A browser context of its own at ``width``, logged in as ``user`` (or nobody)."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        viewport={"width": width, "height": 900},
        accept_downloads=True,
    )
    page = context.new_page()
    _watch_csp(page)
    page.set_default_timeout(15000)
    if user is not None:
        login(page, user, f.PASSWORD)
    return page


def act(page, transition: str, subject: str, **fields) -> None:
    """Open the action « transition » of ``subject`` on a staff page, fill it, confirm."""
    summary = page.locator(f"summary[data-transition='{transition}'][data-subject='{subject}']")
    summary.click()
    form = page.locator(f"form[data-transition='{transition}'][data-subject='{subject}']")
    for label, value in fields.items():
        form.get_by_label(label).fill(value)
    form.get_by_role("button", name="Confirmer").click()
    expect(page.locator(".flash")).to_contain_text("enregistré")


def file_dossier(page, commune, tiny_pdf, widths) -> Case:
    """The porteur's wizard, from « Déposer un nouveau dossier » to the filing."""
    check_page(page, "porteur-mes-dossiers-vide", widths)
    page.get_by_role("link", name="Déposer un nouveau dossier").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 1 sur 5")
    page.get_by_label("Titre du projet").fill("Maison de santé pluriprofessionnelle")
    page.get_by_label("Description").fill("Un cabinet de groupe pour trois médecins.")
    theme = page.get_by_label("Thème", exact=True)
    if theme.evaluate("e => e.tagName") == "SELECT":  # the controlled list (issue 12 point 6)
        theme.select_option(label="Santé et services")
    else:
        theme.fill("Santé et services")
    page.get_by_label("Filtrer les communes").fill(commune.name)
    page.get_by_label(commune.name, exact=True).check()
    check_page(page, "porteur-etape-1", widths)
    page.get_by_role("button", name="Enregistrer et continuer").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 2 sur 5")
    page.get_by_label("Libellé de la dépense n° 1").fill("Travaux du bâtiment")
    page.get_by_label("Montant de la dépense n° 1 en euros").fill("200 000")
    page.get_by_label("Financeur ou origine de la ressource n° 1").select_option("scheme:DETR")
    page.get_by_label("Montant de la ressource n° 1 en euros").fill("80 000")
    page.get_by_label("Financeur ou origine de la ressource n° 2").select_option(
        "scheme:REGION_OCC"
    )
    page.get_by_label("Montant de la ressource n° 2 en euros").fill("40 000,00")
    page.get_by_role("button", name="Ajouter une ligne de ressource").click()
    page.get_by_label("Financeur ou origine de la ressource n° 3").select_option("self")
    page.get_by_label("Montant de la ressource n° 3 en euros").fill("80 000")
    expect(page.locator("#plan-live")).to_contain_text("plan équilibré")
    check_page(page, "porteur-etape-2-plan", widths)
    page.get_by_role("button", name="Enregistrer et continuer").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 3 sur 5")
    check_page(page, "porteur-etape-3-dispositifs", widths)
    page.get_by_role("button", name="Enregistrer et continuer").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 4 sur 5")
    pieces = page.locator("section.piece[id^='piece-']:not(#piece-other)")
    count = pieces.count()
    assert count >= 4, count
    check_page(page, "porteur-etape-4-pieces", widths)
    for i in range(count):
        section = pieces.nth(i)
        section.get_by_label("Fichier").set_input_files(str(tiny_pdf(f"piece-{i}.pdf")))
        section.get_by_role("button", name="Joindre").click()
        expect(page.locator(".flash")).to_contain_text(f"piece-{i}.pdf")
    page.get_by_role("button", name="Continuer vers le récapitulatif").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("étape 5 sur 5")
    check_page(page, "porteur-etape-5-recapitulatif", widths)
    page.get_by_role("button", name="Déposer le dossier").click()
    expect(page.locator(".flash")).to_contain_text("déposé le")
    case = Case.objects.get()
    assert case.state == CaseState.SUBMITTED
    assert sorted(case.funding_requests.values_list("scheme__code", flat=True)) == [
        "DETR",
        "REGION_OCC",
    ]
    return case


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_journey(browser, live_server, width, tiny_pdf):
    widths = (width,)
    try:  # the controlled list of themes (issue 12 point 6), data the admin edits
        apps.get_model("cases", "Theme").objects.get_or_create(label="Santé et services")
    except LookupError:
        pass
    agent = f.agent(first_name="Claire", last_name="Martin")
    porteur = f.porteur(first_name="Jeanne", last_name="Maire")
    etat = f.funder_instructor("ETAT", first_name="Paul", last_name="Préfet")
    elected = f.committee_member(first_name="Anne", last_name="Élue")

    # The porteur files its dossier, then reads it.
    mairie = open_as(browser, live_server, width, porteur)
    case = file_dossier(mairie, porteur.organisation.commune, tiny_pdf, widths)
    expect(mairie.locator(".case-meta .badge")).to_contain_text("Déposé")
    assert "Claire Martin" in text(mairie)
    check_page(mairie, "porteur-dossier-depose", widths)
    mairie.get_by_role("link", name="Mes dossiers").first.click()
    row = mairie.locator("table.stack tbody tr").first
    expect(row).to_contain_text("Maison de santé pluriprofessionnelle")
    deadline = row.locator("td[data-label='Échéance']")
    expect(deadline).to_be_in_viewport()  # on a phone too: a card, not a scrolled table
    check_page(mairie, "porteur-mes-dossiers", widths)

    # The referent agent declares it complete and starts the instruction of both requests.
    desk = open_as(browser, live_server, width, agent)
    check_page(desk, "agent-dossiers-a-traiter", widths)
    desk.goto(f"/dossiers/{case.pk}/")
    check_page(desk, "agent-dossier-depose", widths)
    act(desk, "declare_complete", f"case-{case.pk}")
    case.refresh_from_db()
    assert case.complete_on is not None
    for fr in case.funding_requests.order_by("id"):
        act(desk, "start_instruction", f"fundingrequest-{fr.pk}")
    states = set(case.funding_requests.values_list("state", flat=True))
    assert states == {RequestState.INSTRUCTING}, states
    who = desk.locator("#h-echeances").locator("xpath=..").locator("td[data-label='Qui agit']")
    expect(who.first).to_be_visible()
    check_page(desk, "agent-dossier-en-instruction", widths)

    # The préfecture's instructor grants the DETR, typing the amount the French way.
    detr = case.funding_requests.get(scheme__code="DETR")
    prefecture = open_as(browser, live_server, width, etat)
    check_page(prefecture, "financeur-conference", widths)
    prefecture.goto(f"/dossiers/{case.pk}/")
    act(
        prefecture,
        "grant",
        f"fundingrequest-{detr.pk}",
        **{"Montant accordé": "80 000,00"},
    )
    detr = FundingRequest.objects.get(pk=detr.pk)
    assert detr.state == RequestState.GRANTED and detr.amount_granted == Decimal("80000.00")
    check_page(prefecture, "financeur-dossier-accorde", widths)

    # The porteur reads the decision on its dossier.
    mairie.goto(f"/mes-dossiers/{case.pk}/")
    granted = mairie.locator("section[aria-labelledby='financeurs'] td[data-label='Accordé']").first
    expect(granted).to_contain_text("80 000,00")
    check_page(mairie, "porteur-dossier-accorde", widths)

    # The public reads the transparency page; an elected member the observatory.
    public = open_as(browser, live_server, width)
    public.goto("/transparence/")
    expect(public.get_by_role("heading", level=1)).to_be_visible()
    check_page(public, "public-transparence", widths)
    reader = open_as(browser, live_server, width, elected)
    reader.goto("/observatoire/")
    expect(reader.get_by_role("heading", level=1)).to_be_visible()
    check_page(reader, "observatoire", widths)
    for p in (mairie, desk, prefecture, public, reader):
        p.context.close()
