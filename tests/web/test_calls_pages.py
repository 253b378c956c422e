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
        territory_id=kw.pop("territory_id", None) or Territory.sole_id(),
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


# ---------------------------------------------------------------- the agents' pages


def _post_call(client, **fields):
    data = {
        "scheme": "DETR",
        "title": "Écoles sobres 2027",
        "description": "Critère : gain énergétique d'au moins 40 %.",
        "opens_on": (TODAY + 5 * DAY).isoformat(),
        "closes_on": (TODAY + 65 * DAY).isoformat(),
        "envelope": "250 000,00",
        "selection": "ranking",
    }
    return client.post("/appels-a-projets/", {**data, **fields})


def test_agent_publishes_a_call_from_the_list(client, calls):
    client.force_login(f.agent())
    page = html(client.get("/appels-a-projets/"))
    for title in ("Écoles sobres", "Tiers-lieux", "Voirie 2025", "Brouillon interne"):
        assert title in page  # closed and unpublished too: the territory's calls
    assert "Clos" in page and "(non publié)" in page
    assert '<label for="id_title">Intitulé</label>' in page

    response = _post_call(client, opens_on=(TODAY + 5 * DAY).strftime("%d/%m/%Y"))
    call = Call.objects.get(title="Écoles sobres 2027")
    assert response.status_code == 302 and response["Location"] == f"/appels-a-projets/{call.pk}/"
    assert call.envelope == Decimal("250000.00") and call.opens_on == TODAY + 5 * DAY
    assert call.territory_id == Territory.sole_id() and call.scheme.code == "DETR"
    detail = html(client.get(response["Location"]))
    assert "L'appel à projets « Écoles sobres 2027 » est publié." in detail
    assert "250 000,00 €" in detail and "gain énergétique" in detail
    assert "Aucune demande de cet appel n'est en attente du comité." in detail


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"closes_on": (TODAY - DAY).isoformat()},
            "La date de clôture ne peut précéder la date d'ouverture.",
        ),
        ({"opens_on": "31/02/2026"}, "La date d'ouverture doit être au format JJ/MM/AAAA."),
        ({"closes_on": ""}, "Indiquez la date de clôture."),
        ({"title": "  "}, "Indiquez l'intitulé."),
        ({"scheme": "NOPE\x00"}, "Dispositif inconnu"),
        ({"envelope": "beaucoup"}, "Budget de l'appel en euros"),
        ({"selection": "tirage"}, "mode de sélection"),
    ],
)
def test_bad_call_refused_in_french(client, fields, message):
    client.force_login(f.agent())
    response = _post_call(client, **fields)
    assert response.status_code == 400
    page = re.sub("[\u202f\xa0]", " ", htmllib.unescape(response.content.decode()))
    assert "L'appel n'a pas été publié" in page and message in page
    assert not Call.objects.exists()
    assert 'value="Écoles sobres 2027"' in page or fields.get("title")  # typed values kept


def test_porteur_and_funder_may_not_see_nor_create_calls(client, calls):
    for user in (f.porteur(), f.funder_instructor("ETAT")):
        client.force_login(user)
        assert client.get("/appels-a-projets/").status_code == 403
        assert _post_call(client).status_code == 403
        assert client.get(f"/appels-a-projets/{calls['open'].pk}/").status_code == 403
    assert Call.objects.filter(title="Écoles sobres 2027").count() == 0
    client.logout()
    assert client.get("/appels-a-projets/").status_code == 302  # to the login page


def test_committee_member_reads_but_does_not_publish(client, calls):
    client.force_login(f.committee_member())
    page = html(client.get("/appels-a-projets/"))
    assert "Écoles sobres" in page and "Publier un appel" not in page
    assert _post_call(client).status_code == 403
    assert not Call.objects.filter(title="Écoles sobres 2027").exists()


def test_call_of_another_territory_is_404(client):
    other = Territory.objects.create(name="Autre PETR", slug="autre", siren="200000001")
    foreign = make_call("Ailleurs", -1, 5, territory_id=other.pk)
    client.force_login(f.agent())
    assert client.get(f"/appels-a-projets/{foreign.pk}/").status_code == 404
    assert client.get("/appels-a-projets/99999999/").status_code == 404
    assert "Ailleurs" not in html(client.get("/appels-a-projets/"))


def test_call_page_shows_the_agenda_in_call_ranking_order(client, calls):
    from cases.calls import call_ranking
    from cases.models import FundingRequest, RequestState

    call = make_call("Tiers-lieux LEADER", -30, 10, scheme="LEADER", envelope=Decimal("50000"))
    porteur = f.porteur()
    for i, score in enumerate([Decimal("12.00"), None, Decimal("17.50"), Decimal("3.00")]):
        case = builders.case_build(porteur=porteur, title=f"Projet {'ABCD'[i]}", call=call.pk)
        FundingRequest.objects.create(
            case=case,
            scheme=call.scheme,
            amount_requested=Decimal("20000.00"),
            state=RequestState.AWAITING_COMMITTEE,
            pre_score=score,
        )
    elsewhere = builders.case_build(porteur=porteur, title="Projet hors appel")
    FundingRequest.objects.create(
        case=elsewhere,
        scheme=call.scheme,
        amount_requested=Decimal("1.00"),
        state=RequestState.AWAITING_COMMITTEE,
        pre_score=Decimal("99"),
    )
    client.force_login(f.agent())
    listing = html(client.get("/appels-a-projets/"))
    row = listing[listing.index("Tiers-lieux LEADER") :]
    assert re.search(r'<td class="num">4</td>\s*</tr>', row)  # four awaiting committee
    page = html(client.get(f"/appels-a-projets/{call.pk}/"))
    shown = re.findall(r"Projet [A-D]|Projet hors appel", page)
    assert (
        shown
        == [fr.case.title for fr in call_ranking(call)]
        == [
            "Projet C",
            "Projet A",
            "Projet D",
            "Projet B",
        ]
    )
    assert "80 000,00 €" in page  # the total asked
    assert "dépassent le budget de l'appel (50 000,00 €)" in page
    assert 'id="imprimer"' in page and "review.css" in page  # printable


def test_links_from_programmation_and_committee(client):
    client.force_login(f.agent())
    assert 'href="/appels-a-projets/"' in html(client.get("/programmation/"))
    assert 'href="/appels-a-projets/"' in html(client.get("/comite/"))
