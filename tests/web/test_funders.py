"""The funders' view (« conférence des financeurs »): what each funder sees and records."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import CaseState, ClaimState, RequestState, User
from engine.transitions import transition_apply
from tests import factories as f

from .test_agent import actions_in, day, make_case, org

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    agent = f.agent()
    porteur = f.porteur(org(0))
    case = make_case(porteur, schemes=("DETR", "REGION_OCC"), state="instruction", agent=agent)
    detr = case.funding_requests.get(scheme__code="DETR")
    region = case.funding_requests.get(scheme__code="REGION_OCC")
    return {
        "agent": agent,
        "porteur": porteur,
        "case": case,
        "detr": detr,
        "region": region,
        "etat": f.funder_instructor("ETAT"),
        "occitanie": f.funder_instructor("REGION_OCC"),
    }


def test_funder_sees_its_requests_and_grants_from_the_page(client, world):
    etat, detr = world["etat"], world["detr"]
    client.force_login(etat)
    html = client.get("/financeurs/").content.decode()
    assert "Conférence des financeurs" in html and "État" in html or "ETAT" in html
    # revised rules 1-3 (ADR 009): the funder's own receipt and completeness, besides the
    # start of instruction after the desk's check
    assert actions_in(html) == {
        f"fundingrequest-{detr.pk}": {"acknowledge", "declare_complete", "start_instruction"}
    }
    assert f"fundingrequest-{world['region'].pk}" not in html  # not its funder's request
    response = client.post(
        f"/demandes/{detr.pk}/transitions/start_instruction/", {"from": "funders"}
    )
    assert response.status_code == 302 and response["Location"] == "/financeurs/"
    html = client.get("/financeurs/").content.decode()
    assert actions_in(html) == {f"fundingrequest-{detr.pk}": {"grant", "refuse"}}
    # more than requested: the French message, the typed amount kept, nothing changes
    response = client.post(
        f"/demandes/{detr.pk}/transitions/grant/",
        {"from": "funders", "amount_granted": "45000.00", "date": day(10)},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "dépasse le montant demandé" in html and 'value="45000.00"' in html
    assert 'id="resume-erreurs"' in html
    detr.refresh_from_db()
    assert detr.state == RequestState.INSTRUCTING and detr.amount_granted is None
    response = client.post(
        f"/demandes/{detr.pk}/transitions/grant/",
        {"from": "funders", "amount_granted": "28000.00", "date": day(10)},
    )
    assert response.status_code == 302
    detr.refresh_from_db()
    assert detr.state == RequestState.GRANTED and detr.amount_granted == Decimal("28000.00")
    html = client.get("/financeurs/").content.decode()
    assert "Aides accordées à engager" in html
    # revised rule 5 (ADR 009): the funder's lapse is offered on a granted request (its
    # guard needs the date: checked at apply time, like every guard that needs input)
    assert actions_in(html) == {f"fundingrequest-{detr.pk}": {"commit", "lapse"}}
    response = client.post(f"/demandes/{detr.pk}/transitions/commit/", {"from": "funders"})
    assert response.status_code == 400
    assert "Indiquez la date de signature." in response.content.decode()


def test_region_cannot_act_on_a_detr_request(client, world):
    occitanie, detr = world["occitanie"], world["detr"]
    client.force_login(occitanie)
    html = client.get("/financeurs/").content.decode()
    assert f"fundingrequest-{detr.pk}" not in html
    assert f"fundingrequest-{world['region'].pk}" in html
    for source in ("funders", ""):
        response = client.post(
            f"/demandes/{detr.pk}/transitions/start_instruction/", {"from": source}
        )
        assert response.status_code == 403
        assert "Vous n&#x27;êtes pas habilité à agir sur cet objet." in response.content.decode()
    response = client.post(
        f"/demandes/{detr.pk}/transitions/grant/",
        {"amount_granted": "1000.00", "date": day(1)},
    )
    assert response.status_code == 403
    detr.refresh_from_db()
    assert detr.state == RequestState.REQUESTED and detr.amount_granted is None
    # its own request: fine
    response = client.post(
        f"/demandes/{world['region'].pk}/transitions/start_instruction/", {"from": "funders"}
    )
    assert response.status_code == 302
    world["region"].refresh_from_db()
    assert world["region"].state == RequestState.INSTRUCTING


def test_agents_and_director_read_every_funder_without_acting(client, world):
    director = f.UserFactory(role=User.Role.DIRECTOR)
    for user in (world["agent"], director):
        client.force_login(user)
        response = client.get("/financeurs/")
        html = response.content.decode()
        assert response.status_code == 200
        assert actions_in(html) == {}
        assert "Lecture seule" in html
        assert "Région Occitanie" in html or "REGION_OCC" in html
        totals = html[html.index('id="h-totaux"') : html.index('id="h-attente"')].replace(
            "\xa0", " "
        )
        assert "30 000,00" in totals and "20 000,00" in totals and "50 000,00" in totals
        assert re.search(r'<td class="num">2</td><td class="num">2</td>', totals)  # counts
        filtered = client.get("/financeurs/?financeur=REGION_OCC").content.decode()
        waiting = filtered[filtered.index('id="h-attente"') :]
        assert world["case"].reference in waiting
        assert "DETR" not in waiting
    # porteurs and committee members are sent home; porteurs never post here
    client.force_login(world["porteur"])
    assert client.get("/financeurs/").status_code == 302
    response = client.post(f"/demandes/{world['detr'].pk}/transitions/withdraw/", {"reason": "x"})
    assert response.status_code == 404


def test_payments_verify_pay_and_reject(client, world):
    etat, detr, porteur, case = world["etat"], world["detr"], world["porteur"], world["case"]
    occitanie, region = world["occitanie"], world["region"]
    transition_apply(instance=detr, name="start_instruction", actor=etat)
    transition_apply(
        instance=detr,
        name="grant",
        actor=etat,
        data={"amount_granted": "30000.00", "date": day(40)},
    )
    transition_apply(instance=region, name="start_instruction", actor=occitanie)
    transition_apply(
        instance=region, name="refuse", actor=occitanie, data={"motivation": "Hors cadre."}
    )
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED
    transition_apply(instance=detr, name="commit", actor=etat, data={"date": day(35)})
    claim = services.claim_create(
        actor=porteur, funding_request=detr, data={"kind": "advance", "amount": "5000.00"}
    )
    transition_apply(instance=claim, name="file", actor=porteur, data={"date": day(30)})
    other = services.claim_create(
        actor=porteur, funding_request=detr, data={"kind": "installment", "amount": "1000.00"}
    )
    transition_apply(instance=other, name="file", actor=porteur, data={"date": day(30)})
    client.force_login(etat)
    html = client.get("/financeurs/").content.decode()
    assert actions_in(html) == {
        f"paymentclaim-{claim.pk}": {"verify", "reject"},
        f"paymentclaim-{other.pk}": {"verify", "reject"},
    }
    # the Région sees no claim of the État and cannot act on it
    client.force_login(occitanie)
    response = client.post(f"/paiements/{claim.pk}/transitions/verify/", {"from": "funders"})
    assert response.status_code in (403, 404)
    claim.refresh_from_db()
    assert claim.state == ClaimState.FILED
    client.force_login(etat)
    assert (
        client.post(
            f"/paiements/{claim.pk}/transitions/verify/", {"from": "funders", "date": day(20)}
        ).status_code
        == 302
    )
    response = client.post(
        f"/paiements/{claim.pk}/transitions/pay/",
        {"from": "funders", "amount": "9000.00", "date": day(10)},
    )
    assert response.status_code == 400 and "dépasse le montant demandé" in response.content.decode()
    response = client.post(
        f"/paiements/{claim.pk}/transitions/pay/",
        {"from": "funders", "amount": "5000.00", "date": day(10)},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    detr.refresh_from_db()
    assert claim.state == ClaimState.PAID and detr.amount_paid == Decimal("5000.00")
    response = client.post(f"/paiements/{other.pk}/transitions/reject/", {"from": "funders"})
    assert response.status_code == 400
    assert "Indiquez la motivation du rejet." in response.content.decode()
    response = client.post(
        f"/paiements/{other.pk}/transitions/reject/",
        {"from": "funders", "motivation": "Factures illisibles."},
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.state == ClaimState.REJECTED
    html = client.get("/financeurs/").content.decode()
    totals = html[html.index('id="h-totaux"') : html.index('id="h-attente"')].replace("\xa0", " ")
    assert "5 000,00" in totals  # paid
    # and the dossier page shows the same payment actions to the funder
    html = client.get(f"/dossiers/{case.pk}/").content.decode()
    assert re.search(r"Avance de 5[\s\u00a0 ]?000,00 € — payée", html)


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_bounded_queries_on_the_funders_page(client, world, django_assert_max_num_queries):
    etat = world["etat"]
    client.force_login(etat)
    small = _count(client, "/financeurs/")
    client.force_login(world["agent"])
    small_agent = _count(client, "/financeurs/")
    for i in range(8):
        case = make_case(
            f.porteur(org(i % 3)),
            schemes=("DETR", "REGION_OCC"),
            state="instruction",
            title=f"Projet {i}",
            agent=world["agent"],
        )
        if i % 2:
            detr = case.funding_requests.get(scheme__code="DETR")
            transition_apply(instance=detr, name="start_instruction", actor=etat)
    client.force_login(etat)
    assert _count(client, "/financeurs/") <= small + 1
    with django_assert_max_num_queries(20):
        client.get("/financeurs/")
    client.force_login(world["agent"])
    assert _count(client, "/financeurs/") <= small_agent + 1
