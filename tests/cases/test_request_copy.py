"""The dossier's territory and liveness copied on each funding request
(``cases.request_copy``) stay the dossier's through every way they change: the submission
(the requests created), the decisions (a dossier decided stays live: no write; the last
aid withdrawn in works: refused, final), the abandon one by one and in the engine's batch
mode, a territory changed; a request read before its dossier changed and saved after
never writes the copy back; the migration's fill is the rule; the maquette follows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import builders, maquette
from cases.models import Case, FundingRequest
from cases.request_copy import case_live, copies_fill
from engine.batch import BatchItem, transitions_apply_batch
from engine.transitions import transition_apply
from schemes.models import Territory
from tests import factories as f

pytestmark = pytest.mark.django_db

TWO = builders.plan(100000, ("DETR", 40000), ("DSIL", 20000))


def copies(cases) -> list[tuple]:
    """(request, its copy, its dossier's territory and liveness now) of each request."""
    rows = FundingRequest.objects.filter(case__in=cases).order_by("pk")
    return [
        (pk, (territory, live), (case_territory, case_live(state)))
        for pk, territory, live, case_territory, state in rows.values_list(
            "pk", "case_territory_id", "case_live", "case__territory_id", "case__state"
        )
    ]


def assert_copied(cases) -> set[bool]:
    rows = copies(cases)
    assert rows, "no request"
    assert [(pk, copy) for pk, copy, _ in rows] == [(pk, now) for pk, _, now in rows]
    return {live for _pk, (_territory, live), _now in rows}


def copy_writes(ctx, column: str = "case_live") -> list[str]:
    """The statements that wrote ``column`` of existing requests."""
    return [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("UPDATE") and f'"{column}"' in q["sql"]
    ]


def test_submission_and_decisions_then_the_last_aid_withdrawn_in_works():
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    instructor = f.funder_instructor("ETAT")
    case = builders.dossier(porteur=porteur, stage="submitted", plan=TWO)
    assert assert_copied([case]) == {True}  # the submission created them, copied
    assert set(FundingRequest.objects.filter(case=case).values_list("case_territory_id")) == {
        (case.territory_id,)
    }

    with CaptureQueriesContext(connection) as ctx:  # live to live: nothing written
        case = builders.case_complete_on(case, agent=agent)
    assert copy_writes(ctx) == []
    for fr in FundingRequest.objects.filter(case=case).order_by("pk"):
        builders.request_grant_on(fr, instructor=instructor)
    case = builders.fresh(case)
    assert case.state == "decided"
    assert assert_copied([case]) == {True}

    today = timezone.localdate()
    case = builders.transition(case, "start_works", actor=porteur, date=today, confirm=True)
    assert case.state == "in_progress"
    first, last = FundingRequest.objects.filter(case=case).order_by("pk")
    builders.transition(first, "withdraw", actor=porteur, reason="Plus utile.")
    assert assert_copied([case]) == {True}
    with CaptureQueriesContext(connection) as ctx:  # no aid left: the dossier is refused
        transition_apply(instance=last, name="withdraw", actor=porteur, data={"reason": "Non."})
    assert builders.fresh(case).state == "rejected"
    assert len(copy_writes(ctx)) == 1
    assert assert_copied([case]) == {False}

    # ``last`` was read before its dossier was refused: saved after, it keeps the copy
    last.motivation = "Relu."
    last.save()
    assert FundingRequest.objects.get(pk=last.pk).motivation == "Relu."
    assert assert_copied([case]) == {False}


def test_abandon_one_by_one_and_in_a_batch():
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    cases = [
        builders.dossier(porteur=porteur, stage="submitted", plan=TWO, title=f"P{i}")
        for i in range(3)
    ]
    cases[0] = builders.case_complete_on(cases[0], agent=agent)
    builders.transition(cases[0], "withdraw", actor=porteur, reason="Projet abandonné.")
    assert assert_copied(cases[:1]) == {False}
    assert assert_copied(cases[1:]) == {True}

    items = [BatchItem(instance=builders.fresh(c), data={"reason": "Fusion."}) for c in cases[1:]]
    with CaptureQueriesContext(connection) as ctx:
        transitions_apply_batch(model=Case, name="withdraw", actor=porteur, items=items)
    assert {c.state for c in Case.objects.filter(pk__in=[c.pk for c in cases])} == {"withdrawn"}
    assert len(copy_writes(ctx)) == 1  # the wave's dossiers at once
    assert assert_copied(cases) == {False}
    assert (
        not maquette.requests(user=agent, filters=maquette.Filters())
        .filter(case__in=cases)
        .exists()
    )


def test_a_territory_changed_and_a_request_created_apart():
    porteur = f.porteur()
    case = builders.dossier(porteur=porteur, stage="submitted", plan=TWO)
    home = case.territory_id
    other = Territory.objects.create(name="PETR du Ségala", slug="segala")
    case = builders.fresh(case)
    with CaptureQueriesContext(connection) as ctx:  # saved unchanged: nothing written
        case.save()
    assert copy_writes(ctx, "case_territory_id") == []
    case.territory = other
    case.save()
    assert assert_copied([case]) == {True}
    assert set(FundingRequest.objects.filter(case=case).values_list("case_territory_id")) == {
        (other.pk,)
    }

    # read without its territory, then given one: only the rows that differ
    deferred = Case.objects.only("pk", "title").get(pk=case.pk)
    deferred.territory_id = home
    deferred.save()
    assert assert_copied([case]) == {True}

    # a request created without its dossier loaded reads it
    fr = FundingRequest.objects.get(case=case, scheme__code="DSIL")
    scheme = fr.scheme
    fr.delete()
    made = FundingRequest.objects.create(
        case_id=case.pk, scheme=scheme, amount_requested=Decimal("10")
    )
    assert (made.case_territory_id, made.case_live) == (home, True)
    assert_copied([case])


def test_the_fill_of_the_migration_is_the_rule():
    porteur = f.porteur()
    live = builders.dossier(porteur=porteur, stage="submitted", plan=TWO, title="Vivant")
    dead = builders.dossier(porteur=porteur, stage="submitted", plan=TWO, title="Abandonné")
    builders.transition(dead, "withdraw", actor=porteur, reason="Abandon.")
    FundingRequest.objects.filter(case__in=[live, dead]).update(
        case_territory=None, case_live=False
    )
    FundingRequest.objects.filter(case=dead).update(case_live=True)
    assert copies_fill(FundingRequest, Case) >= 4
    assert assert_copied([live]) == {True}
    assert assert_copied([dead]) == {False}


@pytest.mark.parametrize(
    "state, live",
    [
        ("draft", True),
        ("instruction", True),
        ("decided", True),
        ("in_progress", True),
        ("closed", False),
        ("rejected", False),
        ("withdrawn", False),
        ("lapsed", False),
    ],
)
def test_the_rule(state, live):
    assert case_live(state) is live


def test_the_every_year_page_of_the_maquette_ignores_final_dossiers(client):
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    kept = builders.dossier(porteur=porteur, stage="submitted", plan=TWO, title="Gardé")
    gone = builders.dossier(porteur=porteur, stage="submitted", plan=TWO, title="Parti")
    builders.transition(gone, "withdraw", actor=porteur, reason="Abandon.")
    year = FundingRequest.objects.filter(case=kept).values_list("programming_year").first()[0]
    for filters in (maquette.Filters(), maquette.Filters(year=year)):
        count, ops = maquette.operations_counted(user=agent, filters=filters, offset=0, limit=50)
        assert [op.case_id for op in ops] == [kept.pk]
        assert maquette.operation_count(user=agent, filters=filters) == 1
    assert maquette.year_choices(user=agent, current=timezone.localdate().year) == sorted(
        {year, timezone.localdate().year}
    )
