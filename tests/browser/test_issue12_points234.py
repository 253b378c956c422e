"""Issue 12, points 2, 3 and 4 in a browser, at 1280 px and at 390 px, axe-core on every
page: the funder that decides is named and the banner follows a grant; the agent's row
says the funder must decide, the tasks name their scheme, the per-funder status line and
the « Échéance » column (sortable); a refused payment claim is shown at its form, in view
and focused, as typed, with the amount typed and the cumulative figure, and no draft."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cases import builders
from tests import factories as f
from tests.web.test_agent import commune_of_epci, day, make_case, org

from .conftest import _watch_csp, check_page, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WIDTHS = [1280, 390]


@pytest.fixture(params=WIDTHS, ids=["1280px", "390px"])
def at_width(request, browser, live_server):
    """make() → a new page (its own browser context) at the test's width."""
    width, contexts = request.param, []

    def make():
        context = browser.new_context(
            base_url=live_server.url, locale="fr-FR", viewport={"width": width, "height": 900}
        )
        contexts.append(context)
        page = context.new_page()
        _watch_csp(page)
        page.set_default_timeout(15000)
        page.width = width
        return page

    yield make
    for context in contexts:
        context.close()


def no_overflow(page) -> None:
    """The page itself never scrolls sideways (wide tables scroll in their own box)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.width, f"la page déborde : {width} px pour {page.width} px"


def in_view(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    height = page.evaluate("window.innerHeight")
    assert box is not None and 0 <= box["y"] < height, f"{selector} hors de l'écran : {box}"


def two_funders():
    agent = f.agent(epci=commune_of_epci(0).epci, first_name="Claire", last_name="Fabre")
    porteur = f.porteur(org(0))
    case = make_case(porteur, schemes=("DETR", "REGION_OCC"), state="instruction")
    prefecture, region = f.funder_instructor("ETAT"), f.funder_instructor("REGION_OCC")
    requests = {fr.scheme.code: fr for fr in case.funding_requests.select_related("scheme")}
    return case, porteur, agent, prefecture, region, requests


def instruct(fr, instructor):
    builders.request_acknowledge_on(fr, instructor=instructor, received=day(55))
    return builders.transition(
        builders.fresh(fr), "start_instruction", actor=instructor, date=day(45)
    )


def test_point2_the_deciding_funder_is_named_and_the_banner_follows_the_grant(at_width):
    case, porteur, _, prefecture, region, requests = two_funders()
    instruct(requests["DETR"], prefecture)
    instruct(requests["REGION_OCC"], region)
    builders.request_grant_on(builders.fresh(requests["DETR"]), instructor=prefecture)
    page = at_width()
    login(page, porteur, f.PASSWORD)
    page.goto(f"/mes-dossiers/{case.pk}/")
    section = page.locator("section[aria-labelledby='ou-en-est']")
    expect(section).to_contain_text(
        "Aide accordée : DETR. Encore en instruction : Région Occitanie"
    )
    expect(section).not_to_contain_text("chaque financeur instruit sa demande")
    row = section.locator("tbody tr").filter(has_text="rejet implicite")
    expect(row.first).to_contain_text("La Région Occitanie")
    expect(section).not_to_contain_text("L'agent référent du PETR")
    expect(page.locator("#etat-demandes")).to_contain_text(
        "DETR : accordée ; Région Occitanie : en instruction"
    )
    no_overflow(page)
    check_page(page, f"issue12-p2-porteur-{page.width}")


def test_point3_the_agent_sees_who_must_decide_and_dated_named_tasks(at_width):
    case, _, agent, prefecture, _, requests = two_funders()
    fr = instruct(requests["DETR"], prefecture)
    fr.refresh_from_db()
    page = at_width()
    login(page, agent, f.PASSWORD)
    page.goto(f"/dossiers/{case.pk}/")
    expect(page.locator("#etat-demandes")).to_contain_text(
        "DETR : en instruction ; Région Occitanie : demandée"
    )
    expect(page.locator("#demandes")).to_contain_text(
        "En attente de la décision de l'État (préfecture du Tarn) avant le "
        f"{fr.implicit_decision_on:%d/%m/%Y}"
    )
    expect(page.locator("#actions")).to_contain_text(
        "Engager l'instruction — demande REGION_OCC, Région Occitanie"
    )
    no_overflow(page)
    check_page(page, f"issue12-p3-agent-dossier-{page.width}")

    page.goto("/agent/")
    tasks = page.locator("section[aria-labelledby='h-taches']")
    expect(tasks.locator("thead")).to_contain_text("Échéance")
    expect(tasks).to_contain_text("Engager l'instruction — demande REGION_OCC, Région Occitanie")
    tasks.get_by_role("link", name="trier par échéance").click()
    expect(page).to_have_url(re.compile(r"tri=echeance"))
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("Échéance")
    no_overflow(page)
    check_page(page, f"issue12-p3-mes-taches-{page.width}")


ADVANCE_REFUSED = (
    "Avec cette avance de 30 000,00 €, les avances atteindraient 54 000,00 € "
    "(24 000,00 € déjà demandés), au-delà du plafond de 45 000,00 € (30 % de l'aide "
    "accordée) : 21 000,00 € au plus."
)


def test_point4_a_refused_claim_is_shown_at_its_form_in_view_and_keeps_what_was_typed(at_width):
    porteur = f.porteur(org(0))
    agent = f.agent(epci=commune_of_epci(0).epci)
    prefecture = f.funder_instructor("ETAT")
    case = builders.dossier(
        porteur=porteur,
        agent=agent,
        stage="committed",
        instructor=prefecture,
        receipt=day(200),
        complete=day(190),
        granted=day(150),
        committed=day(140),
        plan=builders.plan(400000, ("DETR", 150000)),
    )
    fr = case.funding_requests.get()
    first = builders.claim_build(porteur=porteur, funding_request=fr, kind="advance", amount=24000)
    builders.claim_file_on(first, porteur=porteur, filed=day(100))

    page = at_width()
    login(page, porteur, f.PASSWORD)
    page.goto(f"/mes-dossiers/{case.pk}/")
    form = page.locator("#demande-paiement")
    form.get_by_label("Type de demande").select_option("advance")
    form.get_by_label("Montant demandé (€)").fill("30 000,00")
    form.get_by_role("button", name="Déposer la demande").click()

    summary = page.locator("#demande-paiement #erreurs")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_focused()
    in_view(page, "#erreurs")
    assert ADVANCE_REFUSED in text(page, "#erreurs")
    expect(page.locator("#demande-paiement").get_by_label("Montant demandé (€)")).to_have_value(
        "30 000,00"
    )
    assert list(fr.claims.values_list("state", flat=True)) == ["filed"]  # no draft left
    expect(page.locator("#paiements")).not_to_contain_text("Brouillon")
    no_overflow(page)
    check_page(page, f"issue12-p4-demande-refusee-{page.width}")
