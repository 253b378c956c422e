"""RGPD export: a porteur downloads its own data, and nothing of another organisation."""

import json

import pytest

from cases import services
from notifications.channels import notify_in_app
from tests import factories as f
from tests.api.test_permission_matrix import _dossier

from .conftest import make_case, upload

pytestmark = pytest.mark.django_db


def test_porteur_export_contains_its_data_and_nothing_else(api):
    porteur = f.porteur(first_name="Léa", last_name="Martin")
    colleague = f.porteur(organisation=porteur.organisation)
    agent = f.agent(epci=porteur.organisation.epci)
    etat = f.funder_instructor("ETAT")
    case, fr, claim = _dossier(porteur, agent, etat, decided=True)
    idea = make_case(colleague, title="Idée du collègue")
    services.message_post(actor=agent, case=case, body="Pièce reçue, merci.")
    services.message_post(actor=agent, case=case, body="NOTE-INTERNE-SECRETE", internal=True)
    notify_in_app(user_id=porteur.pk, kind="test", message="Votre dossier avance", dedup_key="a")

    stranger = f.porteur()
    other_case = make_case(stranger, title="DOSSIER-ETRANGER")
    upload(stranger, other_case, name="rib-etranger.pdf")
    services.message_post(actor=agent, case=other_case, body="MESSAGE-ETRANGER")
    notify_in_app(user_id=stranger.pk, kind="test", message="NOTIF-ETRANGERE", dedup_key="b")
    notify_in_app(user_id=colleague.pk, kind="test", message="NOTIF-COLLEGUE", dedup_key="c")

    response = api(porteur).get("/api/v1/me/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="guichet-mes-donnees-')
    assert response["Cache-Control"] == "no-store"
    raw = response.content.decode()
    data = json.loads(raw)

    assert data["account"]["username"] == porteur.username
    assert data["account"]["first_name"] == "Léa"
    assert "password" not in data["account"] and porteur.password not in raw
    assert data["organisation"]["id"] == porteur.organisation_id
    assert {c["id"] for c in data["cases"]} == {case.pk, idea.pk}
    exported = next(c for c in data["cases"] if c["id"] == case.pk)
    assert exported["financing_plan"]["resources"][0] == {
        "kind": "scheme",
        "scheme": "DETR",
        "label": "",
        "amount": "40000.00",
    }
    (request,) = exported["funding_requests"]
    assert (request["id"], request["state"], request["amount_granted"]) == (
        fr.pk,
        "committed",
        "40000.00",
    )
    assert [c["id"] for c in request["payment_claims"]] == [claim.pk]
    assert [m["body"] for m in exported["messages"]] == ["Pièce reçue, merci."]
    assert {d["filename"] for d in exported["documents"]} and all(
        "sha256" in d and "file" not in d for d in exported["documents"]
    )
    transitions = [h["transition"] for h in exported["history"]]
    assert {"submit", "declare_complete", "grant", "commit"} <= set(transitions)
    assert [n["message"] for n in data["notifications"]] == ["Votre dossier avance"]

    for foreign in (
        "DOSSIER-ETRANGER",
        "rib-etranger",
        "MESSAGE-ETRANGER",
        "NOTIF-ETRANGERE",
        "NOTIF-COLLEGUE",
        "NOTE-INTERNE-SECRETE",
        stranger.username,
        stranger.organisation.name,
    ):
        assert foreign not in raw, foreign


def test_other_roles_export_their_account_without_dossiers(api):
    porteur = f.porteur()
    make_case(porteur)
    agent = f.agent()
    data = api(agent).get("/api/v1/me/export/").json()
    assert data["account"]["username"] == agent.username
    assert data["organisation"] is None and data["cases"] == []


def test_export_needs_authentication(api):
    response = api().get("/api/v1/me/export/")
    assert response.status_code == 401 and response.json()["detail"]
