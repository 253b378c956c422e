"""The territory's treasuries (issue 13): the agents' page ranks the communes by the depth
of their p80 trough per inhabitant, the director's digest names the five deepest."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import builders
from cases.models import Organisation, User
from cases.treasury import treasury_forecast
from notifications.digest import director_digest_lines
from tests import factories as f
from tests.notifications.test_alerts import small_commune

pytestmark = pytest.mark.django_db


def commune_with_works(name: str, population: int, cash: str | None, agent, etat):
    organisation = small_commune(population)
    Organisation.objects.filter(pk=organisation.pk).update(
        name=name,
        cash_at_hand=None if cash is None else Decimal(cash),
        cash_at_hand_on=None if cash is None else timezone.localdate(),
    )
    porteur = f.porteur(Organisation.objects.get(pk=organisation.pk))
    builders.dossier(
        porteur=porteur,
        stage="committed",
        agent=agent,
        instructor=etat,
        title=f"École de {name}",
        receipt="2026-03-02",
        complete="2026-03-10",
        granted="2026-04-15",
        committed="2026-04-20",
        amount="40000.00",
    )
    return Organisation.objects.get(pk=organisation.pk), porteur


@pytest.fixture
def territory():
    agent = f.agent()
    etat = f.funder_instructor("ETAT")
    # same works (120 000 € TTC, 40 000 € of DETR): the cash and the size make the order
    a, pa = commune_with_works("Commune A", 1000, "0.00", agent, etat)  # deepest per inh.
    b, _pb = commune_with_works("Commune B", 4000, "0.00", agent, etat)
    c, _pc = commune_with_works("Commune C", 500, "1000000.00", agent, etat)  # never < 0
    return {"agent": agent, "etat": etat, "a": a, "b": b, "c": c, "porteur": pa}


def names_in_order(html: str, names) -> list[str]:
    positions = sorted((html.index(n), n) for n in names if n in html)
    return [n for _p, n in positions]


def test_agents_see_the_communes_ranked_by_trough_per_inhabitant(client, territory):
    client.force_login(territory["agent"])
    response = client.get("/tresorerie/")
    assert response.status_code == 200
    html = response.content.decode()
    assert names_in_order(html, ["Commune A", "Commune B", "Commune C"]) == [
        "Commune A",
        "Commune B",
        "Commune C",
    ]
    low_a = treasury_forecast(territory["a"]).trough_p80.balance
    assert low_a < 0
    per = (-low_a / 1000).quantize(Decimal("0.01"))
    assert f"{per:,.2f}".replace(",", "\u202f").replace(".", ",") in html.replace("\xa0", "\u202f")
    assert "Jamais sous zéro" in html  # Commune C
    assert f'href="/organisations/{territory["a"].pk}/tresorerie/"' in html
    assert "<caption>" in html and 'scope="col"' in html


def test_who_sees_the_territory_page(client, territory):
    client.force_login(territory["porteur"])
    assert client.get("/tresorerie/")["Location"].endswith("/ma-tresorerie/")
    client.force_login(territory["etat"])
    assert client.get("/tresorerie/").status_code == 404
    from schemes.models import EPCI

    epci = EPCI.objects.exclude(pk=territory["a"].epci_id).first()
    partner = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=epci)
    client.force_login(partner)
    page = client.get("/tresorerie/")
    assert page.status_code == 200 and "Commune A" not in page.content.decode()


def test_the_directors_digest_names_the_deepest_troughs(territory):
    lines = director_digest_lines(timezone.localdate(), territory["a"].territory_id)
    treasury = [line for line in lines if line.startswith("Trésorerie — point bas")]
    assert len(treasury) == 2  # A and B go below zero, C never does
    assert treasury[0].startswith("Trésorerie — point bas n° 1 : Commune A, ")
    assert treasury[1].startswith("Trésorerie — point bas n° 2 : Commune B, ")
    assert re.search(r"par habitant, délais au 80e centile\)$", treasury[0])


def test_the_digest_lists_five_at_most(territory):
    for i in range(5):
        commune_with_works(f"Commune D{i}", 200 + i, "0.00", territory["agent"], territory["etat"])
    day = timezone.localdate() + dt.timedelta(days=0)
    lines = director_digest_lines(day, territory["a"].territory_id)
    assert len([line for line in lines if line.startswith("Trésorerie —")]) == 5
