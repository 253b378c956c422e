"""``GET /api/v1/organisations/{id}/treasury/`` (issue 13): the forecast of a porteur read
from its dossiers — visible to the porteur itself and its territory's staff only —, in a
constant number of queries; a payment recorded through the engine removes exactly its
projected inflow; the learned delays per scheme (median, 80th percentile)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import builders
from cases.builders import fresh
from cases.models import Organisation
from cases.payments import delays_learned
from cases.treasury import treasury_forecast
from tests import factories as f

from .test_bulk import _client

pytestmark = pytest.mark.django_db


def committed(porteur, agent, instructor, n=1, title="École"):
    cases = []
    for i in range(n):
        cases.append(
            builders.dossier(
                porteur=porteur,
                stage="committed",
                agent=agent,
                instructor=instructor,
                title=f"{title} {i}",
                receipt="2026-03-02",
                complete="2026-03-10",
                granted="2026-04-15",
                committed="2026-04-20",
                amount="40000.00",
            )
        )
    return cases


@pytest.fixture
def world():
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    etat = f.funder_instructor("ETAT")
    org = porteur.organisation
    Organisation.objects.filter(pk=org.pk).update(cash_at_hand=Decimal("15000.00"))
    return {"porteur": porteur, "agent": agent, "etat": etat, "org": fresh(org)}


def url(org) -> str:
    return f"/api/v1/organisations/{org.pk}/treasury/"


def test_the_porteur_reads_its_forecast(world):
    committed(world["porteur"], world["agent"], world["etat"])
    response = _client(world["porteur"]).get(url(world["org"]))
    assert response.status_code == 200, response.data
    data = response.json()
    assert data["cash_at_hand"] == "15000.00"
    assert len(data["months"]) == 24
    first = data["months"][0]
    assert first["month"] == f"{timezone.localdate():%Y-%m}"
    assert set(first) == {
        "month",
        "outflows",
        "inflows_p50",
        "inflows_p80",
        "balance_p50",
        "balance_p80",
    }
    balance = Decimal("15000.00")
    for month in data["months"]:
        balance += Decimal(month["inflows_p50"]) - Decimal(month["outflows"])
        assert Decimal(month["balance_p50"]) == balance
        assert Decimal(month["balance_p80"]) <= Decimal(month["balance_p50"])
    # the DETR grant of 40 000 € comes back within the horizon (median delays)
    assert sum(Decimal(m["inflows_p50"]) for m in data["months"]) >= Decimal("40000.00")
    assert set(data["trough"]) == {"p50", "p80"}
    short = _client(world["porteur"]).get(url(world["org"]) + "?months=6").json()
    assert len(short["months"]) == 6


def test_who_may_read_a_forecast(world):
    org = world["org"]
    other = f.porteur()
    region = f.funder_instructor("REGION_OCC")
    member = f.committee_member()
    assert _client(world["agent"]).get(url(org)).status_code == 200
    for outsider in (other, world["etat"], region, member):
        response = _client(outsider).get(url(org))
        assert response.status_code == 404, outsider
        assert response.json()["detail"] == "Organisation introuvable."
    assert (
        _client(world["porteur"]).get("/api/v1/organisations/999999/treasury/").status_code == 404
    )


@pytest.mark.parametrize(
    "query",
    [
        "months=0",
        "months=61",
        "months=abc",
        "months=%C2%B2",
        "months=99999999999999999999",
        "rate=-1",
        "rate=101",
        "rate=x",
        "rate=1e999999999",
        "rate=NaN",
        "rate=" + "9" * 5000,
    ],
)
def test_bad_parameters_are_refused_in_french(world, query):
    response = _client(world["porteur"]).get(url(world["org"]) + "?" + query)
    assert response.status_code == 400
    assert response.json()["detail"]


def test_the_rate_changes_the_interest_only(world):
    committed(world["porteur"], world["agent"], world["etat"], n=2)
    Organisation.objects.filter(pk=world["org"].pk).update(cash_at_hand=Decimal("0.00"))
    low = _client(world["porteur"]).get(url(world["org"]) + "?rate=1").json()
    high = _client(world["porteur"]).get(url(world["org"]) + "?rate=8").json()
    assert low["months"] == high["months"]
    assert low["bridging_loan"] is not None  # no cash, works paid before the grants
    assert low["bridging_loan"]["amount"] == high["bridging_loan"]["amount"]
    assert low["bridging_loan"]["months"] == high["bridging_loan"]["months"]
    assert (low["bridging_loan"]["rate"], high["bridging_loan"]["rate"]) == ("1.00", "8.00")
    assert Decimal(high["bridging_loan"]["interest"]) > Decimal(low["bridging_loan"]["interest"])


def test_a_payment_recorded_removes_exactly_its_projected_inflow(world):
    [case] = committed(world["porteur"], world["agent"], world["etat"])
    fr = case.funding_requests.get()
    claim = builders.claim_build(
        porteur=world["porteur"], funding_request=fr, kind="installment", amount="10000.00"
    )
    builders.claim_file_on(claim, porteur=world["porteur"], filed="2026-05-04")
    builders.claim_verify_on(claim, instructor=world["etat"], verified="2026-05-06")
    before = treasury_forecast(fresh(world["org"]), months=60)
    projected = [i for i in before.inflows if i.claim_id == claim.pk]
    assert [i.amount for i in projected] == [Decimal("10000.00")]
    builders.claim_pay_on(claim, instructor=world["etat"], amount="10000.00", paid="2026-05-20")
    after = treasury_forecast(fresh(world["org"]), months=60)
    assert sum(i.amount for i in before.inflows) - sum(i.amount for i in after.inflows) == Decimal(
        "10000.00"
    )
    assert not [i for i in after.inflows if i.claim_id == claim.pk]


def test_the_forecast_reads_a_constant_number_of_queries(world):
    committed(world["porteur"], world["agent"], world["etat"], n=1)
    org = fresh(world["org"])
    with CaptureQueriesContext(connection) as one:
        treasury_forecast(org)
    committed(world["porteur"], world["agent"], world["etat"], n=4, title="Halle")
    with CaptureQueriesContext(connection) as five:
        treasury_forecast(org)
    from schemes.models import Scheme

    # dossiers, expenses, invoices, requests, claims, schemes, one indexed read per scheme
    bound = 6 + Scheme.objects.count()
    assert len(one) == len(five) <= bound, [q["sql"][:120] for q in five.captured_queries]


def test_learned_delays():
    assert delays_learned([], 60) == (60, 90)
    assert delays_learned([30, 40, 50, 60], 60) == (60, 90)  # fewer than 5 observed
    assert delays_learned([30, 40, 50, 60, 200], 60) == (50, 88)
    p50, p80 = delays_learned([100, 100, 100, 100, 100, 100], 60)
    assert p50 == p80 == 100
