"""The observatory page through the test client: access, figures, filters, charts, scope,
bounded queries. The known world is built in ``tests.cases.test_stats``."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from cases.models import User
from tests import factories as f
from tests.cases.test_stats import D, build_world, dossier, paid_claim, plan
from tests.engine import walk
from web import svg

pytestmark = pytest.mark.django_db

URL = "/observatoire/"
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS
    return build_world()


def page(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200, response.status_code
    return response, response.content.decode()


# ---------------------------------------------------------------- access


def test_anonymous_goes_to_login_porteur_and_funder_are_refused(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    client.force_login(world.porteur1)
    assert client.get(URL).status_code == 403
    client.force_login(f.funder_instructor("ETAT"))
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("role", ["agent", "director", "admin", "committee_member"])
def test_observers_may_see_it(client, role):
    user = f.UserFactory(role=role, college="public" if role == "committee_member" else "")
    response, html = page(client, user)
    assert "<h1>Observatoire des aides</h1>" in html
    assert 'aria-current="page">Observatoire</a>' in html


# ---------------------------------------------------------------- figures and charts


def test_figures_tables_and_charts(client, world):
    response, html = page(client, world.agent)
    summary = response.context["summary"]
    assert (summary["cases"], summary["filed"], summary["supported"]) == ("3", "2", "2")
    assert summary["requested"] == "60 000,00 €"
    assert summary["granted"] == "55 000,00 €"
    assert summary["paid"] == "31 000,00 €"
    # the same figures in accessible tables
    assert "<caption>Par EPCI — chiffres</caption>" in html
    assert f'<th scope="row">{escape(world.epci1.name)}</th>' in html
    assert '<th scope="col" class="num">Délai médian (jours)</th>' in html
    delays = re.search(r"<caption>Délais de paiement.*?</table>", html, re.S).group(0)
    assert re.search(
        r'<th scope="row">DETR</th>.*?<td class="num">3</td>'
        r'<td class="num">50,0</td><td class="num">66,0</td>',
        delays,
        re.S,
    )
    steps = re.search(r"<caption>Temps passé.*?</table>", html, re.S).group(0)
    assert re.search(
        r'<th scope="row">En instruction</th><td class="num">2</td>'
        r'<td class="num">20,0</td><td class="num">20,0</td>',
        steps,
    )
    # every chart is valid XML, an image named by its title and described by its desc
    charts = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(charts) == 7
    for chart in charts:
        root = ET.fromstring(chart)
        assert root.get("role") == "img"
        title, desc = root.find(f"{SVG_NS}title"), root.find(f"{SVG_NS}desc")
        assert title is not None and title.text and desc is not None and desc.text
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    # export links keep the filters
    assert 'href="/observatoire/export/epci.csv"' in html
    assert 'href="/observatoire/export/subventions-etalab.csv"' in html


def test_chart_helper_escapes_and_scales():
    markup = svg.bar_chart(
        uid="g",
        title="Montants <test> & co",
        desc="Description",
        labels=["A & B", "Un libellé très long qui dépasse la largeur prévue pour les libellés"],
        series=[("Demandé", [100, 50]), ("Accordé", [None, 25])],
        fmt=lambda v: f"{v} €",
    )
    root = ET.fromstring(str(markup))
    assert root.find(f"{SVG_NS}title").text == "Montants <test> & co"
    rects = root.findall(f"{SVG_NS}rect")
    widths = [float(r.get("width")) for r in rects if r.get("height") == str(svg.BAR_H)]
    assert widths == [400.0, 200.0, 100.0]  # the largest value fills the bar area
    texts = [t.text for t in root.findall(f"{SVG_NS}text")]
    assert "A & B" in texts and "—" in texts and "100 €" in texts
    assert any(t.endswith("…") for t in texts)


# ---------------------------------------------------------------- filters


def test_filters_apply_and_are_kept_in_the_form_and_the_links(client, world):
    response, html = page(client, world.agent, theme="Tourisme")
    assert response.context["summary"]["cases"] == "1"
    assert response.context["summary"]["paid"] == "6 000,00 €"
    assert '<option value="Tourisme" selected>' in html
    assert 'href="/observatoire/export/epci.csv?theme=Tourisme"' in html
    response, _ = page(client, world.agent, epci=world.epci1.siren, year="2025")
    assert response.context["summary"]["cases"] == "1"
    response, _ = page(client, world.agent, scheme="DEPT_TARN")
    assert response.context["summary"]["cases"] == "1"
    assert response.context["summary"]["requested"] == "0,00 €"


def test_a_bad_filter_is_announced_and_ignored(client, world):
    response, html = page(client, world.agent, year="1789", theme="Tourisme")
    assert 'class="error-summary" role="alert"' in html
    assert 'href="#id_year"' in html and "« 1789 »" in html
    assert 'id="id_year" aria-invalid="true" aria-describedby="id_year-aide id_year-erreur"' in html
    assert response.context["summary"]["cases"] == "1"  # the theme still applies
    assert '<option value="Tourisme" selected>' in html
    response, html = page(client, world.agent, epci="<script>")
    assert "<script>" not in html and "&lt;script&gt;" in html


# ---------------------------------------------------------------- scope


def test_epci_partner_sees_its_epci_only(client, world):
    partner = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=world.epci2)
    response, html = page(client, partner)
    assert response.context["summary"]["cases"] == "1"
    assert response.context["summary"]["paid"] == "6 000,00 €"
    assert escape(world.epci1.name) not in html and "les dossiers de votre EPCI" in html
    response, html = page(client, partner, epci=world.epci1.siren)
    assert "error-summary" in html and response.context["summary"]["cases"] == "1"


def test_committee_member_sees_leader_dossiers_only(client, world):
    response, _ = page(client, f.committee_member())
    assert response.context["summary"]["cases"] == "0"


# ---------------------------------------------------------------- bounded queries


def count_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_the_page_runs_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    before = count_queries(client, world.agent)
    assert before <= 20
    for n, theme in enumerate(["Culture", "Mobilité"]):
        porteur = f.porteur()
        _, fr = dossier(
            porteur=porteur,
            agent=world.agent,
            title=f"Projet {n}",
            theme=theme,
            plan=plan(80000, "DETR", 30000),
            created=D(2024, 3, 4),
            submitted=D(2024, 3, 11),
            complete=D(2024, 3, 18),
            granted=D(2024, 4, 15),
            amount="30000.00",
        )
        paid_claim(porteur, fr, "advance", "9000.00", D(2024, 5, 2), D(2024, 6, 3))
    client.force_login(world.agent)
    with django_assert_max_num_queries(before):
        response = client.get(URL)
    assert response.context["summary"]["cases"] == "5"
