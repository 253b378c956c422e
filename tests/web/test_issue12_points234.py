"""Issue 12, points 2, 3 and 4, through the pages: who acts (the funder that decides is
named), texts following the dossier's actual stage, a balance closing the claims, the
agent's row saying the funder must now decide, tasks naming their scheme, the per-funder
status line, the « Échéance » column of « Mes tâches », refused payment claims shown at
their form with nothing typed lost and no draft left behind, and the advance ceiling
message with the amount typed."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import pytest
from django.utils import timezone

from cases import builders
from cases.models import CaseState
from engine.models import Deadline
from tests import factories as f
from tests.web.test_agent import commune_of_epci, day, make_case, org

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def text(response) -> str:
    body = re.sub(r"<script.*?</script>", "", response.content.decode(), flags=re.S)
    body = htmllib.unescape(re.sub(r"<[^>]+>", " ", body))
    return re.sub(r"\s+", " ", body.replace("\u202f", " ").replace("\xa0", " "))


def two_funders(state="instruction"):
    """A DETR + Région dossier of a commune, its referent agent, and both instructors."""
    agent = f.agent(epci=commune_of_epci(0).epci)
    porteur = f.porteur(org(0))
    case = make_case(porteur, schemes=("DETR", "REGION_OCC"), state=state)
    prefecture, region = f.funder_instructor("ETAT"), f.funder_instructor("REGION_OCC")
    requests = {fr.scheme.code: fr for fr in case.funding_requests.select_related("scheme")}
    return case, porteur, agent, prefecture, region, requests


def instruct(fr, instructor, started=None):
    builders.request_acknowledge_on(fr, instructor=instructor, received=day(55))
    return builders.transition(
        builders.fresh(fr), "start_instruction", actor=instructor, date=started or day(45)
    )


# ---------------------------------------------------------------- point 2


def test_the_funder_that_decides_is_named_not_the_referent_agent(client):
    case, porteur, agent, prefecture, region, requests = two_funders()
    instruct(requests["DETR"], prefecture)
    instruct(requests["REGION_OCC"], region)
    implicit = Deadline.objects.filter(aggregate_id=case.pk, kind="implicit_decision")
    assert implicit.count() == 2 and {d.party for d in implicit} == {"agent"}

    client.force_login(porteur)
    page = text(client.get(f"/mes-dossiers/{case.pk}/"))
    table = page[page.index("Qui doit agir, et avant quand") :]
    assert "La Région Occitanie Décider avant le rejet implicite" in table
    assert "demande Région Occitanie" in table
    assert "L'État (préfecture du Tarn) Décider avant le rejet implicite" in table
    assert "L'agent référent du PETR Décider avant le rejet implicite" not in table

    client.force_login(agent)
    page = text(client.get(f"/dossiers/{case.pk}/"))
    echeances = page[page.index("Échéances du dossier, de ses demandes") :]
    assert "Demande REGION_OCC La Région Occitanie" in echeances
    assert "Demande DETR L'État (préfecture du Tarn)" in echeances


def test_the_banner_follows_a_grant_already_notified(client):
    case, porteur, agent, prefecture, region, requests = two_funders()
    client.force_login(porteur)
    instruct(requests["DETR"], prefecture)
    instruct(requests["REGION_OCC"], region)
    before = text(client.get(f"/mes-dossiers/{case.pk}/"))
    assert "chaque financeur instruit sa demande" in before
    builders.request_grant_on(builders.fresh(requests["DETR"]), instructor=prefecture)
    after = text(client.get(f"/mes-dossiers/{case.pk}/"))
    assert "chaque financeur instruit sa demande" not in after
    assert "Aide accordée : DETR. Encore en instruction : Région Occitanie" in after


def _completed_with_balance(client):
    porteur = f.porteur(org(0))
    agent = f.agent(epci=commune_of_epci(0).epci)
    prefecture = f.funder_instructor("ETAT")
    case = builders.dossier(
        porteur=porteur,
        agent=agent,
        stage="committed",
        instructor=prefecture,
        receipt=day(200),
        complete=day(190),
        granted=day(150),
        committed=day(140),
    )
    fr = case.funding_requests.get()
    builders.transition(case, "start_works", actor=porteur, date=day(100))
    builders.transition(builders.fresh(case), "complete_works", actor=porteur, date=day(20))
    return builders.fresh(case), porteur, prefecture, fr


def test_a_filed_balance_closes_the_claims_and_the_banner_says_so(client):
    case, porteur, _, fr = _completed_with_balance(client)
    assert case.state == CaseState.COMPLETED
    client.force_login(porteur)
    page = text(client.get(f"/mes-dossiers/{case.pk}/"))
    assert "déposez les demandes de solde" in page and "Nouvelle demande de paiement" in page
    response = client.post(
        f"/mes-dossiers/{case.pk}/paiement/",
        {"funding_request": fr.pk, "kind": "balance", "amount": "40000", "action": "file"},
    )
    assert response.status_code == 302
    assert fr.claims.get().state == "filed"
    page = text(client.get(f"/mes-dossiers/{case.pk}/"))
    assert "déposez les demandes de solde" not in page
    assert "les demandes de solde sont déposées" in page
    assert "Nouvelle demande de paiement" not in page  # no « Solde » offered again
    # and a claim posted anyway is refused without a 500
    late = client.post(
        f"/mes-dossiers/{case.pk}/paiement/",
        {"funding_request": fr.pk, "kind": "installment", "amount": "10", "action": "file"},
    )
    assert late.status_code == 400 and fr.claims.count() == 1


# ---------------------------------------------------------------- point 3


def test_after_start_instruction_the_row_says_the_funder_must_decide(client):
    case, porteur, agent, prefecture, region, requests = two_funders()
    fr = instruct(requests["DETR"], prefecture)
    fr.refresh_from_db()
    assert fr.implicit_decision_on is not None
    client.force_login(agent)
    page = text(client.get(f"/dossiers/{case.pk}/"))
    waiting = (
        "En attente de la décision de l'État (préfecture du Tarn) avant le "
        f"{fr.implicit_decision_on:%d/%m/%Y}"
    )
    assert waiting in page
    # the per-funder status line: the dossier is « En instruction », one request is not
    assert "Demandes : DETR : en instruction ; Région Occitanie : demandée" in page
    assert "de la Région Occitanie" not in page  # not instructed: nothing to wait for yet
    client.force_login(porteur)
    porteur_page = text(client.get(f"/mes-dossiers/{case.pk}/"))
    assert waiting in porteur_page
    assert "DETR : en instruction ; Région Occitanie : demandée" in porteur_page


def test_two_tasks_of_one_dossier_name_their_scheme_and_funder(client):
    case, porteur, agent, prefecture, region, requests = two_funders()
    client.force_login(agent)
    detr = "Engager l'instruction — demande DETR, État (préfecture du Tarn)"
    region_task = "Engager l'instruction — demande REGION_OCC, Région Occitanie"
    inbox = text(client.get("/agent/"))
    case_page = text(client.get(f"/dossiers/{case.pk}/"))
    for page in (inbox, case_page):
        assert detr in page and region_task in page


def test_my_tasks_have_a_due_date_sortable_and_overdue_in_words(client):
    agent = f.agent(epci=commune_of_epci(0).epci)
    late = make_case(f.porteur(org(0)), state="submitted", title="Dossier en retard")
    soon = make_case(f.porteur(org(0)), state="submitted", title="Dossier récent")
    Deadline.objects.filter(aggregate_id=late.pk, kind="completeness").update(
        due_on=TODAY - dt.timedelta(days=3)
    )
    Deadline.objects.filter(aggregate_id=soon.pk, kind="completeness").update(
        due_on=TODAY + dt.timedelta(days=10)
    )
    idea = make_case(f.porteur(org(0)), state="draft", title="Dossier sans échéance")
    assert idea.state == "draft"
    client.force_login(agent)
    page = text(client.get("/agent/"))
    tasks = page[page.index("Mes tâches") : page.index("File de mon EPCI")]
    assert "Échéance" in tasks
    late_due = f"{TODAY - dt.timedelta(days=3):%d/%m/%Y} En retard : dépassée depuis 3 jours"
    assert late_due in tasks
    assert f"{TODAY + dt.timedelta(days=10):%d/%m/%Y} (dans 10 jours)" in tasks
    # default order: oldest task first (the late one was created first); by due date on
    # demand, the soonest first
    by_due = text(client.get("/agent/?tri=echeance"))
    tasks = by_due[by_due.index("Mes tâches") : by_due.index("File de mon EPCI")]
    assert tasks.index("Dossier en retard") < tasks.index("Dossier récent")
    Deadline.objects.filter(aggregate_id=late.pk, kind="completeness").update(
        due_on=TODAY + dt.timedelta(days=30)
    )
    by_due = text(client.get("/agent/?tri=echeance"))
    tasks = by_due[by_due.index("Mes tâches") : by_due.index("File de mon EPCI")]
    assert tasks.index("Dossier récent") < tasks.index("Dossier en retard")
    assert 'aria-sort="ascending"' in client.get("/agent/?tri=echeance").content.decode()
    assert client.get("/agent/?tri=n%27importe").status_code == 200


# ---------------------------------------------------------------- point 4

ADVANCE_REFUSED = (
    "Avec cette avance de 30 000,00 €, les avances atteindraient 54 000,00 € "
    "(24 000,00 € déjà demandés), au-delà du plafond de 45 000,00 € (30 % de l'aide "
    "accordée) : 21 000,00 € au plus."
)


def _committed():
    """A DETR grant of 150 000 € (advances up to 30 %: 45 000 €), 24 000 € advanced."""
    porteur = f.porteur(org(0))
    agent = f.agent(epci=commune_of_epci(0).epci)
    prefecture = f.funder_instructor("ETAT")
    case = builders.dossier(
        porteur=porteur,
        agent=agent,
        stage="committed",
        instructor=prefecture,
        receipt=day(200),
        complete=day(190),
        granted=day(150),
        committed=day(140),
        plan=builders.plan(400000, ("DETR", 150000)),
    )
    fr = case.funding_requests.get()
    first = builders.claim_build(porteur=porteur, funding_request=fr, kind="advance", amount=24000)
    builders.claim_file_on(first, porteur=porteur, filed=day(100))
    return case, porteur, fr


def test_a_refused_claim_is_shown_at_its_form_as_typed_and_leaves_no_draft(client):
    case, porteur, fr = _committed()
    client.force_login(porteur)
    refused = client.post(
        f"/mes-dossiers/{case.pk}/paiement/",
        {
            "funding_request": fr.pk,
            "kind": "advance",
            "amount": "30 000,00",
            "filed_on": day(5),
            "action": "file",
        },
    )
    assert refused.status_code == 400
    body = refused.content.decode()
    # the summary sits inside the claim form, as an alert focused on arrival, once
    form_at = body.index('id="demande-paiement"')
    summary_at = body.index('class="error-summary" role="alert"')
    assert form_at < summary_at < body.index("</form>", form_at)
    assert body.count('class="error-summary"') == 1
    assert 'document.getElementById("erreurs").focus()' in body
    assert ADVANCE_REFUSED in text(refused)
    # nothing typed is lost
    assert 'value="30 000,00"' in body and f'value="{day(5)}"' in body
    # no draft left behind: only the advance filed first
    assert list(fr.claims.values_list("kind", "state")) == [("advance", "filed")]
    assert "Brouillon" not in text(client.get(f"/mes-dossiers/{case.pk}/"))


def test_a_draft_is_still_kept_when_asked_for(client):
    case, porteur, fr = _committed()
    client.force_login(porteur)
    saved = client.post(
        f"/mes-dossiers/{case.pk}/paiement/",
        {"funding_request": fr.pk, "kind": "advance", "amount": "30000", "action": "draft"},
    )
    assert saved.status_code == 302
    assert fr.claims.filter(state="draft").count() == 1


def test_the_advance_message_says_the_amount_typed_and_the_cumulative_figure(client):
    case, porteur, fr = _committed()
    client.force_login(porteur)
    refused = client.post(
        f"/mes-dossiers/{case.pk}/paiement/",
        {"funding_request": fr.pk, "kind": "advance", "amount": "30000", "action": "file"},
    )
    page = text(refused)
    assert ADVANCE_REFUSED in page
    assert "Montant demandé (€) : 21 000,00 € au plus." in page  # the field is marked
    # a first advance over the ceiling: no « déjà demandés »
    other = builders.dossier(
        porteur=porteur,
        agent=fr.case.referent_agent,
        stage="committed",
        instructor=f.funder_instructor("ETAT"),
        receipt=day(200),
        complete=day(190),
        granted=day(150),
        committed=day(140),
        plan=builders.plan(400000, ("DETR", 150000)),
        title="Autre dossier",
    )
    ofr = other.funding_requests.get()
    page = text(
        client.post(
            f"/mes-dossiers/{other.pk}/paiement/",
            {"funding_request": ofr.pk, "kind": "advance", "amount": "50000", "action": "file"},
        )
    )
    assert (
        "Cette avance de 50 000,00 € irait au-delà du plafond de 45 000,00 € (30 % de l'aide "
        "accordée) : 45 000,00 € au plus."
    ) in page
