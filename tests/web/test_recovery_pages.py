"""The balance on the actual eligible cost and the recovery orders on the pages (domain.md
revised rule 6, ADR 009): the porteur's claim form computes the balance an actual cost
gives; the funder's instructor issues a recovery order on an overpaid request, the
porteur sees it, the instructor records it recovered. Bad input gives a French message,
never a 500, and changes nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from cases.models import PaymentClaim, RecoveryOrder, RecoveryState
from tests.hostile.bench import Bench
from tests.hostile.snapshots import everything

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(html: str) -> str:
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return words.replace("&#x27;", "'").replace("\u202f", " ").replace("\xa0", " ")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return text(response.content.decode())


def issue(client, fr, amount: str, *, reason="Dépenses réalisées moindres.", date=None, **extra):
    data = {"amount": amount, "reason": reason, "date": date or "", **extra}
    return client.post(f"/demandes/{fr.pk}/reversements/", data)


def test_issue_show_to_the_porteur_and_record_recovered():
    bench = Bench()
    fr = bench.overpaid  # paid 12 000 €, 8 000 € finally due: 4 000 € overpaid
    instructor, porteur = login(bench.instructor), login(bench.porteur)
    html = page(instructor, f"/dossiers/{fr.case_id}/")
    assert "Émettre un ordre de reversement (DETR)" in html
    assert "Trop-perçu encore à reprendre : 4 000,00 €" in html
    assert "Émettre un ordre de reversement" in page(instructor, "/financeurs/")

    before = everything()
    response = issue(instructor, fr, "4 000,01", date=bench.today.isoformat())
    assert response.status_code == 400
    html = text(response.content.decode())
    assert "dépasse le trop-perçu" in html and "4 000,01" in html  # what was typed stays
    assert everything() == before

    response = issue(instructor, fr, "1 500,00", date=bench.today.isoformat())
    assert response.status_code == 302, text(response.content.decode())[:600]
    order = RecoveryOrder.objects.get(funding_request=fr)
    assert (order.amount, order.state, order.issued_on) == (
        Decimal("1500.00"),
        RecoveryState.ISSUED,
        bench.today,
    )
    html = page(porteur, f"/mes-dossiers/{fr.case_id}/")
    assert "Ordres de reversement" in html
    assert "1 500,00 €" in html and "Dépenses réalisées moindres." in html
    assert f"{bench.today:%d/%m/%Y}" in html
    assert "Ordre de reversement émis : le trop-perçu est dû." in html
    assert "Ordre de reversement DETR : ordre de reversement émis" in html  # history

    response = instructor.post(
        f"/reversements/{order.pk}/transitions/recover/",
        {"from": "funders", "date": bench.today.isoformat()},
    )
    assert response.status_code == 302 and response["Location"] == "/financeurs/"
    order.refresh_from_db()
    assert order.state == RecoveryState.RECOVERED and order.recovered_on == bench.today
    html = page(porteur, f"/mes-dossiers/{fr.case_id}/")
    assert "Trop-perçu reversé." in html
    assert "Ordre de reversement DETR : trop-perçu reversé" in html
    agent_html = page(login(bench.agent), f"/dossiers/{fr.case_id}/")
    assert "Constater le reversement (Ordre de reversement DETR)" in agent_html
    # what remains overpaid (2 500 €) may still be ordered back, not more
    assert "Trop-perçu encore à reprendre : 2 500,00 €" in page(
        instructor, f"/dossiers/{fr.case_id}/"
    )


def test_cancel_needs_a_reason_and_only_the_funder_issues():
    bench = Bench()
    order = bench.recovery_order
    fr = order.funding_request
    instructor = login(bench.instructor)
    response = instructor.post(f"/reversements/{order.pk}/transitions/cancel/", {})
    assert response.status_code == 400
    assert "Indiquez le motif." in text(response.content.decode())
    response = instructor.post(
        f"/reversements/{order.pk}/transitions/cancel/", {"motivation": "Erreur de calcul."}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == RecoveryState.CANCELLED
    assert "Ordre de reversement annulé." in page(
        login(bench.porteur), f"/mes-dossiers/{fr.case_id}/"
    )
    # an agent reads, never issues: the role's French message, nothing created
    agent, porteur = login(bench.agent), login(bench.porteur)
    before = everything()
    response = issue(agent, fr, "100,00")
    assert response.status_code == 403
    assert "Votre rôle ne permet pas" in text(response.content.decode())
    # a porteur has no such page
    assert issue(porteur, fr, "100,00").status_code == 404
    assert everything() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "1e999", "Montant à reverser (€) : Montant"),
        ("amount", "-3", "positif"),
        ("amount", "١٢٣", "Montant à reverser (€) : Montant"),
        ("amount", "", "Indiquez le montant à reverser."),
        ("amount", "99999999999999999", "Montant"),
        ("date", "pas une date", "format JJ/MM/AAAA"),
        ("date", "9999-12-31", "invraisemblable"),
        ("reason", "", "Indiquez le motif du reversement."),
    ],
)
def test_bad_recovery_input_is_a_french_message(field, value, message):
    bench = Bench()
    fr = bench.overpaid
    client = login(bench.instructor)
    before = everything()
    data = {"amount": "100,00", "date": "", "reason": "Trop-perçu."}
    data[field] = value
    response = client.post(f"/demandes/{fr.pk}/reversements/", data)
    assert response.status_code == 400
    assert message in text(response.content.decode())
    assert everything() == before


def test_the_claim_form_computes_the_balance_on_the_actual_cost():
    bench = Bench()
    fr = bench.committed  # 40 000 € granted on 100 000 € of eligible expenses
    porteur = login(bench.porteur)
    url = f"/mes-dossiers/{fr.case_id}/paiement/"
    base = {"funding_request": str(fr.pk), "kind": "balance", "amount": ""}
    before = everything()
    response = porteur.post(url, {**base, "actual_cost": "75 000,00", "action": "preview"})
    assert response.status_code == 200
    html = text(response.content.decode())
    # 40 000 × 75 000 / 100 000 = 30 000 € finally due; nothing claimed yet
    assert "aide finalement due 30 000,00 €" in html
    assert "Solde à demander : 30 000,00 €" in html
    assert (
        'value="30 000,00"' in response.content.decode().replace("\u202f", " ").replace("\xa0", " ")
        or 'value="30000,00"' in response.content.decode()
    )
    # above the planned cost: capped by the grant
    response = porteur.post(url, {**base, "actual_cost": "150 000,00", "action": "preview"})
    assert "aide finalement due 40 000,00 €" in text(response.content.decode())
    assert everything() == before  # a preview saves nothing

    data = {**base, "amount": "30 000,00", "actual_cost": "75 000,00", "action": "draft"}
    assert porteur.post(url, data).status_code == 302
    claim = PaymentClaim.objects.get(funding_request=fr, kind="balance")
    assert claim.actual_cost == Decimal("75000.00") and claim.amount == Decimal("30000.00")
    html = page(porteur, f"/mes-dossiers/{fr.case_id}/")
    assert "coût réel 75 000,00 € : aide finalement due 30 000,00 €" in html


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e999", "Coût réel des dépenses éligibles (€) : Montant"),
        ("-5", "positif"),
        ("pas un nombre", "Coût réel des dépenses éligibles (€) : Montant"),
        ("", "Indiquez le coût réel pour calculer le solde."),
    ],
)
def test_bad_actual_costs_are_a_french_message(value, message):
    bench = Bench()
    fr = bench.committed
    porteur = login(bench.porteur)
    before = everything()
    data = {"funding_request": str(fr.pk), "kind": "balance", "actual_cost": value}
    # (a balance saved without an actual cost is computed on the grant: only the preview
    # needs one)
    tries = (("preview", ""), ("draft", "1 000,00")) if value else (("preview", ""),)
    for action, amount in tries:
        response = porteur.post(
            f"/mes-dossiers/{fr.case_id}/paiement/", {**data, "amount": amount, "action": action}
        )
        assert response.status_code == 400, action
        assert message in text(response.content.decode()), action
    assert everything() == before
    # a date that is not one, on the same form: French, never a 500
    response = porteur.post(
        f"/mes-dossiers/{fr.case_id}/paiement/",
        {**data, "actual_cost": "1 000,00", "amount": "1 000,00", "filed_on": "hier"},
    )
    assert response.status_code == 400
    assert "Date invalide" in text(response.content.decode())
