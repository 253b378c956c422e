"""The desk's récépissé and each request's CRPA acknowledgement (domain.md, revised rule 1;
ADR 009): the récépissé lists each funder with its own receipt; a request's
acknowledgement (R112-5) exists once its funder's receipt is known, at once for a scheme
the desk instructs; the porteur's page lists what is available; others get a 404."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from cases import builders
from cases.models import Case
from engine.calendar import period_end
from engine.transitions import transition_apply
from tests import factories as f

pytestmark = pytest.mark.django_db

RECEIPT = "2026-01-15"
PLAN = builders.plan(100000, ("LEADER", 40000), ("DETR", 20000), expense_label="Halle")


def text_of(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def page_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def filed():
    porteur = f.porteur()
    agent = f.agent(first_name="Claire", last_name="Martin")
    case = builders.dossier(porteur=porteur, stage="submitted", plan=PLAN, receipt=RECEIPT)
    Case.objects.filter(pk=case.pk).update(referent_agent=agent)
    requests = {fr.scheme.code: fr for fr in case.funding_requests.select_related("scheme")}
    return {"porteur": porteur, "agent": agent, "case": case, **requests}


def recepisse_url(case) -> str:
    return f"/dossiers/{case.pk}/accuse-reception.pdf"


def ack_url(case, fr) -> str:
    return f"/dossiers/{case.pk}/demandes/{fr.pk}/accuse-reception.pdf"


def test_recepisse_lists_each_funder_with_its_own_receipt(client, filed):
    case, detr, leader = filed["case"], filed["DETR"], filed["LEADER"]
    client.force_login(filed["porteur"])
    response = client.get(recepisse_url(case))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="recepisse-')
    text = text_of(response.content)
    assert "Récépissé de dépôt" in text and case.reference in text
    assert "Date de réception au guichet 15/01/2026" in text
    for fr in (detr, leader):
        assert fr.scheme.funder.name in text and fr.scheme.name in text
    # each funder's legal periods run from its own receipt
    assert "courent à compter de la réception de sa demande par ce financeur" in text
    assert "pas encore reçue, transmise le 15/01/2026" in text  # the préfecture's
    assert "reçue le 15/01/2026 (instruite par le guichet" in text  # the GAL's, at filing
    assert "40 000,00 €" in text and "20 000,00 €" in text and "60 000,00 €" in text
    # it is no CRPA acknowledgement of the requests: no implicit-decision date in it
    assert "ne vaut ni accusé de réception d'une demande par son financeur" in text
    assert "Décision implicite de rejet" not in text and "réputée rejetée le" not in text
    assert "Claire Martin" in text


def test_detr_acknowledgement_waits_for_the_prefectures_receipt(client, filed):
    case, detr = filed["case"], filed["DETR"]
    client.force_login(filed["porteur"])
    early = client.get(ack_url(case, detr))
    assert early.status_code == 404
    assert "n'a pas encore enregistré la réception de votre demande DETR" in page_of(early)
    page = page_of(client.get(f"/mes-dossiers/{case.pk}/"))
    assert recepisse_url(case) in page and ack_url(case, detr) not in page
    assert "Pas encore reçue par son financeur : DETR" in page

    prefecture = f.funder_instructor("ETAT")
    transition_apply(
        instance=detr, name="acknowledge", actor=prefecture, data={"date": "2026-01-20"}
    )
    page = page_of(client.get(f"/mes-dossiers/{case.pk}/"))
    assert ack_url(case, detr) in page and "Pas encore reçue" not in page
    assert f"Accusé de réception DETR — {detr.scheme.funder.name} (PDF)" in page

    response = client.get(ack_url(case, detr))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = text_of(response.content)
    s = detr.scheme
    received = dt.date(2026, 1, 20)
    complete_by = period_end(received, months=s.completeness_months)
    implicit = period_end(complete_by, months=s.implicit_decision_months)
    assert (complete_by, implicit) == (dt.date(2026, 4, 20), dt.date(2026, 6, 22))  # a Saturday
    assert f"Reçue par le financeur le {received:%d/%m/%Y}" in text
    assert f"Début d'éligibilité des dépenses {received:%d/%m/%Y}" in text
    assert f"au plus tard le {complete_by:%d/%m/%Y}" in text and "réputée complète" in text
    assert f"le {implicit:%d/%m/%Y}*, en l'absence de décision expresse" in text
    assert f"votre demande sera réputée rejetée le {implicit:%d/%m/%Y}" in text
    for mention in ("L112-3", "R112-5", "L231-4", "L114-5", "tribunal administratif"):
        assert mention in text, mention
    # the récépissé now gives the préfecture's receipt
    assert "reçue le 20/01/2026" in text_of(client.get(recepisse_url(case)).content)

    # once the préfecture declares it complete, its stored implicit date is stated
    transition_apply(
        instance=detr, name="declare_complete", actor=prefecture, data={"date": "2026-02-02"}
    )
    text = text_of(client.get(ack_url(case, detr)).content)
    assert "complète le 02/02/2026" in text
    assert "le 02/04/2026, en l'absence de décision expresse" in text  # stored, no « * »


def test_leader_acknowledgement_is_available_from_filing(client, filed):
    case, leader = filed["case"], filed["LEADER"]
    client.force_login(filed["porteur"])
    page = page_of(client.get(f"/mes-dossiers/{case.pk}/"))
    assert ack_url(case, leader) in page
    response = client.get(ack_url(case, leader))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('-leader.pdf"')
    text = text_of(response.content)
    s = leader.scheme
    assert "Reçue par le financeur le 15/01/2026" in text
    assert "Le guichet unique instruit lui-même cette demande" in text
    assert s.funder.name in text
    # LEADER is never deemed complete by time: the implicit date waits for completeness
    assert "est réputée complète à cette date" not in text
    assert f"{s.implicit_decision_months} mois après sa complétude" in text
    for mention in ("L112-3", "R112-5", "L231-4", "L114-5", "voies et délais de recours"):
        assert mention.lower() in text.lower(), mention


def test_staff_of_the_case_read_them_others_get_404(client, filed):
    case, detr, leader = filed["case"], filed["DETR"], filed["LEADER"]
    client.force_login(filed["agent"])
    assert client.get(recepisse_url(case)).status_code == 200
    assert client.get(ack_url(case, leader)).status_code == 200
    assert client.get(ack_url(case, detr)).status_code == 404  # not received yet

    intruder = f.porteur()
    client.force_login(intruder)
    for url in (recepisse_url(case), ack_url(case, leader), ack_url(case, detr)):
        assert client.get(url).status_code == 404, url
    # one's own dossier, with a request of another dossier in the URL
    mine = builders.dossier(porteur=intruder, stage="submitted", plan=PLAN, receipt=RECEIPT)
    assert client.get(f"/dossiers/{mine.pk}/accuse-reception.pdf").status_code == 200
    assert client.get(ack_url(mine, leader)).status_code == 404
    assert (
        client.get(f"/dossiers/{mine.pk}/demandes/999999/accuse-reception.pdf").status_code == 404
    )
    # a draft has neither
    draft = builders.dossier(porteur=intruder, stage="draft", plan=PLAN)
    assert client.get(recepisse_url(draft)).status_code == 404
    assert "Récépissé" not in page_of(client.get(f"/mes-dossiers/{draft.pk}/"))
