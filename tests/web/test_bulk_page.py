"""The bulk page (issue 12, « 800 dossiers à accepter »): a selection made in the agents'
list or the funders' lists gets one transition or one message, after a confirmation, with
a per-item report."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Message, RequestState, User
from engine.transitions import transition_apply
from tests import factories as f

from .test_agent import commune_of_epci, day, make_case, org

pytestmark = pytest.mark.django_db

URL = "/traitement-groupe/"


def flat(page: str) -> str:
    """The page's text, tags removed, entities read, spaces (NBSP, narrow NBSP) normalised."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    return re.sub(r"\s+", " ", text)


def post(client, data, **files):
    return client.post(URL, {**data, **files})


def steps(client, selection: dict, action: str, values: dict, **files):
    """Choose the action, type the fields, check, then apply: the confirmation page and
    the report page."""
    base = {**selection, "action": action}
    response = post(client, {**base, "etape": "champs"})
    assert response.status_code == 200, flat(response.content.decode())[:600]
    confirm = post(client, {**base, **values, "etape": "verifier"}, **files)
    assert confirm.status_code == 200, flat(confirm.content.decode())[:1500]
    carried = dict(values)
    # the confirmation carries the column (a file's too) in a hidden textarea
    found = re.search(
        r'<textarea name="montants" hidden>(.*?)</textarea>', confirm.content.decode(), re.S
    )
    if found:
        carried["montants"] = html.unescape(found.group(1))
    report = post(client, {**base, **carried, "etape": "appliquer"})
    assert report.status_code == 200
    return confirm, report


# ---------------------------------------------------------------- the agents' list


def test_agent_selects_every_result_of_the_filter_across_pages(client, monkeypatch):
    monkeypatch.setattr("web.agent.PAGE_SIZE", 2)
    agent = f.agent(epci=commune_of_epci(0).epci)
    porteur = f.porteur(org(0))
    roads = [make_case(porteur, state="instruction", title=f"Voirie {i}") for i in range(3)]
    school = make_case(porteur, state="instruction", title="École")
    client.force_login(agent)
    html = client.get("/agent/?q=Voirie").content.decode()
    text = flat(html)
    assert "page 1 sur 2" in text
    assert "Sélectionner les 3 résultats du filtre (toutes les pages)" in text
    assert 'name="filtre" value="q=Voirie"' in html
    assert f'<label for="sel-dossier-{roads[-1].pk}" class="visually-hidden">' in html
    selection = {"source": "dossiers", "filtre": "q=Voirie", "tout_le_filtre": "1"}
    response = post(client, {**selection, "etape": "selection"})
    text = flat(response.content.decode())
    assert response.status_code == 200
    assert "3 dossiers sélectionnés, 3 demandes de financement" in text
    assert "Engager l'instruction (3 demandes dans un état qui le permet)" in text
    assert "Accorder" not in text  # a funder's transition, not the agent's
    assert "Envoyer un message au porteur (3 dossiers)" in text
    confirm, report = steps(client, selection, "start_instruction", {"date": day(5)})
    assert "3 demandes recevront l'action « Engager l'instruction »" in flat(
        confirm.content.decode()
    )
    text = flat(report.content.decode())
    assert "3 appliqués, 0 refusé" in text
    for case in roads:
        assert f'href="/dossiers/{case.pk}/"' in report.content.decode()
        assert case.funding_requests.get().state == RequestState.INSTRUCTING
    assert school.funding_requests.get().state != RequestState.INSTRUCTING


def test_ticked_dossiers_get_one_message_each(client):
    agent = f.agent(epci=commune_of_epci(0).epci)
    porteur = f.porteur(org(0))
    cases = [make_case(porteur, state="submitted") for _ in range(3)]
    client.force_login(agent)
    selection = {"source": "dossiers", "ids": [cases[0].pk, cases[2].pk]}
    confirm, report = steps(client, selection, "message", {"message": "Pièce à jour attendue."})
    assert "Le message sera envoyé sur 2 dossiers" in flat(confirm.content.decode())
    assert Message.objects.filter(body="Pièce à jour attendue.").count() == 2
    assert not Message.objects.filter(case=cases[1]).exists()
    assert "2 appliqués, 0 refusé" in flat(report.content.decode())


def test_a_filter_beyond_the_bound_is_refused_in_french(client, monkeypatch):
    monkeypatch.setattr("web.bulk_forms.MAX_ITEMS", 1)
    agent = f.agent(epci=commune_of_epci(0).epci)
    porteur = f.porteur(org(0))
    for _ in range(2):
        make_case(porteur, state="submitted")
    client.force_login(agent)
    response = post(
        client, {"source": "dossiers", "filtre": "", "tout_le_filtre": "1", "etape": "selection"}
    )
    assert response.status_code == 400
    assert "1 au plus par traitement" in flat(response.content.decode())


# ---------------------------------------------------------------- the funders' lists


@pytest.fixture
def instructing():
    """Four DETR requests (40 000,00 € requested each) in instruction at the État, and one
    request of the Région."""
    etat = f.funder_instructor("ETAT")
    porteur = f.porteur(org(0))
    requests = []
    for index in range(4):
        case = make_case(porteur, state="instruction", title=f"Projet {index}")
        fr = case.funding_requests.get(scheme__code="DETR")
        transition_apply(instance=fr, name="start_instruction", actor=etat, data={"date": day(40)})
        requests.append(fr)
    other = make_case(porteur, schemes=("DETR", "REGION_OCC"), state="instruction")
    region = other.funding_requests.get(scheme__code="REGION_OCC")
    return {"etat": etat, "porteur": porteur, "requests": requests, "region": region}


def test_grant_from_a_pasted_column_reports_a_bad_amount_and_a_refusal(client, instructing):
    etat, frs = instructing["etat"], instructing["requests"]
    client.force_login(etat)
    html = client.get("/financeurs/").content.decode()
    assert f'id="sel-attente-{frs[0].pk}" form="selection-attente"' in html
    ids = [fr.pk for fr in frs] + [instructing["region"].pk]  # not the État's: dropped
    selection = {"source": "demandes", "ids": ids}
    response = post(client, {**selection, "etape": "selection"})
    assert "4 demandes de financement sélectionnées" in flat(response.content.decode())
    refs = [fr.case.reference for fr in frs]
    column = "\n".join(
        [
            "Référence\tMontant accordé",  # a header, skipped
            f"{refs[0]}\t80 000,00",  # more than requested: the engine refuses it
            f"{refs[1]}\t35 000,00",  # French
            f"{frs[2].pk}\t30000.00",  # the request's number, plain
            f"{refs[3]}\tbeaucoup",  # unreadable
        ]
    )
    confirm, report = steps(client, selection, "grant", {"montants": column, "date": day(3)})
    text = flat(confirm.content.decode())
    assert "3 demandes recevront l'action « Accorder », pour un total de 145 000,00 €" in text
    assert "Sera refusée : Ligne 5 : Montant accordé en euros" in text
    assert frs[3].state == RequestState.INSTRUCTING
    text = flat(report.content.decode())
    assert "2 appliqués, 2 refusés" in text
    assert "dépasse le montant demandé" in text and "Ligne 5 : Montant accordé" in text
    assert "<caption>" in report.content.decode()
    for fr in frs:
        fr.refresh_from_db()
    states = {fr.pk: (fr.state, fr.amount_granted) for fr in frs}
    assert states[frs[0].pk] == (RequestState.INSTRUCTING, None)
    assert states[frs[1].pk] == (RequestState.GRANTED, Decimal("35000.00"))
    assert states[frs[2].pk] == (RequestState.GRANTED, Decimal("30000.00"))
    assert states[frs[3].pk] == (RequestState.INSTRUCTING, None)


def test_a_column_naming_an_unselected_dossier_is_shown_again_as_typed(client, instructing):
    etat, frs = instructing["etat"], instructing["requests"]
    client.force_login(etat)
    selection = {"source": "demandes", "ids": [frs[0].pk], "action": "grant"}
    typed = f"{frs[0].case.reference};12 000,00\nINCONNU-1;5 000,00"
    response = post(client, {**selection, "montants": typed, "date": day(3), "etape": "verifier"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "ligne 2 : « INCONNU-1 » n'est pas dans la sélection" in flat(html)
    assert "INCONNU-1;5 000,00</textarea>" in html and 'id="resume-erreurs"' in html
    frs[0].refresh_from_db()
    assert frs[0].state == RequestState.INSTRUCTING


def test_grant_amounts_from_uploaded_csv_and_xlsx(client, instructing):
    from openpyxl import Workbook

    etat, frs = instructing["etat"], instructing["requests"]
    client.force_login(etat)
    selection = {"source": "demandes", "ids": [frs[0].pk, frs[1].pk], "action": "grant"}
    csv_file = SimpleUploadedFile(
        "montants.csv",
        f"Référence;Montant\r\n{frs[0].case.reference};12 500,50\r\n{frs[1].pk};7000\r\n".encode(
            "utf-8-sig"
        ),
    )
    response = post(client, {**selection, "date": day(3), "etape": "verifier", "fichier": csv_file})
    assert response.status_code == 200
    assert "pour un total de 19 500,50 €" in flat(response.content.decode())
    book = Workbook()
    sheet = book.active
    sheet.append(["Référence", "Montant"])
    sheet.append([frs[0].case.reference, 12000.5])
    sheet.append([frs[1].pk, "8 000,00"])
    out = io.BytesIO()
    book.save(out)
    xlsx = SimpleUploadedFile("montants.xlsx", out.getvalue())
    response = post(client, {**selection, "date": day(3), "etape": "verifier", "fichier": xlsx})
    assert "pour un total de 20 000,50 €" in flat(response.content.decode())
    broken = SimpleUploadedFile("montants.xlsx", b"PK\x03\x04 not a workbook")
    response = post(
        client,
        {**selection, "montants": "gardé", "date": day(3), "etape": "verifier", "fichier": broken},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ce fichier XLSX est illisible" in html and ">gardé</textarea>" in html


def test_porteur_and_reader_roles_get_no_bulk_page(client, instructing):
    fr = instructing["requests"][0]
    director = f.UserFactory(role=User.Role.DIRECTOR)
    for user in (instructing["porteur"], f.porteur(), director):
        client.force_login(user)
        data = {"source": "demandes", "ids": [fr.pk], "etape": "selection"}
        assert client.post(URL, data).status_code == 404
        assert client.get(URL).status_code == 404
    html = client.get("/agent/").content.decode()  # the director reads the list
    assert "Dossiers" in html and "selection-dossiers" not in html
    fr.refresh_from_db()
    assert fr.state == RequestState.INSTRUCTING


def test_an_action_outside_the_role_is_not_applied(client, instructing):
    etat, frs = instructing["etat"], instructing["requests"]
    client.force_login(etat)
    data = {"source": "demandes", "ids": [frs[0].pk], "action": "submit_to_committee"}
    response = post(client, {**data, "pre_score": "10", "etape": "appliquer"})
    assert response.status_code == 400
    assert "Choisissez l'action à appliquer." in flat(response.content.decode())
    frs[0].refresh_from_db()
    assert frs[0].state == RequestState.INSTRUCTING
