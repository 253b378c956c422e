"""« Payer » in bulk (issue 12): ``POST /api/v1/payment-claims/bulk/pay/`` pays many
verified claims, each with its own amount and the rules of one payment (not above the
claim, not above the grant), a refused item in the middle reported alone with the single
route's status and message; parallel calls on the same claims pay each one once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum
from django_fsm_log.models import StateLog

from cases import builders
from cases.builders import fresh
from cases.models import ClaimState, Payment, PaymentClaim
from engine.models import OutboxEvent
from tests import factories as f

from .test_bulk import _client

BULK = "/api/v1/payment-claims/bulk"


def verified_claims(n: int, *, amount="10000.00") -> tuple[list[PaymentClaim], object]:
    """``n`` committed DETR dossiers (40,000 € granted), each with one installment claim
    filed and verified."""
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    instructor = f.funder_instructor("ETAT")
    claims = []
    for i in range(n):
        case = builders.dossier(
            porteur=porteur,
            stage="committed",
            agent=agent,
            instructor=instructor,
            title=f"Projet {i}",
            receipt="2026-03-02",
            complete="2026-03-10",
            granted="2026-04-15",
            committed="2026-04-20",
            amount="40000.00",
        )
        fr = case.funding_requests.get()
        claim = builders.claim_build(
            porteur=porteur, funding_request=fr, kind="installment", amount=amount
        )
        builders.claim_file_on(claim, porteur=porteur, filed="2026-05-04")
        builders.claim_verify_on(claim, instructor=instructor, verified="2026-05-06")
        claims.append(fresh(claim))
    return claims, instructor


def pay(claim, amount, day="2026-05-12") -> dict:
    return {"id": claim.pk, "amount": amount, "date": day}


@pytest.mark.django_db
def test_bulk_pay_with_a_refused_item_in_the_middle():
    claims, instructor = verified_claims(3)
    first, middle, last = claims
    response = _client(instructor).post(
        f"{BULK}/pay/",
        {"items": [pay(first, "10000.00"), pay(middle, "12000.00"), pay(last, "9500.50")]},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["applied"] == [first.pk, last.pk]
    [refused] = response.data["refused"]
    assert refused["id"] == middle.pk and refused["status"] == 400
    assert "dépasse le montant demandé" in refused["detail"]

    for claim, paid in ((first, "10000.00"), (last, "9500.50")):
        claim = fresh(claim)
        assert claim.state == ClaimState.PAID and claim.paid_amount == Decimal(paid)
        assert claim.funding_request.amount_paid == Decimal(paid)
        assert Payment.objects.filter(claim=claim, amount=Decimal(paid)).count() == 1
        assert [log.transition for log in StateLog.objects.for_(claim)][-1] == "pay"
        assert OutboxEvent.objects.filter(topic="paymentclaim.pay", subject_id=claim.pk).exists()
    middle = fresh(middle)
    assert middle.state == ClaimState.VERIFIED and not Payment.objects.filter(claim=middle)


@pytest.mark.django_db
def test_bulk_pay_answers_as_the_single_route_for_rights_and_states():
    claims, instructor = verified_claims(2)
    region = f.funder_instructor("REGION_OCC")
    # another funder's claims: not found, one by one
    response = _client(region).post(
        f"{BULK}/pay/", {"items": [pay(c, "100.00") for c in claims]}, format="json"
    )
    assert response.status_code == 200
    assert response.data["applied"] == []
    assert {r["status"] for r in response.data["refused"]} == {404}
    assert {r["detail"] for r in response.data["refused"]} == {"Demande de paiement introuvable."}
    # a porteur may never pay: the call is refused as a whole
    porteur = f.porteur()
    assert (
        _client(porteur)
        .post(f"{BULK}/pay/", {"items": [pay(claims[0], "1.00")]}, format="json")
        .status_code
        == 403
    )
    # an unknown field, a missing amount: 400 as the single route says
    bad = _client(instructor).post(
        f"{BULK}/pay/", {"items": [{"id": claims[0].pk, "montant": "1"}]}, format="json"
    )
    assert bad.status_code == 400 and "Champ inconnu" in bad.data["detail"]
    missing = _client(instructor).post(
        f"{BULK}/pay/", {"items": [{"id": claims[0].pk}]}, format="json"
    )
    assert missing.status_code == 200 and missing.data["refused"][0]["status"] == 400
    # paid once: a second pay of the same claim is refused (409, as one by one)
    _client(instructor).post(f"{BULK}/pay/", {"items": [pay(claims[1], "5000.00")]}, format="json")
    again = _client(instructor).post(
        f"{BULK}/pay/", {"items": [pay(claims[1], "5000.00")]}, format="json"
    )
    assert again.data["applied"] == [] and again.data["refused"][0]["status"] in (400, 409)
    assert fresh(claims[1]).funding_request.amount_paid == Decimal("5000.00")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_bulk_pays_pay_each_claim_once():
    import threading

    from django.db import connection

    claims, instructor = verified_claims(4, amount="8000.00")
    body = {"items": [pay(c, "8000.00") for c in claims]}
    barrier = threading.Barrier(3)
    results: list = [None] * 3

    def run(i):
        try:
            barrier.wait(timeout=30)
            response = _client(instructor).post(f"{BULK}/pay/", body, format="json")
            results[i] = (response.status_code, response.data)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = (500, repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert all(r is not None and r[0] == 200 for r in results), results
    applied = [pk for _status, data in results for pk in data["applied"]]
    assert sorted(applied) == sorted(c.pk for c in claims)  # each paid by exactly one call
    for claim in claims:
        fr = fresh(claim).funding_request
        total = Payment.objects.filter(claim__funding_request=fr).aggregate(s=Sum("amount"))["s"]
        assert fr.amount_paid == total == Decimal("8000.00")
