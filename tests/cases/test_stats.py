"""Observatory figures on a small known set of dossiers, built through the real services
and ``transition_apply`` at chosen instants (time-machine), so that the django-fsm-log
history and the payment delays are known exactly.

The world (also used by the web tests):
- A — EPCI 1, « Écoles », DETR 40 000 € asked, 35 000 € granted; paid 10 000 € after
  30 days and 15 000 € after 70 days. Draft 10 days, filed 10 days, instruction 30 days.
- B — EPCI 2, « Tourisme », DETR 20 000 € asked and granted; paid 6 000 € after 50 days.
  Draft 10 days, filed 20 days, instruction 10 days.
- C — EPCI 1, « Écoles », a 2026 draft asking DEPT_TARN 10 000 € (no request yet).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine

from cases import builders, services, stats
from cases.models import Case, FundingRequest, Theme, User
from schemes.models import Commune
from tests import factories as f
from tests.engine import walk

pytestmark = pytest.mark.django_db

D = dt.date
E = Decimal


def at(day: dt.date):
    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC), tick=False
    )


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def plan(total, scheme, amount):
    return {
        "expenses": [{"label": "Travaux", "amount": str(total)}],
        "resources": [
            {"kind": "scheme", "scheme": scheme, "amount": str(amount)},
            {"kind": "self", "amount": str(E(total) - E(amount))},
        ],
    }


def dossier(
    *, porteur, agent, title, theme, plan, created, submitted, complete, granted, amount
) -> tuple[Case, FundingRequest]:
    with at(created):
        case = builders.case_build(
            porteur=porteur, title=title, theme=theme, plan=plan, state="draft"
        )
        walk.upload_required(porteur, case)
    with at(submitted):
        builders.case_submit_on(case, porteur=porteur, receipt=submitted)
    with at(complete):
        case = builders.case_complete_on(case, agent=agent, complete=complete)
        fr = case.funding_requests.get()
    instructor = walk.instructor_for(fr.scheme.code)
    with at(granted):
        builders.request_grant_on(fr, instructor=instructor, amount=amount, granted=granted)
    signed = granted + dt.timedelta(days=1)
    with at(signed):
        builders.request_commit_on(fr, instructor=instructor, committed=signed)
    return fresh(case), fresh(fr)


def paid_claim(porteur, fr, kind, amount, filed: dt.date, paid: dt.date):
    instructor = walk.instructor_for(fr.scheme.code)
    with at(filed):
        claim = builders.claim_build(porteur=porteur, funding_request=fr, kind=kind, amount=amount)
        builders.claim_file_on(claim, porteur=porteur, filed=filed)
    with at(paid):
        builders.claim_verify_on(claim, instructor=instructor, verified=paid)
        builders.claim_pay_on(claim, instructor=instructor, amount=amount, paid=paid)
    return fresh(claim)


@dataclass
class World:
    agent: User
    porteur1: User
    porteur2: User
    epci1: object
    epci2: object
    a: Case
    b: Case
    c: Case
    fr_a: FundingRequest
    fr_b: FundingRequest


def build_world() -> World:
    for label in ("Écoles", "Tourisme"):  # added to the controlled list (cases.Theme)
        Theme.objects.get_or_create(label=label)
    first = Commune.objects.order_by("insee").first()
    other = Commune.objects.exclude(epci=first.epci).order_by("insee").first()
    porteur1 = f.porteur(f.OrganisationFactory(commune=first))
    porteur2 = f.porteur(f.OrganisationFactory(commune=other, name="Commune de Tourisme"))
    agent = f.agent()
    a, fr_a = dossier(
        porteur=porteur1,
        agent=agent,
        title="Rénovation de l'école",
        theme="Écoles",
        plan=plan(100000, "DETR", 40000),
        created=D(2025, 1, 6),
        submitted=D(2025, 1, 16),
        complete=D(2025, 1, 26),
        granted=D(2025, 2, 25),
        amount="35000.00",
    )
    b, fr_b = dossier(
        porteur=porteur2,
        agent=agent,
        title="Sentier de découverte",
        theme="Tourisme",
        plan=plan(50000, "DETR", 20000),
        created=D(2025, 2, 3),
        submitted=D(2025, 2, 13),
        complete=D(2025, 3, 5),
        granted=D(2025, 3, 15),
        amount="20000.00",
    )
    paid_claim(porteur1, fr_a, "advance", "10000.00", D(2025, 3, 3), D(2025, 4, 2))  # 30 d
    paid_claim(porteur1, fr_a, "installment", "15000.00", D(2025, 4, 7), D(2025, 6, 16))  # 70 d
    paid_claim(porteur2, fr_b, "advance", "6000.00", D(2025, 4, 1), D(2025, 5, 21))  # 50 d
    with at(D(2026, 1, 5)):
        c = services.case_create(
            actor=porteur1,
            data={
                "title": "Cantine",
                "theme": "Écoles",
                "state": "draft",
                "financing_plan": plan(20000, "DEPT_TARN", 10000),
            },
        )
    return World(
        agent=agent,
        porteur1=porteur1,
        porteur2=porteur2,
        epci1=first.epci,
        epci2=other.epci,
        a=fresh(a),
        b=fresh(b),
        c=fresh(c),
        fr_a=fresh(fr_a),
        fr_b=fresh(fr_b),
    )


@pytest.fixture
def world(settings) -> World:
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS
    return build_world()


def rows_by(table: stats.Table, key: str = "label") -> dict:
    return {row[key]: row for row in table.rows}


NO_FILTER = stats.Filters()


# ---------------------------------------------------------------- counts and amounts


def test_summary_counts_and_amounts(world):
    row = stats.summary(user=world.agent, filters=NO_FILTER).rows[0]
    assert (row["cases"], row["filed"], row["supported"]) == (3, 2, 2)
    assert row["requested"] == E("60000.00")
    assert row["granted"] == E("55000.00")
    assert row["paid"] == E("31000.00")


def test_by_epci_theme_year_state_and_scheme(world):
    epci = rows_by(stats.by_epci(user=world.agent, filters=NO_FILTER))
    e1, e2 = epci[world.epci1.name], epci[world.epci2.name]
    assert (e1["cases"], e1["filed"], e1["requested"], e1["granted"], e1["paid"]) == (
        2,
        1,
        E("40000.00"),
        E("35000.00"),
        E("25000.00"),
    )
    assert (e2["cases"], e2["requested"], e2["granted"], e2["paid"]) == (
        1,
        E("20000.00"),
        E("20000.00"),
        E("6000.00"),
    )
    themes = rows_by(stats.by_theme(user=world.agent, filters=NO_FILTER))
    assert themes["Écoles"]["cases"] == 2 and themes["Tourisme"]["paid"] == E("6000.00")
    years = rows_by(stats.by_year(user=world.agent, filters=NO_FILTER))
    assert years["2025"]["cases"] == 2 and years["2026"]["cases"] == 1
    assert years["2026"]["requested"] == E("0.00")
    states = rows_by(stats.by_state(user=world.agent, filters=NO_FILTER), "state")
    assert states["decided"]["cases"] == 2 and states["draft"]["cases"] == 1
    schemes = rows_by(stats.by_scheme(user=world.agent, filters=NO_FILTER), "code")
    assert set(schemes) == {"DETR"}
    detr = schemes["DETR"]
    assert (detr["requests"], detr["granted_count"]) == (2, 2)
    assert (detr["requested"], detr["granted"], detr["paid"]) == (
        E("60000.00"),
        E("55000.00"),
        E("31000.00"),
    )
    assert detr["envelope_rate"] == (E("55000") / detr["envelope"]).quantize(E("0.0001"))


# ---------------------------------------------------------------- time and delays


def test_time_in_each_step_from_the_state_log(world):
    steps = rows_by(stats.time_in_states(user=world.agent, filters=NO_FILTER), "state")
    assert steps["idea"]["passages"] == 3 and steps["idea"]["median_days"] == E("0.0")
    assert steps["draft"]["passages"] == 2
    assert steps["draft"]["avg_days"] == E("10.0") and steps["draft"]["median_days"] == E("10.0")
    assert steps["submitted"]["avg_days"] == E("15.0")
    assert steps["submitted"]["median_days"] == E("15.0")
    assert steps["instruction"]["passages"] == 2
    assert steps["instruction"]["avg_days"] == E("20.0")
    assert "decided" not in steps  # no dossier has left « Décidé » yet


def test_payment_delays_median_p90_against_the_parameter(world):
    delays = rows_by(stats.payment_delays(user=world.agent, filters=NO_FILTER), "code")
    detr = delays["DETR"]
    assert detr["payments"] == 3
    assert detr["median_days"] == E("50.0")
    assert detr["p90_days"] == E("66.0")  # 50 + 0.8 × (70 − 50)
    assert detr["avg_days"] == E("50.0")
    assert detr["expected_days"] == f.scheme("DETR").expected_payment_delay_days == 60
    assert detr["gap_days"] == E("-10.0")
    assert delays["LEADER"]["payments"] == 0 and delays["LEADER"]["median_days"] is None


def test_python_fallback_gives_the_same_figures(world, monkeypatch):
    sql_delays = stats.payment_delays(user=world.agent, filters=NO_FILTER).rows
    sql_steps = stats.time_in_states(user=world.agent, filters=NO_FILTER).rows
    monkeypatch.setattr(stats, "_sql_percentiles", lambda: False)
    assert stats.payment_delays(user=world.agent, filters=NO_FILTER).rows == sql_delays
    assert stats.time_in_states(user=world.agent, filters=NO_FILTER).rows == sql_steps


def test_percentile_interpolates_like_percentile_cont():
    assert stats.percentile([], 0.5) is None
    assert stats.percentile([7], 0.9) == 7
    assert stats.percentile([30, 70, 50], 0.5) == 50
    assert stats.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert stats.percentile([10, 20], 0.9) == 19


# ---------------------------------------------------------------- filters and scope


def test_filters(world):
    def summary(**kw):
        return stats.summary(user=world.agent, filters=stats.Filters(**kw)).rows[0]

    one = summary(epci=world.epci1.siren)
    assert (one["cases"], one["requested"], one["paid"]) == (2, E("40000.00"), E("25000.00"))
    delays = rows_by(
        stats.payment_delays(user=world.agent, filters=stats.Filters(epci=world.epci1.siren)),
        "code",
    )
    assert delays["DETR"]["payments"] == 2 and delays["DETR"]["median_days"] == E("50.0")
    assert summary(theme="Tourisme")["cases"] == 1
    assert summary(theme="Tourisme")["paid"] == E("6000.00")
    assert summary(year=2026)["cases"] == 1 and summary(year=2025)["cases"] == 2
    dept = summary(scheme="DEPT_TARN")
    assert dept["cases"] == 1 and dept["requested"] == E("0.00")
    detr = summary(scheme="DETR")
    assert detr["cases"] == 2 and detr["granted"] == E("55000.00")
    assert summary(epci=world.epci2.siren, year=2026)["cases"] == 0
    steps = rows_by(
        stats.time_in_states(user=world.agent, filters=stats.Filters(theme="Tourisme")), "state"
    )
    assert steps["submitted"]["median_days"] == E("20.0") and steps["draft"]["passages"] == 1


def test_scope_follows_the_case_selector(world):
    partner = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=world.epci2)
    row = stats.summary(user=partner, filters=NO_FILTER).rows[0]
    assert row["cases"] == 1 and row["paid"] == E("6000.00")
    options = stats.filter_options(user=partner)
    assert [siren for siren, _ in options.epcis] == [world.epci2.siren]
    assert options.themes == ["Tourisme"] and options.years == [2025]
    member = f.committee_member()
    assert stats.summary(user=member, filters=NO_FILTER).rows[0]["cases"] == 0
    assert stats.observatory_allowed(partner) and stats.observatory_allowed(member)
    assert not stats.observatory_allowed(world.porteur1)
    assert not stats.observatory_allowed(f.funder_instructor("ETAT"))


def test_financing_plan_rows_and_committed_grants(world):
    rows = stats.financing_plan_rows(user=world.agent, filters=NO_FILTER)
    assert len(rows) == 6  # three dossiers × (scheme line + self-financing)
    a_detr = next(r for r in rows if r.case.pk == world.a.pk and r.line.kind == "scheme")
    assert a_detr.rate == E("0.4000") and a_detr.request.amount_granted == E("35000.00")
    assert a_detr.summary.own_funds == E("60000.00")
    c_line = next(r for r in rows if r.case.pk == world.c.pk and r.line.kind == "scheme")
    assert c_line.request is None and c_line.line.scheme.code == "DEPT_TARN"
    grants = stats.committed_grants(user=world.agent, filters=NO_FILTER)
    assert [g.request.pk for g in grants] == [world.fr_a.pk, world.fr_b.pk]
    ga = grants[0]
    assert (ga.payments, ga.first_paid, ga.last_paid) == (2, D(2025, 4, 2), D(2025, 6, 16))
