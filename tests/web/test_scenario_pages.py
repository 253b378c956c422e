"""The scenario pages (issue 14, point 3): an agent creates a draft, marks requests and sees
the envelopes recomputed (a full page, or the figures alone for the live recalculation);
a bad row keeps what was typed and names the row; scenarios side by side; a funder's
instructor applies its own decisions; anyone else is refused."""

from __future__ import annotations

import html as htmllib
import re
from decimal import Decimal

import pytest

from cases.models import FundingRequest, Scenario, ScenarioItem
from cases.services import scenarios as services
from schemes.models import Envelope, Scheme
from tests import factories as f
from tests.cases.test_scenarios import instructing, requests_of, year_of

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub("[\u202f\xa0]", " ", htmllib.unescape(response.content.decode()))


@pytest.fixture
def world(client):
    cases = instructing(2)
    agent = f.agent(epci=cases[0].organisation.epci)
    detr = requests_of(cases, "DETR")
    year = year_of(detr[0])
    Envelope.objects.create(
        scheme=Scheme.objects.get(code="DETR"),
        territory_id=cases[0].territory_id,
        year=year,
        amount=Decimal("60000"),
    )
    client.force_login(agent)
    return cases, agent, detr, year


def rows(*entries) -> dict:
    data = {"request": [str(fr.pk) for fr, *_ in entries]}
    for fr, choice, amount, motivation in entries:
        data |= {
            f"choice-{fr.pk}": choice,
            f"amount-{fr.pk}": amount,
            f"motivation-{fr.pk}": motivation,
        }
    return data


def test_an_agent_drafts_a_scenario_and_sees_the_envelope_recomputed(client, world):
    cases, agent, detr, year = world
    response = client.post(
        "/programmation/scenarios/", {"title": "Variante sobre", "year": str(year)}
    )
    assert response.status_code == 302
    scenario = Scenario.objects.get(title="Variante sobre")
    url = f"/programmation/scenarios/{scenario.pk}/"
    page = text(client.get(url))
    assert "Demandes à programmer en" in page and cases[0].reference in page
    response = client.post(url, rows((detr[0], "fund", "35 000,00", ""), (detr[1], "fund", "", "")))
    assert response.status_code == 302
    page = text(client.get(url))
    # 35,000 + 40,000 on an envelope of 60,000
    assert "75 000,00 €" in page and "-15 000,00 €" in page and "(dépassement)" in page
    assert ScenarioItem.objects.filter(scenario=scenario).count() == 2
    assert {fr.state for fr in FundingRequest.objects.filter(pk__in=[d.pk for d in detr])} == {
        "instructing"
    }
    live = client.post(url, rows((detr[1], "postpone", "", "")), headers={"X-Scenario-Live": "1"})
    assert live.status_code == 200
    fragment = text(live)
    assert "<html" not in fragment and "35 000,00 €" in fragment and "dépassement" not in fragment


def test_a_bad_row_saves_nothing_keeps_what_was_typed_and_names_the_row(client, world):
    cases, agent, detr, year = world
    scenario = Scenario.objects.create(
        territory_id=cases[0].territory_id, year=year, title="S", created_by=agent
    )
    url = f"/programmation/scenarios/{scenario.pk}/"
    response = client.post(
        url,
        rows((detr[0], "fund", "99 999 999,00", ""), (detr[1], "refuse", "", "")),
    )
    assert response.status_code == 400
    page = text(response)
    assert "Rien n'a été enregistré" in page and "dépasse le montant demandé" in page
    assert "motivation du refus" in page and 'value="99 999 999,00"' in page
    assert not ScenarioItem.objects.exists()
    huge = client.post(url, {"request": [str(i) for i in range(services.MAX_ROWS + 1)]})
    assert huge.status_code == 400 and "Trop de lignes" in text(huge)
    bad_year = client.post("/programmation/scenarios/", {"title": "X", "year": "1e9"})
    assert bad_year.status_code == 400 and "année de programmation" in text(bad_year)


def test_scenarios_side_by_side(client, world):
    cases, agent, detr, year = world
    a = Scenario.objects.create(territory_id=cases[0].territory_id, year=year, title="A")
    b = Scenario.objects.create(territory_id=cases[0].territory_id, year=year, title="B")
    client.post(f"/programmation/scenarios/{a.pk}/", rows((detr[0], "fund", "", "")))
    client.post(
        f"/programmation/scenarios/{b.pk}/",
        rows((detr[0], "fund", "", ""), (detr[1], "fund", "30000", "")),
    )
    page = text(client.get(f"/programmation/scenarios/comparer/?s={a.pk}&s={b.pk}&s=x"))
    assert "2 scénarios côte à côte" in page
    assert "20 000,00 €" in page  # A leaves 60,000 − 40,000
    assert "-10 000,00 €" in page  # B: 60,000 − 70,000


def test_the_funder_applies_its_decisions_and_others_are_refused(client, world):
    cases, agent, detr, year = world
    scenario = Scenario.objects.create(territory_id=cases[0].territory_id, year=year, title="S")
    client.post(f"/programmation/scenarios/{scenario.pk}/", rows((detr[0], "fund", "", "")))
    url = f"/programmation/scenarios/{scenario.pk}/"
    for outsider in (f.porteur(), f.committee_member()):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert client.post(url + "appliquer/").status_code == 404
    client.force_login(f.funder_instructor("REGION_OCC"))
    assert client.get(url).status_code == 404  # no request of its funder
    client.force_login(f.funder_instructor("ETAT"))
    page = text(client.get(url))
    assert "Appliquer les 1 choix de mon financeur" in page
    assert "Demandes à programmer" not in page  # drafting is the agents'
    response = client.post(url + "appliquer/", follow=True)
    assert "1 décision(s) enregistrée(s)" in text(response)
    assert FundingRequest.objects.get(pk=detr[0].pk).state == "granted"
    client.force_login(agent)  # applied as a whole: the draft no longer changes
    response = client.post(url, rows((detr[1], "fund", "", "")))
    assert response.status_code == 400 and "ne se modifie plus" in text(response)
    assert not ScenarioItem.objects.filter(funding_request=detr[1]).exists()


def test_the_scenario_choices_are_listed_by_pages(client, world, monkeypatch):
    from web import scenarios as views

    cases, agent, detr, year = world
    scenario = Scenario.objects.create(
        territory_id=cases[0].territory_id, year=year, title="S", created_by=agent
    )
    url = f"/programmation/scenarios/{scenario.pk}/"
    every = requests_of(cases)
    client.post(url, rows(*[(fr, "postpone", "", "") for fr in every]))
    monkeypatch.setattr(views, "ITEMS_PER_PAGE", 3)
    first = text(client.get(url))
    assert f"Les {len(every)} demandes du scénario (page 1 sur 2)" in first
    assert "Choix suivants" in first and "Choix précédents" not in first
    second = text(client.get(url + "?choix=2"))
    assert "(page 2 sur 2)" in second and "Choix précédents" in second
    recap = lambda page: page.split('id="h-choix"')[1].split("</table>")[0]  # noqa: E731
    assert recap(first).count("À reporter") + recap(second).count("À reporter") == len(every)
    assert client.get(url + "?choix=x%00").status_code == 200  # a bad page number: page 1


def test_a_cold_treasury_comes_by_its_own_request_then_stays_on_the_page(
    client, world, monkeypatch
):
    from web import scenarios as views

    cases, agent, detr, year = world
    scenario = Scenario.objects.create(
        territory_id=cases[0].territory_id, year=year, title="S", created_by=agent
    )
    url = f"/programmation/scenarios/{scenario.pk}/"
    client.post(url, rows((detr[0], "fund", "", ""), (detr[1], "fund", "", "")))
    monkeypatch.setattr(views, "TREASURY_INLINE", 0)  # any porteur not kept is « many »
    caption = "Point bas de trésorerie"
    page = text(client.get(url))
    treasury_url = f"{url}tresorerie/"
    assert f'data-treasury-src="{treasury_url}"' in page and caption not in page
    assert "80 000,00 €" in page  # the other figures at once: the envelope with the two grants
    section = text(client.get(treasury_url, headers={"X-Scenario-Live": "1"}))
    assert "<html" not in section and caption in section
    assert cases[0].organisation.name in section and "data-treasury-src" not in section
    alone = text(client.get(treasury_url))
    assert "<html" in alone and caption in alone and "Retour au scénario" in alone
    page = text(client.get(url))  # computed once: kept, on the page itself
    assert caption in page and "data-treasury-src" not in page
    live = text(  # a live change of a cold lot: the figures at once, the treasury after
        client.post(url, rows((detr[0], "postpone", "", "")), headers={"X-Scenario-Live": "1"})
    )
    assert "data-treasury-src" in live and caption not in live
    client.force_login(cases[0].created_by)  # the porteur: not its page
    assert client.get(treasury_url).status_code == 404
    assert client.post(treasury_url).status_code == 405


def test_side_by_side_a_cold_treasury_is_left_to_its_page(client, world, monkeypatch):
    from web import scenarios as views

    cases, agent, detr, year = world
    a = Scenario.objects.create(territory_id=cases[0].territory_id, year=year, title="A")
    client.post(f"/programmation/scenarios/{a.pk}/", rows((detr[0], "fund", "", "")))
    monkeypatch.setattr(views, "TREASURY_INLINE", 0)
    compare = f"/programmation/scenarios/comparer/?s={a.pk}"
    row = lambda page: page.split("passe sous le seuil</th>")[1].split("</tr>")[0]  # noqa: E731
    cold = text(client.get(compare))
    assert f'href="/programmation/scenarios/{a.pk}/tresorerie/"' in row(cold)
    assert "à calculer" in row(cold)
    assert client.get(f"/programmation/scenarios/{a.pk}/tresorerie/").status_code == 200
    kept = row(text(client.get(compare)))
    assert "à calculer" not in kept and re.search(r'class="num">\d+</td>', kept)
