"""The programming year stored on each funding request (``cases.programming_year``) stays
the rule's — the year of the decision, else of the implicit-decision date, else of the
dossier's receipt, else of the creation — through the transitions that set those dates:
the dossier's receipt (the requests created), the funders' clocks (the implicit-decision
date), a grant one by one and a grant in the bulk service's batch mode."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import builders
from cases.models import Case, FundingRequest
from cases.programming_year import year_computed, year_of, years_fill
from cases.services.bulk import requests_bulk_transition
from tests import factories as f

pytestmark = pytest.mark.django_db

TWO = builders.plan(100000, ("DETR", 40000), ("DSIL", 20000))


def years(cases) -> list[tuple[int, int | None, int | None]]:
    """(request, stored year, the rule's year computed in SQL) of each request."""
    qs = FundingRequest.objects.filter(case__in=cases).annotate(computed=year_computed())
    return list(qs.order_by("pk").values_list("pk", "programming_year", "computed"))


def assert_kept(cases) -> dict[int, int]:
    rows = years(cases)
    assert rows, "no request"
    assert [(pk, stored) for pk, stored, _ in rows] == [(pk, c) for pk, _, c in rows]
    return {pk: stored for pk, stored, _ in rows}


def test_the_year_follows_receipt_clocks_and_grants_single_and_batch():
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    cases = []
    for i in range(3):
        case = builders.dossier(
            porteur=porteur,
            stage="submitted",
            plan=TWO,
            title=f"P{i}",
            receipt=(timezone.localdate() - dt.timedelta(days=10)).isoformat(),
        )
        cases.append(case)
    # the receipt: the requests count in its year until a clock gives a date
    received = assert_kept(cases)
    receipt_year = (timezone.localdate() - dt.timedelta(days=10)).year
    assert set(received.values()) == {receipt_year}

    cases = [
        builders.case_complete_on(
            builders.fresh(c),
            agent=agent,
            complete=timezone.localdate() - dt.timedelta(days=2),
        )
        for c in cases
    ]
    stored = assert_kept(cases)  # each funder's clock runs: its implicit-decision date
    implicit = dict(
        FundingRequest.objects.filter(case__in=cases).values_list("pk", "implicit_decision_on")
    )
    assert all(implicit.values())
    for pk, day in implicit.items():
        assert stored[pk] == day.year

    instructor = f.funder_instructor("ETAT")
    requests = list(FundingRequest.objects.filter(case__in=cases, state="instructing"))
    assert len(requests) >= 3
    single, batch = requests[0], requests[1:]
    granted = timezone.localdate()
    builders.request_grant_on(
        single, instructor=instructor, amount=Decimal("1000"), granted=granted
    )
    report = requests_bulk_transition(
        actor=instructor,
        name="grant",
        body={
            "items": [
                {"id": fr.pk, "amount_granted": "1000.00", "date": granted.isoformat()}
                for fr in batch
            ]
        },
    )
    assert sorted(report.applied) == sorted(fr.pk for fr in batch)
    stored = assert_kept(cases)
    for fr in requests:
        assert stored[fr.pk] == granted.year


def test_a_request_created_without_its_dossier_loaded_reads_the_receipt():
    porteur = f.porteur()
    case = builders.dossier(porteur=porteur, stage="submitted", plan=TWO)
    Case.objects.filter(pk=case.pk).update(receipt_date=dt.date(2024, 12, 30))
    fr = FundingRequest.objects.get(case=case, scheme__code="DETR")
    scheme = fr.scheme
    fr.delete()
    made = FundingRequest.objects.create(
        case_id=case.pk, scheme=scheme, amount_requested=Decimal("10")
    )
    assert made.programming_year == 2024
    made.implicit_decision_on = dt.date(2025, 2, 1)
    made.save(update_fields=["implicit_decision_on"])
    made.refresh_from_db()
    assert made.programming_year == 2025


def test_the_fill_of_the_migration_is_the_rule():
    porteur = f.porteur()
    case = builders.dossier(porteur=porteur, stage="submitted", plan=TWO)
    FundingRequest.objects.filter(case=case).update(programming_year=None)
    years_fill(FundingRequest, Case, FundingRequest.objects.filter(case=case))
    assert_kept([case])


@pytest.mark.parametrize(
    "dates, year",
    [
        ((dt.date(2027, 1, 2), dt.date(2026, 5, 1), dt.date(2025, 1, 1)), 2027),
        ((None, dt.date(2026, 5, 1), dt.date(2025, 1, 1)), 2026),
        ((None, None, dt.date(2025, 1, 1)), 2025),
    ],
)
def test_the_rule_in_python(dates, year):
    created = dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.UTC)  # 2025 in Paris
    assert year_of(*dates, created) == year
    assert year_of(None, None, None, created) == 2025
