"""« Payer » in bulk from the funders' page (issue 12): the claims to handle are ticked (or
all of the list), each paid the amount it asks unless the column says otherwise, with the
rules of one payment and a per-claim report."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cases.builders import fresh
from cases.models import ClaimState, Payment
from tests.api.test_bulk_pay import verified_claims

from .test_bulk_page import URL, flat, post, steps

pytestmark = pytest.mark.django_db


def test_funder_pays_ticked_claims_with_a_column_and_defaults(client):
    claims, etat = verified_claims(3)
    first, second, third = claims
    client.force_login(etat)
    page = client.get("/financeurs/").content.decode()
    assert f'id="sel-paiements-{first.pk}" form="selection-paiements"' in page
    selection = {"source": "paiements", "ids": [c.pk for c in claims]}
    response = post(client, {**selection, "etape": "selection"})
    text = flat(response.content.decode())
    assert "3 demandes de paiement sélectionnées" in text
    assert "Payer" in text and "Contrôler le service fait" not in text  # all verified

    ref = second.funding_request.case.reference
    column = f"{ref}\t12 000,00\n{third.pk}\t9 500,50"  # more than asked, then less
    confirm, report = steps(client, selection, "pay", {"montants": column, "date": "2026-05-12"})
    text = flat(confirm.content.decode())
    # the first claim is absent from the column: paid what it asks (10 000,00 €)
    assert "3 demandes recevront l'action « Payer », pour un total de 31 500,50 €" in text
    assert f"paiement n° {first.pk}" in text
    text = flat(report.content.decode())
    assert "2 appliqués, 1 refusé" in text and "dépasse le montant demandé" in text

    assert fresh(first).state == ClaimState.PAID
    assert fresh(first).paid_amount == Decimal("10000.00")
    assert fresh(third).paid_amount == Decimal("9500.50")
    assert fresh(second).state == ClaimState.VERIFIED
    assert not Payment.objects.filter(claim=second).exists()


def test_every_claim_of_the_list_is_paid_its_own_amount(client):
    claims, etat = verified_claims(2, amount="7000.00")
    client.force_login(etat)
    selection = {"source": "paiements", "tout_le_filtre": "1", "filtre": "groupe=paiements"}
    confirm, report = steps(client, selection, "pay", {"montants": "", "date": "2026-05-12"})
    assert "pour un total de 14 000,00 €" in flat(confirm.content.decode())
    assert "2 appliqués, 0 refusé" in flat(report.content.decode())
    for claim in claims:
        assert fresh(claim).funding_request.amount_paid == Decimal("7000.00")


def test_claims_of_another_funder_or_an_unknown_list_are_not_selected(client):
    claims, _etat = verified_claims(1)
    from tests import factories as f

    region = f.funder_instructor("REGION_OCC")
    client.force_login(region)
    response = post(client, {"source": "paiements", "ids": [claims[0].pk], "etape": "selection"})
    assert response.status_code == 400 and "Aucune ligne sélectionnée" in flat(
        response.content.decode()
    )
    unknown = client.post(
        URL,
        {"source": "paiements", "tout_le_filtre": "1", "filtre": "groupe=x", "etape": "selection"},
    )
    assert unknown.status_code == 400
    assert fresh(claims[0]).state == ClaimState.VERIFIED
