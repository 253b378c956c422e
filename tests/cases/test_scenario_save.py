"""Saving a scenario's rows (issue 14, performance): what was drafted is inserted, changed
in place or taken out in a constant number of statements whatever the number of rows; an
applied item is never rewritten; the treasury's snapshot reads give the same forecasts
whether they name the dossiers read before them or repeat their conditions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import treasury, treasury_reads
from cases.models import FundingRequest, ItemOutcome, ScenarioItem
from cases.services.scenarios import scenario_create, scenario_items_save
from tests import factories as f
from tests.cases.test_scenarios import instructing, requests_of, year_of


def _rows(requests, choice="postpone"):
    return [{"request": fr.pk, "choice": choice} for fr in requests]


def _save_statements(agent, scenario, rows) -> int:
    with CaptureQueriesContext(connection) as ctx:
        scenario_items_save(actor=agent, scenario=scenario, rows=rows)
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_a_save_takes_the_same_statements_for_two_rows_or_twenty():
    cases = instructing(10)
    agent = f.agent(epci=cases[0].organisation.epci)
    requests = requests_of(cases)
    year = year_of(requests[0])
    small = scenario_create(actor=agent, title="Petit", year=year)
    large = scenario_create(actor=agent, title="Grand", year=year)
    assert len(requests) == 20
    first_small = _save_statements(agent, small, _rows(requests[:2]))
    first_large = _save_statements(agent, large, _rows(requests))
    assert first_small == first_large
    # a second save changes some rows, takes others out and adds none: still the same
    again = [{"request": fr.pk, "choice": ""} for fr in requests[:5]] + [
        {"request": fr.pk, "choice": "refuse", "motivation": "Hors priorités."}
        for fr in requests[5:]
    ]
    assert _save_statements(agent, large, again) <= first_large + 1  # + the delete
    items = {i.funding_request_id: i for i in ScenarioItem.objects.filter(scenario=large)}
    assert set(items) == {fr.pk for fr in requests[5:]}
    assert {i.choice for i in items.values()} == {"refuse"}
    assert {i.motivation for i in items.values()} == {"Hors priorités."}


@pytest.mark.django_db
def test_a_row_saved_again_changes_its_item_in_place_and_an_applied_item_is_kept():
    cases = instructing(2)
    agent = f.agent(epci=cases[0].organisation.epci)
    detr = requests_of(cases, "DETR")
    scenario = scenario_create(actor=agent, title="S", year=year_of(detr[0]))
    scenario_items_save(actor=agent, scenario=scenario, rows=_rows(detr, "fund"))
    first = {i.funding_request_id: i.pk for i in ScenarioItem.objects.filter(scenario=scenario)}
    applied = ScenarioItem.objects.get(scenario=scenario, funding_request=detr[1])
    applied.outcome, applied.result = ItemOutcome.APPLIED, "Décision enregistrée."
    applied.save()
    rows = [
        {"request": detr[0].pk, "choice": "fund", "amount": "12 000,50"},
        {"request": detr[1].pk, "choice": "refuse", "motivation": "Trop tard."},
    ]
    assert scenario_items_save(actor=agent, scenario=scenario, rows=rows) == 1
    after = {i.funding_request_id: i for i in ScenarioItem.objects.filter(scenario=scenario)}
    assert {pk: i.pk for pk, i in after.items()} == first  # the same rows, changed in place
    assert after[detr[0].pk].amount == Decimal("12000.50")
    assert after[detr[0].pk].seen_amount == detr[0].amount_requested
    assert after[detr[1].pk].choice == "fund" and after[detr[1].pk].outcome == "applied"


@pytest.mark.django_db
def test_the_snapshot_reads_give_the_same_forecasts_by_ids_or_by_conditions(monkeypatch):
    cases = instructing(3)
    granted = [fr.pk for fr in requests_of(cases, "DETR")[:2]]  # raw: the test's own data
    FundingRequest.objects.filter(pk__in=granted).update(
        state="granted", amount_granted=Decimal("30000")
    )
    for case in cases:
        type(case).objects.filter(pk=case.pk).update(state="decided")
    org = cases[0].organisation
    drafted = {fr.pk: (fr.case_id, Decimal("15000")) for fr in requests_of(cases, "DSIL")}
    with CaptureQueriesContext(connection) as listed:
        by_ids = treasury.treasury_forecasts([org], drafted=drafted)[org.pk]
    monkeypatch.setattr(treasury_reads, "MAX_LISTED_IDS", 0)
    with CaptureQueriesContext(connection) as ctx:
        by_conditions = treasury.treasury_forecasts([org], drafted=drafted)[org.pk]
    assert len(listed.captured_queries) == len(ctx.captured_queries)
    named = "unnest" if connection.vendor == "postgresql" else "IN ("
    assert any(named in q["sql"] and "cases_case" not in q["sql"] for q in listed.captured_queries)
    assert not any("unnest" in q["sql"] for q in ctx.captured_queries)
    assert sum("cases_case" in q["sql"] for q in ctx.captured_queries) > sum(
        "cases_case" in q["sql"] for q in listed.captured_queries
    )
    assert by_conditions.months == by_ids.months
    assert len(by_ids.inflows) == len(by_conditions.inflows) > 0


@pytest.mark.django_db
def test_the_count_saved_leaves_out_the_rows_without_choice_nor_item():
    cases = instructing(2)
    agent = f.agent(epci=cases[0].organisation.epci)
    requests = requests_of(cases)
    scenario = scenario_create(actor=agent, title="S", year=year_of(requests[0]))
    rows = _rows(requests[:1]) + [{"request": fr.pk, "choice": ""} for fr in requests[1:]]
    assert scenario_items_save(actor=agent, scenario=scenario, rows=rows) == 1
    out = [{"request": requests[0].pk, "choice": ""}] + rows[1:]
    assert scenario_items_save(actor=agent, scenario=scenario, rows=out) == 1  # the one taken out
    assert not ScenarioItem.objects.filter(scenario=scenario).exists()
