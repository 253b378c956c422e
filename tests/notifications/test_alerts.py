"""Payment delays and treasury risk: projections, receivables, the five alerts, their
life (one live row per subject and kind, raised, reopened, resolved), acknowledgement
and visibility. Dossiers are walked through the services and ``transition_apply`` with
past event dates; evaluation dates are passed to ``alerts_evaluate(today=...)``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cases import services
from cases.models import ClaimState, FundingRequest, Organisation, Payment, User
from cases.payments import claim_projection, expected_delay_days, projected_payment_date
from cases.treasury import treasury_forecast
from engine.errors import DomainError
from engine.transitions import transition_apply
from notifications.alert_selectors import alert_list
from notifications.alerts import alert_acknowledge, alerts_evaluate, receivables
from notifications.models import Alert
from schemes.models import EPCI, Commune, Scheme
from tests import factories as f
from tests.engine import walk

pytestmark = pytest.mark.django_db

D = dt.date
K = Alert.Kind


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


# ---------------------------------------------------------------- builders


def small_commune(population=300, **org) -> Organisation:
    epci = EPCI.objects.order_by("siren").first()
    commune = Commune.objects.create(
        insee=f"9{Commune.objects.count():04d}",
        name="Saint-Essai",
        population=population,
        epci=epci,
    )
    return Organisation.objects.create(
        name="Commune de Saint-Essai",
        kind=Organisation.Kind.COMMUNE,
        siren=f.make_siren(9000 + Organisation.objects.count()),
        commune=commune,
        **org,
    )


def instructing(plan, *, porteur, receipt, complete):
    case, porteur = walk.submitted_case(plan, receipt=receipt, porteur=porteur)
    agent = f.agent()
    transition_apply(instance=case, name="declare_complete", actor=agent, data={"date": complete})
    for fr in case.funding_requests.all():
        transition_apply(instance=fr, name="start_instruction", actor=agent)
    case.refresh_from_db()
    return case, agent


def leader_selected(case, agent):
    fr = case.funding_requests.get(scheme__code="LEADER")
    transition_apply(instance=fr, name="submit_to_committee", actor=agent, data={"pre_score": 15})
    transition_apply(instance=fr, name="select")  # the committee's outcome (automatic)
    fr.refresh_from_db()
    return fr


def claim_filed(porteur, fr, kind, amount, date):
    claim = services.claim_create(
        actor=porteur, funding_request=fr, data={"kind": kind, "amount": str(amount)}
    )
    transition_apply(instance=claim, name="file", actor=porteur, data={"date": date})
    claim.refresh_from_db()
    return claim


def verify(instructor, claim, date):
    transition_apply(instance=claim, name="verify", actor=instructor, data={"date": date})
    claim.refresh_from_db()
    return claim


def pay(instructor, claim, date, amount=None):
    transition_apply(
        instance=claim,
        name="pay",
        actor=instructor,
        data={"amount": str(amount or claim.amount), "date": date},
    )
    claim.refresh_from_db()
    return claim


LEADER_60K = {
    "expenses": [{"label": "Aménagement du tiers-lieu", "amount": "100000.00"}],
    "resources": [
        {"kind": "scheme", "scheme": "LEADER", "amount": "60000.00"},
        {"kind": "self", "amount": "40000.00"},
    ],
}
FILED = D(2026, 1, 20)


@pytest.fixture
def overdue():
    """A commune of 300 inhabitants whose LEADER installment of 48 000 € (80 % of a
    60 000 € grant) was filed on 20/01/2026 and is still unpaid."""
    organisation = small_commune(300)
    porteur = f.porteur(organisation)
    case, agent = instructing(
        LEADER_60K, porteur=porteur, receipt="2025-01-06", complete="2025-01-13"
    )
    fr = leader_selected(case, agent)
    instructor = walk.instructor_for("LEADER")
    fr = walk.grant_and_commit(
        fr, amount="60000.00", granted="2025-02-10", committed="2025-02-17", instructor=instructor
    )
    claim = claim_filed(porteur, fr, "installment", "48000.00", FILED.isoformat())
    return {
        "organisation": organisation,
        "porteur": porteur,
        "agent": agent,
        "case": case,
        "fr": fr,
        "claim": claim,
        "instructor": instructor,
    }


def live(kind, subject=None):
    qs = Alert.objects.filter(kind=kind, state__in=["open", "acknowledged"])
    if subject is not None:
        qs = qs.filter(subject_id=subject.pk)
    return qs


def day(n):
    return FILED + dt.timedelta(days=n)


# ---------------------------------------------------------------- overdue and treasury


def test_overdue_leader_installment_and_treasury_risk_of_a_small_commune(overdue):
    claim, organisation = overdue["claim"], overdue["organisation"]
    assert expected_delay_days(Scheme.objects.get(code="LEADER")) == 270

    # 285 days = expected delay + 15: not yet overdue
    alerts_evaluate(today=day(285))
    assert not live(K.PAYMENT_OVERDUE).exists()

    changed = alerts_evaluate(today=day(300))
    assert changed >= 2
    alert = live(K.PAYMENT_OVERDUE, claim).get()
    assert alert.severity == Alert.Severity.INFO
    assert alert.organisation == organisation and alert.case == overdue["case"]
    assert alert.message.startswith("Acompte LEADER de 48 000,00 € (dossier "), alert.message
    assert "déposé le 20/01/2026, impayé depuis 300 jours (délai attendu : 270 jours" in (
        alert.message
    )
    assert "Paiement projeté : au plus tôt le 16/11/2026" in alert.message
    assert "Pistes :" in alert.message and "prêt relais" in alert.message
    assert "relancer le financeur" in alert.message
    assert alert.data["amount"] == "48000.00"
    assert alert.data["filed_on"] == "2026-01-20"
    assert alert.data["days"] == 300
    assert alert.data["expected_delay"] == 270
    assert alert.data["projected_date"] == "2026-11-16"

    # the treasury forecast (issue 13): 120 000 € TTC of works spread over the coming
    # months, nothing declared in cash, the grant coming back late: the p80 trough is
    # far below zero, deeper than 150 € per inhabitant (45 000 €): critical
    forecast = treasury_forecast(organisation, today=day(300))
    depth = -forecast.trough_p80.balance
    assert depth > Decimal("45000")
    treasury = live(K.TREASURY_RISK, organisation).get()
    assert treasury.severity == Alert.Severity.CRITICAL
    assert treasury.case is None
    assert treasury.data["depth"] == str(depth)
    assert treasury.data["trough_p80"]["balance"] == str(forecast.trough_p80.balance)
    assert treasury.data["population"] == 300
    assert treasury.data["ratio"] == str((depth / 45000).quantize(Decimal("0.01")))
    assert "80e centile" in treasury.message and "sous zéro" in treasury.message
    assert "150,00 € par habitant (300 habitants : 45 000,00 €)" in treasury.message
    assert "Trésorerie disponible non déclarée" in treasury.message
    assert "48 000,00 € demandés et impayés" in treasury.message
    assert "paiement projeté le 16/11/2026" in treasury.message
    assert "Prêt relais simulé" in treasury.message
    assert treasury.data["bridging_loan"]["amount"] == str(forecast.loan.amount)
    assert treasury.data["projected_date"] == "2026-11-16"


def declare_cash(organisation, amount, on=None):
    Organisation.objects.filter(pk=organisation.pk).update(
        cash_at_hand=Decimal(amount), cash_at_hand_on=on
    )


def test_severity_rises_on_the_same_alert_and_payment_resolves_both(overdue):
    claim, porteur = overdue["claim"], overdue["porteur"]
    alerts_evaluate(today=day(300))
    alert = live(K.PAYMENT_OVERDUE, claim).get()
    alert_acknowledge(actor=porteur, alert=alert)
    alert.refresh_from_db()
    assert alert.state == Alert.State.ACKNOWLEDGED and alert.acknowledged_by == porteur

    # 1.5 × 270 = 405 days: warning, and the acknowledged alert is open again
    alerts_evaluate(today=day(404))
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.INFO and alert.state == Alert.State.ACKNOWLEDGED
    alerts_evaluate(today=day(405))
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.WARNING
    assert alert.state == Alert.State.OPEN and alert.acknowledged_by is None
    assert "impayé depuis 405 jours" in alert.message

    # 2 × 270 = 540 days: critical, still the same row
    alerts_evaluate(today=day(540))
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.CRITICAL
    assert alert.data["days"] == 540
    assert Alert.objects.filter(kind=K.PAYMENT_OVERDUE).count() == 1
    assert Alert.objects.filter(kind=K.TREASURY_RISK).count() == 1

    verify(overdue["instructor"], claim, "2026-11-18")
    pay(overdue["instructor"], claim, "2026-11-20")
    alerts_evaluate(today=day(541))
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED and alert.resolved_at is not None
    assert not live(K.PAYMENT_OVERDUE).exists()
    # the works still to pay keep the forecast below zero until the commune declares the
    # cash it holds: then the treasury alert resolves itself
    assert live(K.TREASURY_RISK).exists()
    declare_cash(overdue["organisation"], "500000.00", day(541))
    alerts_evaluate(today=day(541))
    treasury = Alert.objects.get(kind=K.TREASURY_RISK)
    assert treasury.state == Alert.State.RESOLVED and treasury.resolved_at is not None
    # a resolved alert stays resolved, and nothing new is opened for a paid claim
    assert alerts_evaluate(today=day(600)) == 0


def test_running_twice_creates_nothing_more(overdue):
    first = alerts_evaluate(today=day(300))
    rows = list(Alert.objects.order_by("pk").values_list("pk", "severity", "state", "updated_at"))
    assert first == len(rows) >= 2
    assert alerts_evaluate(today=day(300)) == 0
    assert (
        list(Alert.objects.order_by("pk").values_list("pk", "severity", "state", "updated_at"))
        == rows
    )


def test_rejected_claim_resolves_its_alert(overdue):
    alerts_evaluate(today=day(300))
    transition_apply(
        instance=overdue["claim"],
        name="reject",
        actor=overdue["instructor"],
        data={"motivation": "Pièces justificatives insuffisantes."},
    )
    alerts_evaluate(today=day(301))
    assert Alert.objects.get(kind=K.PAYMENT_OVERDUE).state == Alert.State.RESOLVED
    # the rejected 48 000 € leave the claims awaited; the grant is projected again
    treasury = live(K.TREASURY_RISK).get()
    assert "48 000,00 € demandés" not in treasury.message
    assert treasury.data["claims"] == []


def test_treasury_depth_per_inhabitant_is_a_setting_and_cash_limit_counts(overdue, settings):
    organisation = overdue["organisation"]
    today = day(300)
    # cash declared today: the p80 trough is 30 000 € above zero — no risk
    low = treasury_forecast(organisation, today=today).trough_p80.balance
    declare_cash(organisation, str(-low + 30000), today)
    alerts_evaluate(today=today)
    assert not live(K.TREASURY_RISK).exists()

    # a declared cash limit of 40 000 €: the trough (30 000 €) is 10 000 € below it
    Organisation.objects.filter(pk=organisation.pk).update(cash_limit=Decimal("40000.00"))
    alerts_evaluate(today=today)
    alert = live(K.TREASURY_RISK, organisation).get()
    assert "sous le seuil déclaré de 40 000,00 €" in alert.message
    assert alert.data["depth"] == "10000.00" and alert.data["cash_limit"] == "40000.00"
    # 10 000 € against 150 € × 300 inhabitants (45 000 €): 0.22, information
    assert alert.severity == Alert.Severity.INFO and alert.data["ratio"] == "0.22"

    # the size is a setting: 30 € per inhabitant (9 000 €) makes it critical
    settings.GUICHET_TREASURY_EUR_PER_INHABITANT = 30
    alerts_evaluate(today=today)
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.CRITICAL and alert.data["ratio"] == "1.11"

    # the limit lowered to 25 000 €: the trough is above it, the alert resolves itself
    Organisation.objects.filter(pk=organisation.pk).update(cash_limit=Decimal("25000.00"))
    alerts_evaluate(today=today)
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED


# ---------------------------------------------------------------- FEADER blocked

LEADER_REGION = {
    "expenses": [{"label": "Halle gourmande", "amount": "100000.00"}],
    "resources": [
        {"kind": "scheme", "scheme": "LEADER", "amount": "40000.00"},
        {"kind": "scheme", "scheme": "REGION_OCC", "amount": "20000.00"},
        {"kind": "self", "amount": "40000.00"},
    ],
}


def test_feader_share_waiting_for_the_region():
    porteur = f.porteur(small_commune(1200))
    case, agent = instructing(
        LEADER_REGION, porteur=porteur, receipt="2026-01-05", complete="2026-01-12"
    )
    leader = leader_selected(case, agent)
    leader = walk.grant_and_commit(
        leader, amount="40000.00", granted="2026-02-10", committed="2026-02-16"
    )
    region_instructor = walk.instructor_for("REGION_OCC")
    region = walk.grant_and_commit(
        case.funding_requests.get(scheme__code="REGION_OCC"),
        amount="20000.00",
        granted="2026-02-10",
        committed="2026-02-16",
        instructor=region_instructor,
    )
    ue = walk.instructor_for("LEADER")
    claim = claim_filed(porteur, leader, "installment", "10000.00", "2026-09-01")
    claim = verify(ue, claim, "2026-09-15")
    assert claim.state == ClaimState.AWAITING_COFINANCERS
    assert claim.awaiting_since == D(2026, 9, 15)

    alerts_evaluate(today=D(2026, 10, 14))  # 29 days
    assert not live(K.FEADER_BLOCKED).exists()
    alerts_evaluate(today=D(2026, 10, 15))  # 30 days: not more than 30
    assert not live(K.FEADER_BLOCKED).exists()
    alerts_evaluate(today=D(2026, 10, 16))  # 31 days
    alert = live(K.FEADER_BLOCKED, claim).get()
    assert alert.severity == Alert.Severity.INFO
    assert "en attente depuis le 15/09/2026, soit 31 jours" in alert.message
    assert "REGION_OCC" in alert.message and "relancer" in alert.message
    assert alert.data["cofinancers"] == ["REGION_OCC"]
    assert alert.data["awaiting_since"] == "2026-09-15"
    assert alert.data["amount"] == "10000.00"

    alerts_evaluate(today=D(2026, 11, 14))  # 60 days
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.WARNING

    # the Région pays its advance (30 % ≥ 25 %): the FEADER claim is released
    advance = claim_filed(porteur, region, "advance", "6000.00", "2026-10-01")
    pay(region_instructor, verify(region_instructor, advance, "2026-10-05"), "2026-10-20")
    claim.refresh_from_db()
    assert claim.state == ClaimState.VERIFIED
    alerts_evaluate(today=D(2026, 11, 20))
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED


# ---------------------------------------------------------------- installment ceiling, receivables


def test_installment_ceiling_and_receivables_of_completed_works():
    case, porteur, agent = walk.instructing_case(walk.DETR_PLAN)
    fr = walk.grant_and_commit(case.funding_requests.get(), amount="35000.00")
    claim_filed(porteur, fr, "advance", "10500.00", "2026-05-10")
    alerts_evaluate(today=D(2026, 5, 11))
    assert not live(K.INSTALLMENT_CEILING).exists()

    claim_filed(porteur, fr, "installment", "17500.00", "2026-06-10")
    alerts_evaluate(today=D(2026, 6, 11))
    alert = live(K.INSTALLMENT_CEILING, fr).get()
    assert alert.severity == Alert.Severity.INFO
    assert "28 000,00 €" in alert.message and "80 %" in alert.message
    assert "35 000,00 €" in alert.message and "7 000,00 €" in alert.message
    assert alert.data["amount"] == "28000.00" and alert.data["ceiling"] == "28000.00"

    rec = receivables(porteur.organisation, today=D(2026, 6, 11))
    assert rec.claimed == Decimal("28000.00") and rec.balances == []

    case.refresh_from_db()
    transition_apply(instance=case, name="start_works", actor=porteur, data={"date": "2026-04-20"})
    transition_apply(
        instance=case, name="complete_works", actor=porteur, data={"date": "2026-07-01"}
    )
    rec = receivables(porteur.organisation, today=D(2026, 7, 2))
    assert rec.claimed == Decimal("28000.00")
    assert [b.amount for b in rec.balances] == [Decimal("7000.00")]  # 35 000 − 0 − 28 000
    assert rec.total == Decimal("35000.00")
    assert {c.projection.projected_on for c in rec.claims} == {D(2026, 7, 9), D(2026, 8, 9)}

    alerts_evaluate(today=D(2026, 7, 2))
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.WARNING  # works completed: claim the balance
    assert alert.pk == live(K.INSTALLMENT_CEILING).get().pk

    fr = FundingRequest.objects.get(pk=fr.pk)  # the dossier is completed now
    claim_filed(porteur, fr, "balance", "7000.00", "2026-07-15")
    rec = receivables(porteur.organisation, today=D(2026, 7, 16))
    assert rec.balances == [] and rec.claimed == Decimal("35000.00")
    alerts_evaluate(today=D(2026, 7, 16))
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED


# ---------------------------------------------------------------- late forecast


def test_late_forecast_against_money_needed_by():
    case, porteur, agent = walk.instructing_case(walk.DETR_PLAN)
    fr = walk.grant_and_commit(case.funding_requests.get(), amount="35000.00")
    claim = claim_filed(porteur, fr, "advance", "10500.00", "2026-11-01")
    organisation = porteur.organisation
    assert projected_payment_date(claim, D(2026, 11, 10)) == D(2026, 12, 31)  # + 60 days

    Organisation.objects.filter(pk=organisation.pk).update(money_needed_by=D(2026, 12, 31))
    alerts_evaluate(today=D(2026, 11, 10))
    assert not live(K.LATE_FORECAST).exists()

    Organisation.objects.filter(pk=organisation.pk).update(money_needed_by=D(2026, 12, 15))
    alerts_evaluate(today=D(2026, 11, 10))
    alert = live(K.LATE_FORECAST, claim).get()
    assert alert.severity == Alert.Severity.INFO
    assert "paiement projeté le 31/12/2026, 16 jours après" in alert.message
    assert "(15/12/2026)" in alert.message and "10 500,00 €" in alert.message
    assert alert.data["projected_date"] == "2026-12-31"
    assert alert.data["money_needed_by"] == "2026-12-15"
    assert alert.data["days_late"] == 16

    Organisation.objects.filter(pk=organisation.pk).update(money_needed_by=D(2026, 11, 1))
    alerts_evaluate(today=D(2026, 11, 11))
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.WARNING  # 60 days late
    assert alert.data["days_late"] == 60 and alert.pk == live(K.LATE_FORECAST).get().pk

    Organisation.objects.filter(pk=organisation.pk).update(money_needed_by=D(2027, 1, 31))
    alerts_evaluate(today=D(2026, 11, 12))
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED


# ---------------------------------------------------------------- learned delay


def test_expected_delay_learns_the_median_of_the_last_twenty_payments():
    case, porteur, agent = walk.instructing_case(
        walk.DETR_PLAN, receipt="2024-01-05", complete="2024-01-10"
    )
    fr = walk.grant_and_commit(
        case.funding_requests.get(), amount="35000.00", granted="2024-01-15", committed="2024-01-20"
    )
    instructor = walk.instructor_for("DETR")
    detr = Scheme.objects.get(code="DETR")

    def settle(filed: dt.date, delay: int):
        claim = claim_filed(porteur, fr, "installment", "100.00", filed.isoformat())
        verify(instructor, claim, filed.isoformat())
        pay(instructor, claim, (filed + dt.timedelta(days=delay)).isoformat())

    for i in range(4):
        settle(D(2024, 2, 1) + dt.timedelta(days=i), 200)
    assert Payment.objects.filter(scheme=detr).count() == 4
    assert expected_delay_days(detr) == 60  # the parameter, 4 payments only
    settle(D(2024, 2, 5), 200)
    assert expected_delay_days(detr) == 200  # 5 payments: their median

    for i in range(10):
        settle(D(2025, 1, 6) + dt.timedelta(days=i), 10)
        settle(D(2025, 1, 6) + dt.timedelta(days=i), 40)
    # the last 20 payments: ten of 10 days, ten of 40 → 25 (all 25 would give 40)
    assert expected_delay_days(detr) == 25
    # as of a day before the recent ones, only the old five counted
    assert expected_delay_days(detr, today=D(2024, 12, 31)) == 200

    claim = claim_filed(porteur, fr, "installment", "100.00", "2025-06-01")
    assert projected_payment_date(claim, D(2025, 6, 10)) == D(2025, 6, 26)
    late = claim_projection(claim, D(2025, 7, 10))
    assert late.projected_on == D(2025, 7, 10) and late.expected_passed
    assert late.expected_on == D(2025, 6, 26)


# ---------------------------------------------------------------- acknowledgement, visibility


def _user(role, **kw):
    return f.UserFactory(role=role, **kw)


def test_acknowledgement_rights(overdue):
    alerts_evaluate(today=day(300))
    alert = live(K.PAYMENT_OVERDUE).get()
    organisation = overdue["organisation"]

    with pytest.raises(DomainError) as err:
        alert_acknowledge(actor=f.porteur(), alert=alert)  # another organisation
    assert err.value.code == "not_found"
    for intruder in (
        _user(User.Role.EPCI_PARTNER, epci=organisation.epci),
        walk.instructor_for("LEADER"),
        _user(User.Role.COMMITTEE_MEMBER, college="public"),
    ):
        with pytest.raises(DomainError) as err:
            alert_acknowledge(actor=intruder, alert=alert)
        assert err.value.code in ("forbidden", "not_found")
    alert.refresh_from_db()
    assert alert.state == Alert.State.OPEN

    for role in (User.Role.AGENT, User.Role.DIRECTOR, User.Role.ADMIN):
        target = live(K.TREASURY_RISK).get()
        Alert.objects.filter(pk=target.pk).update(state=Alert.State.OPEN)
        who = _user(role)
        acknowledged = alert_acknowledge(actor=who, alert=target)
        assert acknowledged.state == Alert.State.ACKNOWLEDGED
        assert acknowledged.acknowledged_by == who and acknowledged.acknowledged_at

    mine = alert_acknowledge(actor=overdue["porteur"], alert=alert)
    assert mine.state == Alert.State.ACKNOWLEDGED
    # acknowledgement does not end it: the next pass keeps it acknowledged (same severity)
    alerts_evaluate(today=day(301))
    alert.refresh_from_db()
    assert alert.state == Alert.State.ACKNOWLEDGED

    transition_apply(
        instance=overdue["claim"],
        name="reject",
        actor=overdue["instructor"],
        data={"motivation": "Hors délai."},
    )
    alerts_evaluate(today=day(302))
    alert.refresh_from_db()
    with pytest.raises(DomainError) as err:
        alert_acknowledge(actor=overdue["agent"], alert=alert)
    assert err.value.code == "unavailable"


def test_visibility_per_role(overdue):
    alerts_evaluate(today=day(300))
    organisation = overdue["organisation"]
    kinds = {K.PAYMENT_OVERDUE, K.TREASURY_RISK, K.INSTALLMENT_CEILING}
    assert set(Alert.objects.values_list("kind", flat=True)) == kinds

    def seen(user, **filters):
        return set(alert_list(user=user, filters=filters).values_list("kind", flat=True))

    other_epci = EPCI.objects.exclude(pk=organisation.epci_id).first()
    assert seen(overdue["porteur"]) == kinds
    assert seen(f.porteur()) == set()
    assert seen(overdue["agent"]) == kinds
    assert seen(_user(User.Role.DIRECTOR)) == kinds
    assert seen(_user(User.Role.EPCI_PARTNER, epci=organisation.epci)) == kinds
    assert seen(_user(User.Role.EPCI_PARTNER, epci=other_epci)) == set()
    # a funder sees the alerts about its own requests and claims, not the treasury
    assert seen(walk.instructor_for("LEADER")) == {K.PAYMENT_OVERDUE, K.INSTALLMENT_CEILING}
    assert seen(walk.instructor_for("DETR")) == set()
    assert seen(_user(User.Role.COMMITTEE_MEMBER, college="public")) == set()

    assert seen(overdue["agent"], kind=K.TREASURY_RISK) == {K.TREASURY_RISK}
    alert_acknowledge(actor=overdue["porteur"], alert=live(K.TREASURY_RISK).get())
    assert seen(overdue["porteur"], state="acknowledged") == {K.TREASURY_RISK}
    assert seen(overdue["porteur"], state="open") == kinds - {K.TREASURY_RISK}
    with pytest.raises(DomainError):
        alert_list(user=overdue["agent"], filters={"kind": "nope"})


def test_a_pass_reads_in_a_bounded_number_of_queries(overdue, django_assert_max_num_queries):
    porteur, fr = overdue["porteur"], overdue["fr"]
    # a second dossier of another commune, same scheme: the pass must not query per row
    other = f.porteur(small_commune(250))
    case, agent = instructing(
        LEADER_60K, porteur=other, receipt="2025-01-06", complete="2025-01-13"
    )
    fr2 = walk.grant_and_commit(
        leader_selected(case, agent),
        amount="60000.00",
        granted="2025-02-10",
        committed="2025-02-17",
    )
    claim_filed(other, fr2, "installment", "40000.00", "2026-01-21")  # 160 €/hab.
    assert porteur.organisation_id != other.organisation_id and fr.pk != fr2.pk
    alerts_evaluate(today=day(300))
    assert live(K.PAYMENT_OVERDUE).count() == 2 and live(K.TREASURY_RISK).count() == 2
    # the receivables, then per chunk of organisations their forecasts (dossiers, plans,
    # invoices, requests, claims, schemes and one read of each scheme's last payments,
    # payments since the declared cash), the territories with LEADER action sheets (none
    # here): bounded by the schemes, not by the rows
    with django_assert_max_num_queries(14 + Scheme.objects.count()):
        assert alerts_evaluate(today=day(300)) == 0


def test_without_declared_cash_only_a_trough_deeper_than_the_commune_warns(overdue):
    organisation = overdue["organisation"]
    Commune.objects.filter(pk=organisation.commune_id).update(population=100000)
    alerts_evaluate(today=day(300))
    assert not live(K.TREASURY_RISK).exists()  # 15 M€ of « size », nothing declared
    declare_cash(organisation, "0.00", day(300))  # declared: the trough below zero counts
    alerts_evaluate(today=day(300))
    alert = live(K.TREASURY_RISK, organisation).get()
    assert alert.severity == Alert.Severity.INFO and "non déclarée" not in alert.message
