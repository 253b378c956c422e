"""The public page shows the envelopes of the year and their consumption (issue 14, « avancement
des crédits »), the same figures as the funders' page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import builders
from cases.models import FundingRequest, RequestState
from schemes.models import Envelope, Scheme
from tests import factories as f

from .test_funders_envelopes import flat

pytestmark = pytest.mark.django_db


def test_the_public_page_shows_the_envelopes_of_the_year(client):
    case = builders.case_build(porteur=f.porteur(), title="Médiathèque", state="draft")
    year = timezone.localdate().year
    detr = Scheme.objects.get(code="DETR")
    Envelope.objects.create(
        scheme=detr, territory_id=case.territory_id, year=year, amount=Decimal("700000")
    )
    FundingRequest.objects.create(
        case=case,
        scheme=detr,
        state=RequestState.GRANTED,
        amount_requested=Decimal("90000"),
        amount_granted=Decimal("80000"),
        granted_on=dt.date(year, 1, 20),
    )
    text = flat(client.get("/transparence/"))
    assert f"Enveloppes {year} : avancement des crédits" in text
    assert "700 000,00 €" in text and "620 000,00 €" in text  # remaining
