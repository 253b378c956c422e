"""One message to many dossiers: ``POST /api/v1/cases/bulk/message/`` (ADR 010). Each
dossier gets the message ``message_post`` writes one by one (its outbox event); a dossier
the caller may not see is refused 404 alone; a bad body is a French 400 as a whole."""

from __future__ import annotations

import pytest

from cases import builders
from cases.models import Message
from engine.models import OutboxEvent
from tests import factories as f

from .helpers import V1

URL = f"{V1}/cases/bulk/message/"


@pytest.mark.django_db
def test_one_message_on_many_dossiers_and_a_foreign_one_refused_alone(api):
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    mine = [
        builders.dossier(porteur=porteur, stage="submitted", title=f"Projet {i}") for i in range(3)
    ]
    foreign = builders.dossier(porteur=f.porteur(), stage="submitted", title="Ailleurs")
    ids = [mine[0].pk, 999999, mine[1].pk, mine[2].pk]
    body = {"items": [{"id": pk} for pk in ids], "body": "Pièces reçues, merci.", "internal": True}
    response = api(agent).post(URL, body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["applied"] == [c.pk for c in mine]
    assert response.data["refused"] == [
        {"id": 999999, "status": 404, "detail": "Dossier introuvable."}
    ]
    for case in mine:
        [message] = Message.objects.filter(case=case)
        assert (message.body, message.internal, message.author_id) == (
            "Pièces reçues, merci.",
            True,
            agent.pk,
        )
        assert OutboxEvent.objects.filter(aggregate_id=case.pk, topic="message.internal").exists()
    assert not Message.objects.filter(case=foreign).exists()
    # a porteur writes no internal note: refused per dossier with the service's message;
    # another organisation's dossier is not seen (404)
    body["items"][1] = {"id": foreign.pk}
    response = api(porteur).post(URL, body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["applied"] == []
    refused = {r["id"]: r for r in response.data["refused"]}
    assert refused[mine[0].pk] == {
        "id": mine[0].pk,
        "status": 403,
        "detail": "Un porteur n'écrit pas de note interne.",
    }
    assert refused[foreign.pk]["status"] == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, words",
    [
        ({"items": [{"id": 1}], "body": "  "}, "message"),
        ({"items": [{"id": 1}]}, "message"),
        ({"items": [], "body": "Bonjour"}, "Indiquez « items »"),
        ({"items": [{"id": 1}, {"id": 1}], "body": "Bonjour"}, "figure deux fois"),
        ({"items": [{"id": 1}], "body": "Bonjour", "internal": "peut-être"}, "vrai ou faux"),
        ({"items": [{"id": 1}], "body": "Bonjour", "to": "tous"}, "Champ inconnu"),
    ],
)
def test_a_bad_message_body_is_a_french_400_before_any_dossier(api, body, words):
    response = api(f.agent()).post(URL, body, format="json")
    assert response.status_code == 400, response.data
    assert words in response.data["detail"], response.data
    assert not Message.objects.exists()
