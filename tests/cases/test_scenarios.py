"""Programming scenarios (issue 14, point 3): a draft never changes a dossier; its figures
are the envelopes', plans' and treasury's own rules applied to the drafted amounts;
applied, it writes what the same transitions write one by one; a stale item is refused
with its reason and the others applied; two applications at once decide each request once."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django_fsm_log.models import StateLog

from cases import builders, scenarios
from cases.envelopes import envelope_figures, programming_year
from cases.models import Case, FundingRequest, ItemOutcome, Organisation, Scenario, ScenarioItem
from cases.services.scenarios import scenario_apply, scenario_create, scenario_items_save
from cases.treasury import treasury_forecasts
from engine.errors import DomainError
from engine.transitions import transition_apply
from schemes.models import Envelope, Scheme
from tests import factories as f
from tests.api.test_bulk import trace

D = Decimal
TWO = builders.plan(100000, ("DETR", 40000), ("DSIL", 20000))


def instructing(n: int, *, porteur=None, plan=TWO, agent=None) -> list[Case]:
    porteur = porteur or f.porteur()
    agent = agent or f.agent(epci=porteur.organisation.epci)
    return [
        builders.dossier(
            porteur=porteur,
            stage="instruction",
            agent=agent,
            plan=plan,
            title=f"Projet {i}",
            receipt="2026-03-02",
            complete="2026-03-10",
        )
        for i in range(n)
    ]


def year_of(fr: FundingRequest) -> int:
    return FundingRequest.objects.annotate(y=programming_year()).get(pk=fr.pk).y


def requests_of(cases, code=None) -> list[FundingRequest]:
    qs = FundingRequest.objects.filter(case__in=cases).order_by("case_id", "id")
    return list(qs.filter(scheme__code=code) if code else qs)


def draft(agent, cases, choices: dict[int, dict]) -> Scenario:
    year = year_of(requests_of(cases)[0])
    scenario = scenario_create(actor=agent, title="Programmation A", year=year)
    rows = [{"request": pk} | row for pk, row in choices.items()]
    scenario_items_save(actor=agent, scenario=scenario, rows=rows)
    return scenario


@pytest.mark.django_db
def test_a_draft_changes_no_dossier_and_its_envelopes_follow_the_choices():
    cases = instructing(3)
    agent = f.agent(epci=cases[0].organisation.epci)
    detr = requests_of(cases, "DETR")
    year = year_of(detr[0])
    envelope = Envelope.objects.create(
        scheme=Scheme.objects.get(code="DETR"),
        territory_id=cases[0].territory_id,
        year=year,
        amount=D("100000"),
    )
    before = {fr.pk: (fr.state, fr.amount_granted) for fr in requests_of(cases)}
    scenario = draft(
        agent,
        cases,
        {
            detr[0].pk: {"choice": "fund", "amount": "30 000,00"},
            detr[1].pk: {"choice": "fund"},  # at the amount requested
            detr[2].pk: {"choice": "refuse", "motivation": "Hors priorités."},
        },
    )
    assert {fr.pk: (fr.state, fr.amount_granted) for fr in requests_of(cases)} == before
    [row] = scenarios.envelopes(scenario, list(scenario.items.all()), user=agent)
    [today] = envelope_figures([envelope])
    assert row.figures.programmed == today.programmed == D("0")
    assert row.programmed == D("70000.00")  # 30,000 + 40,000
    assert row.requested == today.requested - 3 * D("40000")
    assert row.remaining == D("30000.00") and not row.over
    scenario_items_save(
        actor=agent,
        scenario=scenario,
        rows=[{"request": detr[2].pk, "choice": "fund", "amount": "40000"}],
    )
    [row] = scenarios.envelopes(scenario, list(scenario.items.all()), user=agent)
    assert row.programmed == D("110000.00") and row.over and row.remaining == D("-10000.00")


@pytest.mark.django_db
def test_bad_rows_save_nothing_and_say_why_in_french():
    cases = instructing(2)
    agent = f.agent(epci=cases[0].organisation.epci)
    detr = requests_of(cases, "DETR")
    scenario = scenario_create(actor=agent, title="B", year=year_of(detr[0]))
    rows = [
        {"request": detr[0].pk, "choice": "fund", "amount": "50 000,00"},  # > 40,000
        {"request": detr[1].pk, "choice": "refuse", "motivation": ""},
    ]
    with pytest.raises(DomainError) as exc:
        scenario_items_save(actor=agent, scenario=scenario, rows=rows)
    assert "dépasse le montant demandé" in exc.value.message
    assert "motivation du refus" in exc.value.message
    assert not ScenarioItem.objects.filter(scenario=scenario).exists()
    for bad in ("1e999999", "abc", "-5"):
        with pytest.raises(DomainError):
            scenario_items_save(
                actor=agent,
                scenario=scenario,
                rows=[{"request": detr[0].pk, "choice": "fund", "amount": bad}],
            )
    with pytest.raises(DomainError) as exc:
        scenario_create(actor=agent, title="C", year="99999999999999")
    assert "année" in exc.value.message
    with pytest.raises(DomainError) as exc:
        scenario_create(actor=f.porteur(), title="C", year=2026)
    assert exc.value.status == 403


@pytest.mark.django_db
def test_the_plan_rules_are_rerun_with_the_drafted_amounts():
    """An association's LEADER request matched by the Région: refusing the Région's part
    leaves the FEADER above its national match (the rule of ``check_plan``), and what the
    scenario takes away is the owner's to cover."""
    association = f.OrganisationFactory(kind=Organisation.Kind.ASSOCIATION)
    porteur = f.porteur(association)
    plan = builders.plan(100000, ("LEADER", 32000), ("REGION_OCC", 8000))
    [case] = instructing(1, porteur=porteur, plan=plan)
    agent = f.agent(epci=case.organisation.epci)
    region = requests_of([case], "REGION_OCC")[0]
    scenario = scenario_create(actor=agent, title="R", year=year_of(region))
    scenario_items_save(
        actor=agent,
        scenario=scenario,
        rows=[{"request": region.pk, "choice": "refuse", "motivation": "Enveloppe épuisée."}],
    )
    [check] = scenarios.plan_checks(list(scenario.items.all()))
    assert check.before == [] and check.own_added == D("8000.00")
    assert [v.rule for v in check.after] == ["national_match"]
    assert "contreparties publiques" in check.after[0].message
    scenario_items_save(
        actor=agent,
        scenario=scenario,
        rows=[{"request": region.pk, "choice": "fund", "amount": "8000"}],
    )
    [check] = scenarios.plan_checks(list(scenario.items.all()))
    assert check.after == [] and check.own_added == 0


@pytest.mark.django_db
def test_the_treasury_of_a_funded_porteur_is_projected_with_the_drafted_grant():
    cases = instructing(1)
    agent = f.agent(epci=cases[0].organisation.epci)
    detr = requests_of(cases, "DETR")[0]
    scenario = draft(agent, cases, {detr.pk: {"choice": "fund", "amount": "25000"}})
    [exposure] = scenarios.exposures(list(scenario.items.all()))
    assert exposure.organisation.pk == cases[0].organisation_id
    org = cases[0].organisation
    plain = treasury_forecasts([org])[org.pk]
    drafted = treasury_forecasts([org], drafted={detr.pk: (detr.case_id, D("25000"))})[org.pk]
    assert not [i for i in plain.inflows if i.funding_request_id == detr.pk]
    mine = [i for i in drafted.inflows if i.funding_request_id == detr.pk]
    assert sum(i.amount for i in mine) == D("25000.00")
    assert drafted.outflows and not plain.outflows  # the operation enters the forecast


def _twin_world():
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    return (
        agent,
        instructing(3, porteur=porteur, agent=agent),
        instructing(3, porteur=porteur, agent=agent),
    )


@pytest.mark.django_db
def test_a_scenario_applied_writes_what_the_same_transitions_write_one_by_one():
    agent, one, many = _twin_world()
    instructor = f.funder_instructor("ETAT")
    choices = [
        ("fund", "30000.00", "grant"),
        ("refuse", "Hors priorités.", "refuse"),
        ("fund", "40000.00", "grant"),
    ]
    day = timezone.localdate().isoformat()
    comment = "Scénario de programmation « Programmation A »"
    for fr, (_choice, value, name) in zip(requests_of(one, "DETR"), choices, strict=True):
        data = {"date": day} | (
            {"amount_granted": value} if name == "grant" else {"motivation": value}
        )
        transition_apply(instance=fr, name=name, actor=instructor, comment=comment, data=data)
    rows = {}
    for fr, (choice, value, _name) in zip(requests_of(many, "DETR"), choices, strict=True):
        rows[fr.pk] = {"choice": choice} | (
            {"amount": value} if choice == "fund" else {"motivation": value}
        )
    scenario = draft(agent, many, rows)
    report = scenario_apply(actor=instructor, scenario=scenario)
    assert report == {"applied": 3, "refused": 0, "postponed": 0, "message": ""}
    for yardstick, fr in zip(requests_of(one, "DETR"), requests_of(many, "DETR"), strict=True):
        assert trace(fr) == trace(yardstick), fr.pk
    assert set(ScenarioItem.objects.values_list("outcome", flat=True)) == {ItemOutcome.APPLIED}
    # the DSIL requests stay to decide: the scenario is applied (all its items are)
    assert Scenario.objects.get(pk=scenario.pk).applied_at is not None


@pytest.mark.django_db
def test_a_stale_item_is_refused_with_its_reason_and_the_others_applied():
    cases = instructing(3)
    agent = f.agent(epci=cases[0].organisation.epci)
    instructor = f.funder_instructor("ETAT")
    detr = requests_of(cases, "DETR")
    dsil = requests_of(cases, "DSIL")
    scenario = draft(
        agent,
        cases,
        {
            detr[0].pk: {"choice": "fund"},
            detr[1].pk: {"choice": "fund", "amount": "20000"},
            detr[2].pk: {"choice": "postpone"},
            dsil[0].pk: {"choice": "fund"},
        },
    )
    # the dossier of detr[1] changes after the draft: its DETR request is withdrawn
    transition_apply(
        instance=FundingRequest.objects.get(pk=detr[1].pk),
        name="withdraw",
        actor=agent,
        data={"reason": "Projet redimensionné."},
    )
    # the agent decides no grant (the funder does, its items stay to decide: the reason is
    # given), but records the postponement and the stale item's refusal
    report = scenario_apply(actor=agent, scenario=scenario)
    assert (report["applied"], report["refused"], report["postponed"]) == (0, 1, 1)
    assert "financeur" in report["message"] or "rôle" in report["message"]
    assert ScenarioItem.objects.filter(scenario=scenario, outcome="").count() == 2
    report = scenario_apply(actor=instructor, scenario=scenario)
    assert (report["applied"], report["refused"], report["postponed"]) == (2, 0, 0)
    items = {i.funding_request_id: i for i in ScenarioItem.objects.filter(scenario=scenario)}
    stale = items[detr[1].pk]
    assert stale.outcome == ItemOutcome.REFUSED
    assert "« En instruction » à « Retirée »" in stale.result
    assert items[detr[2].pk].outcome == ItemOutcome.POSTPONED
    assert FundingRequest.objects.get(pk=detr[2].pk).state == "instructing"
    assert FundingRequest.objects.get(pk=detr[0].pk).state == "granted"
    assert FundingRequest.objects.get(pk=dsil[0].pk).state == "granted"  # same dossier
    # a second application changes nothing and refuses nothing more
    assert scenario_apply(actor=instructor, scenario=scenario)["applied"] == 0
    fr_ct = ContentType.objects.get_for_model(FundingRequest)
    assert StateLog.objects.filter(content_type=fr_ct, transition="grant").count() == 2


@pytest.mark.django_db
def test_who_sees_and_applies_what():
    cases = instructing(1, plan=builders.plan(100000, ("DETR", 40000), ("REGION_OCC", 10000)))
    agent = f.agent(epci=cases[0].organisation.epci)
    detr = requests_of(cases, "DETR")[0]
    region = requests_of(cases, "REGION_OCC")[0]
    scenario = draft(
        agent,
        cases,
        {detr.pk: {"choice": "fund"}, region.pk: {"choice": "fund"}},
    )
    etat = f.funder_instructor("ETAT")
    assert list(scenarios.scenario_list(user=etat)) == [scenario]
    assert [i.funding_request_id for i in scenarios.items_of(scenario, user=etat)] == [detr.pk]
    assert list(scenarios.scenario_list(user=f.porteur())) == []
    assert scenario_apply(actor=etat, scenario=scenario)["applied"] == 1
    assert FundingRequest.objects.get(pk=region.pk).state == "instructing"
    assert Scenario.objects.get(pk=scenario.pk).applied_at is None  # the Région's is left


def _apply_in_parallel(actors, scenario):
    barrier = threading.Barrier(len(actors))
    results: list = [None] * len(actors)

    def run(i, actor):
        try:
            barrier.wait(timeout=30)
            results[i] = scenario_apply(actor=actor, scenario=scenario)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_applications_at_once_decide_each_request_once():
    cases = instructing(4)
    agent = f.agent(epci=cases[0].organisation.epci)
    detr = requests_of(cases, "DETR")
    scenario = draft(agent, cases, {fr.pk: {"choice": "fund"} for fr in detr})
    instructors = [f.funder_instructor("ETAT") for _ in range(3)]
    results = _apply_in_parallel(instructors, scenario)
    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["applied"] for r in results) == 4
    assert sum(r["refused"] for r in results) == 0
    fr_ct = ContentType.objects.get_for_model(FundingRequest)
    for fr in detr:
        grants = StateLog.objects.filter(content_type=fr_ct, object_id=fr.pk, transition="grant")
        assert grants.count() == 1
