"""The observatory's LEADER programme health (issue 14): for an observer, an accessible SVG
chart (title, description stating the rates) of the targets, programmed, paid and money at
risk per action sheet, and the same figures in a table; refused to a porteur."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from cases import builders
from cases.models import FundingRequest, Payment, PaymentClaim, RequestState
from schemes.models import ActionSheet, Scheme
from tests import factories as f

pytestmark = pytest.mark.django_db

URL = "/observatoire/"
SVG_NS = "{http://www.w3.org/2000/svg}"
D = Decimal


@pytest.fixture
def world():
    porteur = f.porteur()
    leader = Scheme.objects.get(code="LEADER")
    case = builders.case_build(porteur=porteur, title="Tiers-lieu", state="draft")
    sheet = ActionSheet.objects.create(
        scheme=leader,
        territory_id=case.territory_id,
        code="FA1",
        title="Services de proximité",
        target_amount=D("200000"),
    )
    ActionSheet.objects.create(
        scheme=leader, territory_id=case.territory_id, code="FA9", title="Close", active=False
    )
    case.planned_works_end = dt.date(2027, 6, 1)
    case.save()
    fr = FundingRequest.objects.create(
        case=case,
        scheme=leader,
        state=RequestState.PAYING,
        amount_requested=D("50000"),
        amount_granted=D("50000"),
        granted_on=dt.date(2025, 6, 1),
        action_sheet=sheet,
    )
    claim = PaymentClaim.objects.create(
        funding_request=fr, kind="installment", amount=D("20000"), state="paid"
    )
    Payment.objects.create(
        claim=claim, scheme=leader, amount=D("20000"), paid_on=dt.date(2026, 1, 5), delay_days=40
    )
    return {"porteur": porteur, "case": case}


def flat(text: str) -> str:
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def test_an_agent_reads_the_chart_and_the_table(client, world):
    client.force_login(f.agent())
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 id="programme-titre">Santé du programme LEADER</h2>' in html
    start = html.index("<svg", html.index('id="programme-titre"'))
    chart = ET.fromstring(html[start : html.index("</svg>", start) + 6])
    assert chart.get("role") == "img"
    assert chart.get("aria-labelledby") == "graphique-programme-titre graphique-programme-desc"
    desc = chart.find(f"{SVG_NS}desc").text
    assert "FA1 — Services de proximité : programmé à 25 %, payé à 10 %" in desc
    assert "FA9" not in html  # an inactive sheet is not shown
    bars = [t.text for t in chart.iter(f"{SVG_NS}text")]
    assert "200\u202f000 €" in bars and "50\u202f000 €" in bars and "20\u202f000 €" in bars
    text = flat(html)
    assert "Santé du programme LEADER — chiffres par fiche-action" in text
    assert "200 000,00 € 50 000,00 € 25 % 50 000,00 € 20 000,00 € 10 %" in text
    assert '<th scope="row">FA1 — Services de proximité</th>' in html


def test_a_porteur_is_refused(client, world):
    client.force_login(world["porteur"])
    assert client.get(URL).status_code == 403


def test_no_section_without_action_sheets(client):
    client.force_login(f.agent())
    html = client.get(URL).content.decode()
    assert "Santé du programme LEADER" not in html
