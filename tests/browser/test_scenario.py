"""A programming scenario in a browser, at 1280 px and 390 px (issue 14, point 3): an agent
creates a draft, marks a request « À financer » at a lower amount and another « À refuser »
with its motivation; the envelope's figures are recomputed as she types (scenario.js, no
reload); the État's instructor then opens the scenario and applies its decisions, which
the dossiers show."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from cases.models import FundingRequest, Scenario
from schemes.models import Envelope, Scheme
from tests import factories as f
from tests.cases.test_scenarios import instructing, requests_of, year_of

from .conftest import WIDTHS, check_page, fits, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def plain(page) -> str:
    return re.sub("[\u202f\xa0]", " ", text(page))


@pytest.mark.parametrize("width", WIDTHS)
def test_an_agent_drafts_a_scenario_live_and_the_funder_applies_it(page, width):
    cases = instructing(2)
    agent = f.agent(epci=cases[0].organisation.epci)
    detr = requests_of(cases, "DETR")
    year = year_of(detr[0])
    Envelope.objects.create(
        scheme=Scheme.objects.get(code="DETR"),
        territory_id=cases[0].territory_id,
        year=year,
        amount=Decimal("100000"),
    )
    page.set_viewport_size({"width": width, "height": 900})
    login(page, agent, f.PASSWORD)
    page.goto("/programmation/")
    page.get_by_role("link", name="scénarios de programmation").click()
    page.get_by_label("Intitulé").fill("Programmation de printemps")
    page.get_by_label("Année de programmation").fill(str(year))
    page.get_by_role("button", name="Créer le scénario").click()
    assert (
        page.get_by_role("heading", level=1)
        .inner_text()
        .startswith("Scénario « Programmation de printemps »")
    )
    first = cases[0].reference
    # live: the figures change without a reload
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.get_by_label(f"Montant retenu pour {first} (DETR)").fill("25 000,00")
        page.get_by_label(f"Choix pour {first} (DETR)").select_option("fund")
    page.wait_for_function(
        "document.querySelector('[data-scenario-status]').textContent.includes('recalculées')"
    )
    programmed = page.locator("#scenario-figures td[data-programmed]").first.inner_text()
    assert re.sub("[\u202f\xa0]", " ", programmed) == "25 000,00 €"
    second = cases[1].reference
    page.get_by_label(f"Motivation d'un refus pour {second} (DETR)").fill("Hors priorités.")
    page.get_by_label(f"Choix pour {second} (DETR)").select_option("refuse")
    page.get_by_role("button", name="Enregistrer et recalculer").click()
    body = plain(page)
    assert "2 choix enregistrés" in body and "75 000,00 €" in body  # left of 100 000
    fits(page, width)
    check_page(page, f"scenario-{width}", widths=(width,))
    scenario = Scenario.objects.get(title="Programmation de printemps")
    assert {fr.state for fr in FundingRequest.objects.filter(pk__in=[d.pk for d in detr])} == {
        "instructing"
    }

    page.context.clear_cookies()
    login(page, f.funder_instructor("ETAT"), f.PASSWORD)
    page.goto(f"/programmation/scenarios/{scenario.pk}/")
    page.get_by_role("button", name="Appliquer les 2 choix de mon financeur").click()
    body = plain(page)
    assert "2 décision(s) enregistrée(s)" in body
    fits(page, width)
    check_page(page, f"scenario-applique-{width}", widths=(width,))
    states = dict(
        FundingRequest.objects.filter(pk__in=[d.pk for d in detr]).values_list("pk", "state")
    )
    assert states == {detr[0].pk: "granted", detr[1].pk: "refused"}
    assert FundingRequest.objects.get(pk=detr[0].pk).amount_granted == Decimal("25000.00")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_cold_treasury_fills_in_after_the_page(page, width, monkeypatch):
    """Many porteurs not computed yet: the page shows its other figures at once and
    scenario.js fetches the treasury section, announced to screen readers."""
    from cases.services.scenarios import scenario_create, scenario_items_save
    from web import scenarios as views

    cases = instructing(2)
    agent = f.agent(epci=cases[0].organisation.epci)
    detr = requests_of(cases, "DETR")
    scenario = scenario_create(actor=agent, title="Froid", year=year_of(detr[0]))
    rows = [{"request": fr.pk, "choice": "fund", "amount": "", "motivation": ""} for fr in detr]
    scenario_items_save(actor=agent, scenario=scenario, rows=rows)
    monkeypatch.setattr(views, "TREASURY_INLINE", 0)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, agent, f.PASSWORD)
    page.goto(f"/programmation/scenarios/{scenario.pk}/")
    expect(page.locator("[data-scenario-status]")).to_contain_text("calculée")
    section = plain_of(page, "#scenario-treasury")
    assert "Point bas de trésorerie" in section and cases[0].organisation.name in section
    assert page.locator("[data-treasury-src]").count() == 0
    fits(page, width)
    check_page(page, f"scenario-tresorerie-{width}", widths=(width,))
    page.goto(f"/programmation/scenarios/{scenario.pk}/tresorerie/")  # without JavaScript's fetch
    assert "Point bas de trésorerie" in plain_of(page, "main")
    check_page(page, f"scenario-tresorerie-seule-{width}", widths=(width,))


def plain_of(page, selector: str) -> str:
    return re.sub("[\u202f\xa0]", " ", text(page, selector))
