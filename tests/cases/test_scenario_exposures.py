"""The treasury side of a scenario (``cases.scenarios.exposures``): the figures of two
``treasury_forecasts`` — without, then with the drafted grants — computed from one read,
and kept per porteur until its drafted grants, its cash or any dossier's state change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import builders, scenarios
from cases.models import Case, FundingRequest
from cases.services.scenarios import scenario_create, scenario_items_save
from cases.treasury import forecast_risk, treasury_forecasts
from tests import factories as f

from .test_scenarios import instructing, requests_of, year_of

pytestmark = pytest.mark.django_db
D = Decimal


def by_two_forecasts(items) -> list[tuple]:
    """What ``exposures`` gave before it read once: two ``treasury_forecasts``."""
    funded = [i for i in scenarios.pending(items) if i.choice == "fund"]
    orgs = {
        i.funding_request.case.organisation_id: i.funding_request.case.organisation for i in funded
    }
    drafted = {
        i.funding_request_id: (i.funding_request.case_id, scenarios.after_contribution(i)[1])
        for i in funded
    }
    before = treasury_forecasts(list(orgs.values()))
    after = treasury_forecasts(list(orgs.values()), drafted=drafted)
    out = []
    for org in sorted(orgs.values(), key=lambda o: (o.name, o.pk)):
        b, a = before[org.pk], after[org.pk]
        out.append(
            (
                org.pk,
                b.trough_p80.balance if b.trough_p80 else None,
                a.trough_p80.balance if a.trough_p80 else None,
                a.loan.amount if a.loan else None,
                forecast_risk(a, org.cash_limit),
            )
        )
    return out


def figures(exposures) -> list[tuple]:
    return [
        (e.organisation.pk, e.trough_before, e.trough_after, e.loan_after, e.risk_after)
        for e in exposures
    ]


def test_the_exposures_are_the_two_forecasts_and_kept_until_a_draft_changes():
    first, second = f.porteur(), f.porteur()
    agent = f.agent(epci=first.organisation.epci)
    cases = instructing(2, porteur=first, agent=agent) + instructing(1, porteur=second)
    # a dossier already in the forecast (decided) whose other request is drafted
    live = instructing(1, porteur=first, agent=agent)[0]
    builders.request_grant_on(
        live.funding_requests.get(scheme__code="DSIL"),
        instructor=f.funder_instructor("ETAT"),
        amount=D("15000"),
    )
    Case.objects.filter(pk=live.pk).update(state="decided")
    detr = requests_of([*cases, live], "DETR")
    year = year_of(detr[0])
    scenario = scenario_create(actor=agent, title="Trésorerie", year=year)
    rows = [{"request": fr.pk, "choice": "fund", "amount": "20000"} for fr in detr]
    scenario_items_save(actor=agent, scenario=scenario, rows=rows)
    items = list(scenarios.items_of(scenario, user=agent))
    assert items and {i.funding_request.case.state for i in items} >= {"decided"}

    with CaptureQueriesContext(connection) as cold:
        got = figures(scenarios.exposures(items))
    assert got == by_two_forecasts(items)
    assert len(got) == 2
    with CaptureQueriesContext(connection) as warm:
        assert figures(scenarios.exposures(items)) == got
    assert len(warm) == 1 < len(cold)  # the newest event only: every porteur kept

    # one drafted amount changes: that porteur's figures follow, the other's are kept
    scenario_items_save(
        actor=agent,
        scenario=scenario,
        rows=[{"request": detr[-1].pk, "choice": "fund", "amount": "40000"}],
    )
    items = list(scenarios.items_of(scenario, user=agent))
    assert figures(scenarios.exposures(items)) == by_two_forecasts(items)

    # a transition anywhere renews every key
    other = FundingRequest.objects.get(case=cases[-1], scheme__code="DSIL")
    builders.request_grant_on(other, instructor=f.funder_instructor("ETAT"), amount=D("1000"))
    items = list(scenarios.items_of(scenario, user=agent))
    with CaptureQueriesContext(connection) as renewed:
        got = figures(scenarios.exposures(items))
    assert got == by_two_forecasts(items)
    assert len(renewed) == len(cold)
