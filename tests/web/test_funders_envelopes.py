"""The envelopes of the year on the funders' page (issue 14): each funder reads its own
schemes' envelopes with their consumption; the agents read the territory's."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import builders
from cases.models import FundingRequest, RequestState
from schemes.models import Envelope, Scheme
from tests import factories as f

pytestmark = pytest.mark.django_db


def flat(response) -> str:
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def test_each_funder_reads_its_envelopes_of_the_year(client):
    porteur = f.porteur()
    case = builders.case_build(porteur=porteur, title="Halle", state="draft")
    year = timezone.localdate().year
    detr, region = Scheme.objects.get(code="DETR"), Scheme.objects.get(code="REGION_OCC")
    Envelope.objects.create(
        scheme=detr, territory_id=case.territory_id, year=year, amount=Decimal("800000")
    )
    Envelope.objects.create(
        scheme=region, territory_id=case.territory_id, year=year, amount=Decimal("300000")
    )
    Envelope.objects.create(
        scheme=detr, territory_id=case.territory_id, year=year - 1, amount=Decimal("1")
    )
    FundingRequest.objects.create(
        case=case,
        scheme=detr,
        state=RequestState.COMMITTED,
        amount_requested=Decimal("60000"),
        amount_granted=Decimal("50000"),
        granted_on=dt.date(year, 2, 1),
    )
    client.force_login(f.funder_instructor("ETAT"))
    text = flat(client.get("/financeurs/"))
    assert f"Enveloppes {year} : avancement des crédits" in text
    assert "800 000,00 €" in text and "750 000,00 €" in text  # remaining
    assert "300 000,00 €" not in text  # the Région's envelope is not the État's
    client.force_login(f.agent())
    text = flat(client.get("/financeurs/"))
    assert "800 000,00 €" in text and "300 000,00 €" in text
