"""The funders' conference (issue 14, point 6), reads and writes: a session of the
territory, its agenda, each funder's position per request (an intention: no request
changes), the plan re-balanced with the intended amounts and the plan rules re-run on it;
who may do what (the territory's agents; a funder's instructor for its own requests;
nobody from another territory, no porteur); bad input refused in French."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import builders, conference
from cases.models import ConferencePosition, FundingRequest
from cases.services import conference as services
from engine.errors import DomainError
from schemes.models import Funder, Territory
from tests import factories as f
from tests.engine import walk

pytestmark = pytest.mark.django_db

D = Decimal
PLAN = builders.plan(100000, ("DETR", 40000), ("REGION_OCC", 20000))


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


@pytest.fixture
def world():
    case, porteur, agent = walk.instructing_case(PLAN, title="Halle de Lisle")
    requests = {fr.scheme.code: fr for fr in case.funding_requests.select_related("scheme")}
    session = services.session_create(
        actor=agent,
        date=dt.date.today(),
        title="Conférence de printemps",
        place="PETR",
        funder_ids=[requests["DETR"].scheme.funder_id, requests["REGION_OCC"].scheme.funder_id],
    )
    services.agenda_add(actor=agent, session=session, case_id=case.pk)
    return {"case": case, "porteur": porteur, "agent": agent, "session": session, **requests}


def record(actor, w, code, stance, amount=None, comment=""):
    return services.position_record(
        actor=actor,
        session=w["session"],
        funding_request_id=w[code].pk,
        stance=stance,
        amount=None if amount is None else D(amount),
        comment=comment,
    )


def entry(w, user=None):
    (only,) = conference.agenda(session=w["session"], user=user or w["agent"])
    return only


def test_positions_rebalance_the_plan_and_rerun_the_rules(world):
    before = entry(world).plan
    assert before.gap == 0 and before.intended_public == before.requested_public == D("60000")
    assert before.messages == []  # no position yet: the plan as requested
    record(world["agent"], world, "DETR", "fund", "15000", "Sous réserve.")
    record(world["agent"], world, "REGION_OCC", "decline")
    plan = entry(world).plan
    assert plan.requested_public == D("60000") and plan.intended_public == D("15000")
    assert plan.gap == D("45000")  # what the owner must cover or find
    assert plan.summary.own_funds == D("85000") and plan.summary.public_aid == D("15000")
    assert [(x.label, x.requested, x.intended) for x in plan.lines] == [
        ("DETR", D("40000"), D("15000")),
        ("Région Occitanie", D("20000"), D("0")),
        ("Autofinancement", D("40000"), D("40000")),
    ]
    # the rules run on the intended amounts: DETR below its minimum rate (20 %)
    assert any("DETR" in m and "minimum" in m for m in plan.messages)
    # an intention, not a decision: the requests are untouched
    for code in ("DETR", "REGION_OCC"):
        fr = FundingRequest.objects.get(pk=world[code].pk)
        assert fr.state == "instructing" and fr.amount_granted is None


def test_more_than_requested_breaks_the_80_percent_ceiling(world):
    record(world["agent"], world, "DETR", "fund", "40000")
    record(world["agent"], world, "REGION_OCC", "fund", "45000")
    plan = entry(world).plan
    assert plan.gap == D("-25000") and plan.excess == D("25000")
    assert any("plafond de 80 %" in m for m in plan.messages)
    assert any("déséquilibré" in m for m in plan.messages)


def test_needs_more_keeps_the_requested_amount_and_a_position_is_replaced(world):
    record(world["agent"], world, "DETR", "more", comment="Devis à jour.")
    assert entry(world).plan.intended_public == D("60000")
    record(world["agent"], world, "DETR", "fund", "30000")
    assert ConferencePosition.objects.filter(session=world["session"]).count() == 1
    rows = {r.fr.scheme.code: r for r in entry(world).requests}
    assert rows["DETR"].position.amount == D("30000") and rows["REGION_OCC"].position is None


def test_a_funder_instructor_records_its_own_funder_only(world):
    detr = walk.instructor_for("DETR")
    record(detr, world, "DETR", "fund", "40000")
    with pytest.raises(DomainError) as exc:
        record(detr, world, "REGION_OCC", "fund", "1000")
    assert exc.value.code == "forbidden" and "votre financeur" in exc.value.message
    rows = {r.fr.scheme.code: r.may_record for r in entry(world, detr).requests}
    assert rows == {"DETR": True, "REGION_OCC": False}
    # an instructor of a funder not present does not see the session
    world["session"].funders.set(Funder.objects.filter(code="REGION_OCC"))
    with pytest.raises(DomainError) as exc:
        record(detr, world, "DETR", "fund", "40000")
    assert exc.value.code == "not_found"
    with pytest.raises(DomainError):
        services.agenda_add(actor=detr, session=world["session"], case_id=world["case"].pk)


def test_porteur_director_and_other_territory_refused(world):
    other = Territory.objects.create(name="Autre PETR", slug="autre", siren="200000001")
    stranger = f.agent(territory=other)
    for actor in (world["porteur"], stranger):
        with pytest.raises(DomainError) as exc:
            record(actor, world, "DETR", "fund", "1000")
        assert exc.value.code in ("forbidden", "not_found")
        assert conference.session_list(user=actor).count() == 0
    director = f.UserFactory(role="director")
    assert conference.session_list(user=director).count() == 1  # reads
    with pytest.raises(DomainError) as exc:
        record(director, world, "DETR", "fund", "1000")
    assert exc.value.code == "forbidden"
    with pytest.raises(DomainError):
        services.session_create(actor=world["porteur"], date=dt.date.today(), title="X")
    # a dossier of another territory never goes on the agenda
    assert not ConferencePosition.objects.exists()


@pytest.mark.parametrize(
    ("stance", "amount", "words"),
    [
        ("maybe", None, "Position : choisissez"),
        ("fund", None, "indiquez le montant"),
        ("fund", "0", "Le montant envisagé doit être positif"),
        ("fund", "10.001", "Le montant envisagé a plus de deux décimales"),
        ("fund", "100000.01", "dépasse la dépense éligible"),
        ("decline", "500", "laissez-le vide"),
    ],
)
def test_bad_positions_are_refused_in_french(world, stance, amount, words):
    with pytest.raises(DomainError) as exc:
        record(world["agent"], world, "DETR", stance, amount)
    assert words in exc.value.message
    assert not ConferencePosition.objects.exists()


def test_bad_sessions_and_agenda_are_refused_in_french(world):
    agent = world["agent"]
    with pytest.raises(DomainError, match="Indiquez l'intitulé"):
        services.session_create(actor=agent, date=dt.date.today(), title="  ")
    far = dt.date(dt.date.today().year - 6, 1, 1)
    with pytest.raises(DomainError, match="Date : choisissez une date entre"):
        services.session_create(actor=agent, date=far, title="Ancienne")
    with pytest.raises(DomainError, match="La date de la séance est invraisemblable"):
        services.session_create(actor=agent, date=dt.date(1990, 1, 1), title="Ancienne")
    with pytest.raises(DomainError, match="200 caractères au plus"):
        services.session_create(actor=agent, date=dt.date.today(), title="x" * 201)
    with pytest.raises(DomainError, match="un financeur choisi n'existe pas"):
        services.session_create(actor=agent, date=dt.date.today(), title="T", funder_ids=[10**9])
    with pytest.raises(DomainError, match="déjà à l'ordre du jour"):
        services.agenda_add(actor=agent, session=world["session"], case_id=world["case"].pk)
    with pytest.raises(DomainError, match="ne peut pas être inscrit"):
        services.agenda_add(actor=agent, session=world["session"], case_id=10**9)
    # a position on a dossier not on the agenda
    other, _porteur, _agent = walk.instructing_case(PLAN, title="Autre", agent=agent)
    with pytest.raises(DomainError, match="pas en cours sur un dossier de l'ordre du jour"):
        services.position_record(
            actor=agent,
            session=world["session"],
            funding_request_id=other.funding_requests.first().pk,
            stance="decline",
        )


def test_only_the_agenda_candidates_go_on_the_agenda(world):
    """``agenda_add`` takes the dossiers ``agenda_candidates`` offers, nothing else."""
    agent, session = world["agent"], world["session"]
    decided, _p, _a = walk.instructing_case(PLAN, title="Tout est décidé", agent=agent)
    FundingRequest.objects.filter(case=decided).update(state="refused")
    other = Territory.objects.create(name="Autre PETR", slug="autre", siren="200000001")
    elsewhere, _p, _a = walk.instructing_case(PLAN, title="Ailleurs", agent=agent)
    type(elsewhere).objects.filter(pk=elsewhere.pk).update(territory=other)
    candidates = set(conference.agenda_candidates(session=session).values_list("pk", flat=True))
    assert decided.pk not in candidates and elsewhere.pk not in candidates
    for case in (decided, elsewhere):
        with pytest.raises(DomainError) as exc:
            services.agenda_add(actor=agent, session=session, case_id=case.pk)
        assert "il ne peut pas être inscrit à l'ordre du jour" in exc.value.message
    assert list(session.items.values_list("case_id", flat=True)) == [world["case"].pk]


def test_a_dossier_with_positions_stays_on_the_agenda(world):
    item = world["session"].items.get()
    record(world["agent"], world, "DETR", "decline")
    with pytest.raises(DomainError, match="il reste à l'ordre du jour"):
        services.agenda_remove(actor=world["agent"], session=world["session"], item_id=item.pk)
    ConferencePosition.objects.all().delete()
    services.agenda_remove(actor=world["agent"], session=world["session"], item_id=item.pk)
    assert not world["session"].items.exists()


def test_the_agenda_reads_in_a_fixed_number_of_queries(world):
    agent = world["agent"]

    def count():
        with CaptureQueriesContext(connection) as ctx:
            conference.agenda(session=world["session"], user=agent)
        return len(ctx.captured_queries)

    record(agent, world, "DETR", "fund", "30000")
    one = count()
    for k in range(3):
        case, _p, _a = walk.instructing_case(PLAN, title=f"Dossier {k}", agent=agent)
        services.agenda_add(actor=agent, session=world["session"], case_id=case.pk)
    assert count() == one


def test_positions_on_the_dossier_and_latest_per_request(world):
    agent = world["agent"]
    record(agent, world, "DETR", "fund", "30000")
    later = services.session_create(
        actor=agent, date=dt.date.today() + dt.timedelta(days=30), title="Seconde séance"
    )
    services.agenda_add(actor=agent, session=later, case_id=world["case"].pk)
    services.position_record(
        actor=agent, session=later, funding_request_id=world["DETR"].pk, stance="decline"
    )
    shown = conference.case_positions(case=world["case"], user=agent)
    assert [p.session.title for p in shown] == ["Seconde séance", "Conférence de printemps"]
    assert conference.case_positions(case=world["case"], user=world["porteur"]) == []
    latest = conference.latest_positions([world["case"].pk], user=agent)
    funder = world["DETR"].scheme.funder.code
    assert len(latest[(world["case"].pk, funder)]) == 1
    assert latest[(world["case"].pk, funder)][0].startswith("Ne financera pas")
    # the dossier page's rule: nothing for who may not read the conference
    partner = f.UserFactory(role="epci_partner", epci=world["case"].epci)
    for user in (world["porteur"], partner):
        assert conference.latest_positions([world["case"].pk], user=user) == {}


def test_a_refused_request_counts_for_nothing_in_the_plan(world):
    builders.transition(
        world["REGION_OCC"],
        "refuse",
        actor=walk.instructor_for("REGION_OCC"),
        motivation="Enveloppe épuisée.",
        date="2026-04-16",
    )
    only = entry(world)
    assert [r.fr.scheme.code for r in only.requests] == ["DETR"]  # no position on it
    line = next(x for x in only.plan.lines if x.label == "Région Occitanie")
    assert line.intended == 0 and line.note == "demande refusée"
    assert only.plan.gap == D("20000")
