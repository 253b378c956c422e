"""Amounts typed in the pages (issue 12, point 1): every page form reads them with the one
reader ``engine.inputs.parse_money(french=True)`` — the funders' grant (funders' page and
dossier page), the payment of a claim, the porteur's plan and payment claim. French and
plain forms are read, with every space a browser or a spreadsheet pastes; a mix of point
and comma, an exponent, Unicode digits, three decimals and impossible amounts are refused
with a French message naming the expected form, and nothing changes."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import services
from cases.models import RequestState
from engine import inputs
from engine.errors import DomainError
from engine.transitions import transition_apply
from tests import factories as f

from .test_agent import day, make_case, org
from .test_porteur import plan_post

pytestmark = pytest.mark.django_db

NNBSP, NBSP = "\u202f", "\u00a0"

#: (typed, read): the DETR request asks for 30 000,00 €.
READ = [
    ("28 000,00", Decimal("28000.00")),
    ("28 000", Decimal("28000.00")),
    ("28000.00", Decimal("28000.00")),
    ("28000,00", Decimal("28000.00")),
    ("27 999,5", Decimal("27999.50")),
    (f"28{NNBSP}000,00", Decimal("28000.00")),
    (f"28{NBSP}000,00", Decimal("28000.00")),
    (f"28{NBSP}000,00{NBSP}€", Decimal("28000.00")),
    ("  1 234 ", Decimal("1234.00")),
]

#: (typed, what the message says): refused in every page form.
REFUSED = [
    ("1e4", "sans exposant"),
    ("1E4", "sans exposant"),
    ("2,000.00", "à la fois le point et la virgule"),
    ("2.000,00", "à la fois le point et la virgule"),
    ("28.000", "Deux décimales au plus."),  # a thousand typed the English way, not 28 €
    ("2,000", "Deux décimales au plus."),
    ("12,345", "Deux décimales au plus."),
    ("٢٨٠٠٠", "chiffres de 0 à 9"),
    ("２８０００", "chiffres de 0 à 9"),
    ("28 00,00", "12 500,00"),
    ("1_000", "12 500,00"),
    ("douze", "12 500,00"),
    ("1e999999999", "sans exposant"),
    ("9" * 60, "invraisemblable"),
    ("1 000 000 000 000,00", "invraisemblable"),
    ("-5", "positif"),
]


def text(response) -> str:
    return response.content.decode().replace(NBSP, " ").replace(NNBSP, " ")


@pytest.fixture
def world():
    agent = f.agent()
    porteur = f.porteur(org(0))
    case = make_case(porteur, schemes=("DETR", "REGION_OCC"), state="instruction", agent=agent)
    etat = f.funder_instructor("ETAT")
    detr = case.funding_requests.get(scheme__code="DETR")
    transition_apply(instance=detr, name="start_instruction", actor=etat)
    return {"agent": agent, "porteur": porteur, "case": case, "detr": detr, "etat": etat}


def grant(client, detr, amount, **extra):
    return client.post(
        f"/demandes/{detr.pk}/transitions/grant/",
        {"amount_granted": amount, "date": day(10), **extra},
    )


# ---------------------------------------------------------------- funders and agents


@pytest.mark.parametrize(("typed", "read"), [READ[0], READ[4], READ[5], READ[7]])
def test_the_funders_grant_reads_french_and_plain_amounts(client, world, typed, read):
    detr = world["detr"]
    client.force_login(world["etat"])
    response = grant(client, detr, typed, **{"from": "funders"})
    assert response.status_code == 302, text(response)[:2000]
    assert response["Location"] == "/financeurs/"
    detr.refresh_from_db()
    assert detr.state == RequestState.GRANTED and detr.amount_granted == read


def field_error(html: str, key: str) -> str:
    match = re.search(rf'<p class="field-error" id="{key}-error">(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else ""


def test_the_funders_grant_refuses_ambiguous_amounts_in_french(client, world):
    detr = world["detr"]
    client.force_login(world["etat"])
    for typed, says in REFUSED:
        response = grant(client, detr, typed, **{"from": "funders"})
        assert response.status_code == 400, typed
        html = text(response)
        assert says in html, typed
        # the field is named, its error beside it, what was typed kept
        assert field_error(html, f"fundingrequest-{detr.pk}-grant-amount_granted"), typed
        assert "Montant accordé en euros" in html or "montant accordé" in html, typed
        detr.refresh_from_db()
        assert detr.state == RequestState.INSTRUCTING and detr.amount_granted is None


def test_the_one_reader_of_typed_amounts():
    for typed, read in READ:
        assert inputs.parse_money(typed, field="a", label="montant", french=True) == read
    for typed, says in REFUSED:
        with pytest.raises(DomainError) as refused:
            inputs.parse_money(typed, field="a", label="montant", french=True)
        assert says in refused.value.message, typed
        assert refused.value.errors == {"a": [refused.value.errors["a"][0]]}
    # the API keeps its contract's forms (api.md: « 12500.00 », a JSON number)
    assert inputs.parse_money("1.25e4", field="a", label="montant") == Decimal("12500.00")
    assert inputs.parse_money(12500, field="a", label="montant") == Decimal("12500.00")


@pytest.mark.parametrize("typed", ["80 000,00", "999999,00", f"80{NNBSP}000,00"])
def test_the_amounts_of_the_issue_are_read_then_judged_by_the_rules(client, world, typed):
    """« 80 000,00 » and « 999999,00 » (issue 12) are read: what refuses them is the rule
    (more than the 30 000,00 € requested), never their form."""
    detr = world["detr"]
    client.force_login(world["etat"])
    response = grant(client, detr, typed, **{"from": "funders"})
    assert response.status_code == 400
    html = text(response)
    assert "dépasse le montant demandé" in html
    assert field_error(html, f"fundingrequest-{detr.pk}-grant-amount_granted") == (
        "Supérieur au montant demandé."
    )


def test_the_dossier_page_grant_reads_the_same_forms(client, world):
    detr, case = world["detr"], world["case"]
    client.force_login(world["etat"])
    refused = grant(client, detr, "25,000.00")
    assert refused.status_code == 400
    html = text(refused)
    assert "à la fois le point et la virgule" in html and "12 500,00" in html
    assert 'value="25,000.00"' in html  # what was typed is kept
    french_date = (timezone.localdate() - dt.timedelta(days=10)).strftime("%d/%m/%Y")
    response = client.post(
        f"/demandes/{detr.pk}/transitions/grant/",
        {"amount_granted": f"25{NNBSP}000,00", "date": french_date},
    )
    assert response.status_code == 302 and response["Location"] == f"/dossiers/{case.pk}/"
    detr.refresh_from_db()
    assert detr.amount_granted == Decimal("25000.00")
    assert detr.granted_on == timezone.localdate() - dt.timedelta(days=10)


def test_a_date_typed_in_french_that_is_no_day_is_refused_in_french(client, world):
    detr = world["detr"]
    client.force_login(world["etat"])
    response = grant(client, detr, "25 000,00", date="31/02/2026")
    assert response.status_code == 400 and "JJ/MM/AAAA" in text(response)
    detr.refresh_from_db()
    assert detr.state == RequestState.INSTRUCTING


def _committed_claim(world):
    detr, etat, porteur = world["detr"], world["etat"], world["porteur"]
    transition_apply(
        instance=detr,
        name="grant",
        actor=etat,
        data={"amount_granted": "30000.00", "date": day(40)},
    )
    transition_apply(instance=detr, name="commit", actor=etat, data={"date": day(35)})
    claim = services.claim_create(
        actor=porteur, funding_request=detr, data={"kind": "advance", "amount": "5000.00"}
    )
    transition_apply(instance=claim, name="file", actor=porteur, data={"date": day(30)})
    transition_apply(instance=claim, name="verify", actor=etat, data={"date": day(20)})
    return claim


def test_the_payment_of_a_claim_reads_the_same_forms(client, world):
    claim = _committed_claim(world)
    client.force_login(world["etat"])
    url = f"/paiements/{claim.pk}/transitions/pay/"
    refused = client.post(url, {"from": "funders", "amount": "5.000,00", "date": day(10)})
    assert refused.status_code == 400 and "à la fois le point et la virgule" in text(refused)
    claim.refresh_from_db()
    assert claim.paid_amount is None
    paid = client.post(url, {"from": "funders", "amount": f"5{NBSP}000", "date": day(10)})
    assert paid.status_code == 302
    claim.refresh_from_db()
    assert claim.paid_amount == Decimal("5000.00")


# ---------------------------------------------------------------- porteur


def test_the_porteur_plan_reads_french_and_plain_amounts(client):
    porteur = f.porteur(org(0))
    case = make_case(porteur)
    client.force_login(porteur)
    for typed, read in READ:
        data = plan_post([("Travaux", typed, "HT", True)], [("self", typed)])
        response = client.post(f"/dossiers/{case.pk}/etapes/plan/", data)
        assert response.status_code == 302, (typed, text(response)[:2000])
        assert case.expenses.get().amount == read


def test_the_porteur_plan_refuses_ambiguous_amounts_in_french(client):
    porteur = f.porteur(org(0))
    case = make_case(porteur)
    before = sorted(case.expenses.values_list("amount", flat=True))
    client.force_login(porteur)
    for typed, says in REFUSED:
        data = plan_post([("Travaux", typed, "HT", True)], [("self", "100 000,00")])
        response = client.post(f"/dossiers/{case.pk}/etapes/plan/", data)
        assert response.status_code == 200, typed
        assert says in text(response), typed
        assert sorted(case.expenses.values_list("amount", flat=True)) == before


def test_the_porteur_claim_reads_the_same_forms(client, world):
    detr, porteur, case = world["detr"], world["porteur"], world["case"]
    etat = world["etat"]
    transition_apply(
        instance=detr,
        name="grant",
        actor=etat,
        data={"amount_granted": "30000.00", "date": day(40)},
    )
    transition_apply(instance=detr, name="commit", actor=etat, data={"date": day(35)})
    client.force_login(porteur)
    url = f"/mes-dossiers/{case.pk}/paiement/"
    for typed, says in (("1e3", "sans exposant"), ("3,000.00", "à la fois le point")):
        response = client.post(
            url, {"funding_request": detr.pk, "kind": "advance", "amount": typed}
        )
        assert response.status_code == 400 and says in text(response)
    assert not detr.claims.exists()
    response = client.post(
        url, {"funding_request": detr.pk, "kind": "advance", "amount": f"3{NNBSP}000,50"}
    )
    assert response.status_code == 302
    assert detr.claims.get().amount == Decimal("3000.50")


# ---------------------------------------------------------------- dates (issue 12, point 7)


def test_no_date_format_is_shown_beside_a_native_date_picker(client, world):
    """A ``type=date`` input shows the browser's own calendar in the user's format: a
    « Format AAAA-MM-JJ » beside it contradicts what the person sees."""
    from pathlib import Path

    from django.conf import settings

    pattern = re.compile(r"format\s+(aaaa-mm-jj|jj/mm/aaaa)", re.IGNORECASE)
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        assert not pattern.search(template.read_text()), template
    client.force_login(world["etat"])
    html = text(client.get("/financeurs/"))
    assert 'type="date"' in html and not pattern.search(html)
