"""The calls' rules in one place (``cases.calls``): who reads the agendas and who publishes,
the territory an agent's list covers (an administrator's: every one), a state's label and
a budget not set, the figures around a call's ranked list. The pages only show them."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from cases import calls as rules
from schemes.models import Territory
from tests import factories as f
from tests.web.test_calls_pages import make_call

pytestmark = pytest.mark.django_db


def test_who_reads_the_agendas_and_who_publishes():
    agent, director, member = f.agent(), f.UserFactory(role="director"), f.committee_member()
    porteur, admin = f.porteur(), f.UserFactory(role="admin")
    assert [rules.may_read_agenda(u) for u in (agent, director, member, porteur, admin)] == [
        True,
        True,
        True,
        False,
        True,
    ]
    assert [rules.may_create_call(u) for u in (agent, director, member, porteur, admin)] == [
        True,
        False,
        False,
        False,
        True,
    ]


def test_the_agents_list_labels_states_and_keeps_to_the_territory():
    make_call("Ouvert", -3, 20)
    make_call("À venir", 10, 60, envelope=None)
    home = make_call("Clos", -60, -1).territory_id
    other = Territory.objects.create(name="Autre PETR", slug="autre", siren="200000001")
    make_call("Ailleurs", -3, 20, territory_id=other.pk)
    rows = rules.territory_call_rows(f.agent(territory_id=home))
    assert {r["call"].title: (r["state"], r["state_code"]) for r in rows} == {
        "Ouvert": ("Ouvert", "open"),
        "À venir": ("À venir", "coming"),
        "Clos": ("Clos", "closed"),
    }
    assert {r["call"].title: r["budget"] for r in rows}["À venir"] == "—"
    admin = f.UserFactory(role="admin")
    assert "Ailleurs" in {r["call"].title for r in rules.territory_call_rows(admin)}
    public = {r["call"].title: r for r in rules.calls_public_rows(territory_id=home)}
    assert set(public) == {"Ouvert", "À venir"}  # closed ones are not public
    assert public["À venir"]["budget"] == "" and public["À venir"]["state"] == "À venir"


def test_the_figures_around_a_call_ranked_list():
    call = make_call("Tiers-lieux", -30, 10, envelope=Decimal("30000"))
    assert rules.call_agenda_figures(call, []) == {
        "state": "Ouvert",
        "budget": rules.euros(Decimal("30000")),
        "rows": [],
        "total": "",
        "over_budget": False,
    }
    ranked = [SimpleNamespace(amount_requested=Decimal("20000")) for _ in range(2)]
    figures = rules.call_agenda_figures(call, ranked)
    assert [r["rank"] for r in figures["rows"]] == [1, 2]
    assert figures["total"] == rules.euros(Decimal("40000")) and figures["over_budget"]
