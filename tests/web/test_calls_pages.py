"""Calls for projects in the pages (issue 14 point 5): the intake wizard's schemes step
offers the open calls of the territory (closing date, budget) and saves the one chosen;
the public page lists the open and coming calls with their criteria, dates and budget."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import builders
from schemes.models import Call, Scheme, Territory
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub("[\u202f\xa0]", " ", htmllib.unescape(response.content.decode()))


def make_call(title, opens, closes, scheme="DETR", **kw) -> Call:
    return Call.objects.create(
        scheme=Scheme.objects.get(code=scheme),
        territory_id=Territory.sole_id(),
        title=title,
        description=kw.pop("description", "Critère : sobriété énergétique."),
        opens_on=TODAY + opens * DAY,
        closes_on=TODAY + closes * DAY,
        envelope=kw.pop("envelope", Decimal("300000.00")),
        **kw,
    )


@pytest.fixture
def calls():
    return {
        "open": make_call("Écoles sobres", -3, 20),
        "coming": make_call("Tiers-lieux", 10, 60, scheme="LEADER", envelope=None),
        "closed": make_call("Voirie 2025", -60, -1),
        "hidden": make_call("Brouillon interne", -3, 20, active=False),
    }


def test_wizard_offers_the_open_calls_and_saves_the_choice(client, calls):
    porteur = f.porteur()
    client.force_login(porteur)
    case = builders.case_build(porteur=porteur, title="École", state="draft")
    url = f"/dossiers/{case.pk}/etapes/dispositifs/"
    page = html(client.get(url))
    assert '<label for="id_call">Appel à projets (facultatif)</label>' in page
    close = (TODAY + 20 * DAY).strftime("%d/%m/%Y")
    assert f"Écoles sobres — DETR — clôture le {close} — budget 300 000,00 €" in page
    for absent in ("Tiers-lieux", "Voirie 2025", "Brouillon interne"):
        assert absent not in page

    post = {"use_DETR": "on", "amount_DETR": "40000", "action": "save"}
    client.post(url, {**post, "call": str(calls["open"].pk)})
    case.refresh_from_db()
    assert case.call_id == calls["open"].pk
    assert f'<option value="{calls["open"].pk}" selected>' in html(client.get(url))

    # a closed call forged into the form is refused in French, the choice kept
    refused = html(client.post(url, {**post, "call": str(calls["closed"].pk)}))
    assert "Appel à projets clos" in refused
    case.refresh_from_db()
    assert case.call_id == calls["open"].pk

    client.post(url, {**post, "call": ""})
    case.refresh_from_db()
    assert case.call_id is None


def test_wizard_without_open_call_shows_no_select(client):
    porteur = f.porteur()
    client.force_login(porteur)
    case = builders.case_build(porteur=porteur, title="École", state="draft")
    assert 'name="call"' not in html(client.get(f"/dossiers/{case.pk}/etapes/dispositifs/"))


def test_public_page_lists_open_and_coming_calls(client, calls):
    page = html(client.get("/transparence/"))
    assert '<a href="#appels">Appels à projets</a>' in page
    section = page[page.index('id="appels"') : page.index('id="credits"')]
    assert "Écoles sobres" in section and "Tiers-lieux" in section
    assert "Voirie 2025" not in section and "Brouillon interne" not in section
    assert section.index("Écoles sobres") < section.index("Tiers-lieux")  # closes first
    opens = (TODAY - 3 * DAY).strftime("%d/%m/%Y")
    closes = (TODAY + 20 * DAY).strftime("%d/%m/%Y")
    assert f"{opens}</time> au <time" in section and f"{closes}</time> inclus" in section
    assert "300 000,00 €" in section and "non précisé" in section
    assert "Critère : sobriété énergétique." in section
    assert "Ouvert" in section and "À venir" in section


def test_public_page_escapes_the_criteria(client):
    make_call("<b>Appel</b>", -1, 5, description="<script>alert(1)</script>\nLigne 2")
    raw = client.get("/transparence/").content.decode()
    assert "<script>alert(1)</script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>Ligne 2" in raw


def test_public_page_without_calls(client):
    page = html(client.get("/transparence/"))
    assert "Aucun appel à projets ouvert ou à venir" in page
