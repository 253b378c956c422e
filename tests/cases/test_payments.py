"""Payment claims through the services and ``transition_apply``: ceilings, deadlines,
the FEADER co-financing rule, amounts paid, and the automatic closing of the dossier."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog

from cases import services
from cases.models import Case, CaseState, ClaimState, Payment, PaymentClaim, RequestState
from engine.errors import DomainError
from engine.models import Deadline
from engine.transitions import transition_apply
from schemes.models import Scheme
from tests.engine import walk

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


# ---------------------------------------------------------------- helpers
# Each step loads its objects afresh, as an API request does.


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def new_claim(porteur, fr, kind, amount) -> PaymentClaim:
    return services.claim_create(
        actor=porteur, funding_request=fresh(fr), data={"kind": kind, "amount": str(amount)}
    )


def file(porteur, claim, date="2026-05-10") -> PaymentClaim:
    transition_apply(instance=fresh(claim), name="file", actor=porteur, data={"date": date})
    return claim


def claim_filed(porteur, fr, kind, amount, date="2026-05-10") -> PaymentClaim:
    return file(porteur, new_claim(porteur, fr, kind, amount), date)


def verify(instructor, claim, date="2026-06-01") -> PaymentClaim:
    transition_apply(instance=fresh(claim), name="verify", actor=instructor, data={"date": date})
    claim.refresh_from_db()
    return claim


def pay(instructor, claim, amount=None, date="2026-06-15") -> PaymentClaim:
    transition_apply(
        instance=fresh(claim),
        name="pay",
        actor=instructor,
        data={"amount": str(amount if amount is not None else claim.amount), "date": date},
    )
    claim.refresh_from_db()
    return claim


def settle(porteur, instructor, fr, kind, amount, filed="2026-05-10"):
    claim = claim_filed(porteur, fr, kind, amount, filed)
    verify(instructor, claim)
    return pay(instructor, claim)


def refused(call, *needles):
    with pytest.raises(DomainError) as err:
        call()
    for needle in needles:
        assert needle in err.value.message, err.value.message
    return err.value


@pytest.fixture
def detr():
    """A DETR dossier: 35 000 € granted (of 40 000 € asked), convention signed."""
    case, porteur, agent = walk.instructing_case(walk.DETR_PLAN)
    fr = case.funding_requests.get()
    prefecture = walk.instructor_for("DETR")
    walk.grant_and_commit(fr, amount="35000.00", instructor=prefecture)
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED
    return case, fr, porteur, agent, prefecture


def start_works(case, actor, date="2026-04-20"):
    transition_apply(instance=fresh(case), name="start_works", actor=actor, data={"date": date})


def complete_works(case, actor, date="2026-05-04"):
    transition_apply(instance=fresh(case), name="complete_works", actor=actor, data={"date": date})


# ---------------------------------------------------------------- DETR ceilings


def test_claims_need_a_committed_grant():
    case, porteur, agent = walk.instructing_case(walk.DETR_PLAN)
    fr = case.funding_requests.get()
    refused(lambda: new_claim(porteur, fr, "advance", "100.00"), "engagée")


def test_detr_advance_up_to_thirty_percent(detr):
    _, fr, porteur, _, _ = detr
    claim = new_claim(porteur, fr, "advance", "10500.01")
    err = refused(
        lambda: file(porteur, claim),
        "Cette avance de 10 500,01 € irait au-delà du plafond de 10 500,00 € (30 %",
        "10 500,00 € au plus",
    )
    assert err.code == "guard" and err.status == 400
    claim.refresh_from_db()
    assert claim.state == ClaimState.DRAFT and claim.filed_on is None

    ok = claim_filed(porteur, fr, "advance", "10500.00")
    ok.refresh_from_db()
    assert ok.state == ClaimState.FILED and ok.filed_on == D(2026, 5, 10)
    # a second advance, even of one cent, goes over the ceiling
    refused(
        lambda: claim_filed(porteur, fr, "advance", "0.01"),
        "les avances atteindraient 10 500,01 € (10 500,00 € déjà demandés), au-delà du plafond",
    )


def test_advance_and_installments_up_to_eighty_percent_before_the_balance(detr):
    _, fr, porteur, _, _ = detr
    claim_filed(porteur, fr, "advance", "10500.00")
    refused(
        lambda: claim_filed(porteur, fr, "installment", "17500.01"),
        "Avec cet acompte de 17 500,01 €, avance et acomptes atteindraient 28 000,01 €",
        "au-delà de 80 % de l'aide avant le solde (28 000,00 €) : 17 500,00 € au plus",
    )
    claim_filed(porteur, fr, "installment", "10000.00")
    claim_filed(porteur, fr, "installment", "7500.00")  # exactly 80 %
    refused(lambda: claim_filed(porteur, fr, "installment", "0.01"), "au-delà de 80 %")


def test_withdrawn_or_rejected_claims_free_their_share_of_the_ceiling(detr):
    _, fr, porteur, _, prefecture = detr
    first = claim_filed(porteur, fr, "advance", "10500.00")
    transition_apply(
        instance=fresh(first),
        name="reject",
        actor=prefecture,
        data={"motivation": "Pièces justificatives absentes."},
    )
    claim_filed(porteur, fr, "advance", "10500.00")


def test_the_balance_needs_the_completion_of_the_works(detr):
    case, fr, porteur, agent, _ = detr
    start_works(case, porteur)
    claim = new_claim(porteur, fr, "balance", "30000.00")
    refused(lambda: file(porteur, claim), "Le solde demande l'achèvement")
    complete_works(case, porteur)
    file(porteur, claim)
    claim.refresh_from_db()
    assert claim.state == ClaimState.FILED
    refused(lambda: claim_filed(porteur, fr, "balance", "1.00"), "déjà en cours")


def test_claims_never_exceed_the_grant(detr):
    case, fr, porteur, _, _ = detr
    claim_filed(porteur, fr, "advance", "10500.00")
    start_works(case, porteur)
    complete_works(case, porteur)
    refused(
        lambda: claim_filed(porteur, fr, "balance", "24500.01"),
        "Le total demandé (35 000,01 €) dépasserait l'aide accordée (35 000,00 €)",
    )
    claim_filed(porteur, fr, "balance", "24500.00")


# ---------------------------------------------------------------- deadlines


def test_claim_after_the_completion_deadline_is_refused(detr):
    """CGCT R2334-29: no claim after the completion period (a parameter, shortened here)."""
    case, fr, porteur, _, _ = detr
    Scheme.objects.filter(code="DETR").update(completion_months=2)
    start_works(case, porteur, "2026-04-20")
    deadline = Deadline.objects.get(aggregate_id=case.pk, kind="works_completion")
    assert deadline.due_on == D(2026, 6, 22)  # 20 June 2026 is a Saturday
    claim_filed(porteur, fr, "installment", "1000.00", date="2026-06-22")  # last day: admissible
    err = refused(
        lambda: claim_filed(porteur, fr, "installment", "1000.00", date="2026-06-23"),
        "Demande irrecevable",
        "23/06/2026",
        "22/06/2026",
    )
    assert err.code == "guard"


def test_balance_claim_after_its_deadline_is_refused(detr):
    # A scheme whose parameters set a balance deadline (LEADER's convention does; DETR and
    # DSIL have none since the revised rule 6, so the parameter is set here).
    case, fr, porteur, _, _ = detr
    Scheme.objects.filter(pk=fr.scheme_id).update(balance_claim_months=6)
    start_works(case, porteur, "2026-04-20")
    complete_works(case, porteur, "2026-05-04")
    deadline = Deadline.objects.get(aggregate_id=case.pk, kind="balance_claim")
    assert deadline.due_on == D(2026, 11, 4)
    claim = new_claim(porteur, fr, "balance", "35000.00")
    refused(
        lambda: file(porteur, claim, "2026-11-05"),
        "Demande irrecevable",
        "« Déposer la demande de solde »",
    )
    file(porteur, claim, "2026-11-04")
    claim.refresh_from_db()
    assert claim.state == ClaimState.FILED
    deadline.refresh_from_db()
    assert deadline.state == "met"


# ---------------------------------------------------------------- pay guard and amounts paid


def test_pay_guard(detr):
    _, fr, porteur, _, prefecture = detr
    claim = claim_filed(porteur, fr, "advance", "10000.00")
    refused(lambda: pay(prefecture, claim), "n'est pas possible depuis l'état « Déposée »")
    verify(prefecture, claim)
    refused(lambda: pay(prefecture, claim, "10000.01"), "dépasse le montant demandé")
    refused(lambda: pay(prefecture, claim, "0"), "doit être positif")
    refused(lambda: pay(prefecture, claim, date="2026-05-09"), "ne peut précéder la demande")
    refused(lambda: pay(prefecture, claim, date="2099-01-01"), "futur")
    other_funder = walk.instructor_for("REGION_OCC")
    err = refused(lambda: pay(other_funder, claim))
    assert err.code == "forbidden"
    claim.refresh_from_db()
    assert claim.state == ClaimState.VERIFIED
    fr.refresh_from_db()
    assert fr.amount_paid == 0 and not Payment.objects.exists()


def test_request_goes_paying_then_paid_and_the_dossier_closes_itself(detr):
    case, fr, porteur, agent, prefecture = detr
    start_works(case, porteur)

    settle(porteur, prefecture, fr, "advance", "10500.00")
    fr.refresh_from_db()
    assert fr.state == RequestState.PAYING and fr.amount_paid == Decimal("10500.00")

    settle(porteur, prefecture, fr, "installment", "17500.00")
    fr.refresh_from_db()
    assert fr.state == RequestState.PAYING and fr.amount_paid == Decimal("28000.00")
    # the envelopes' « paid » reads amount_paid: the sum of the payments recorded
    recorded = Payment.objects.filter(claim__funding_request=fr).values_list("amount", flat=True)
    assert fr.amount_paid == sum(recorded, Decimal(0))

    complete_works(case, porteur)
    balance = claim_filed(porteur, fr, "balance", "7000.00")
    verify(prefecture, balance)
    pay(prefecture, balance, "6500.00")  # expenses lower than planned: a smaller balance
    assert balance.state == ClaimState.PAID and balance.paid_amount == Decimal("6500.00")
    fr.refresh_from_db()
    assert fr.state == RequestState.PAID and fr.amount_paid == Decimal("34500.00")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    log = StateLog.objects.get(
        content_type=ContentType.objects.get_for_model(Case), object_id=case.pk, transition="close"
    )
    assert log.by is None
    payments = list(Payment.objects.filter(claim__funding_request=fr).order_by("id"))
    assert [p.amount for p in payments] == [Decimal(x) for x in ("10500.00", "17500.00", "6500.00")]
    assert all(p.delay_days == 36 and p.scheme.code == "DETR" for p in payments)


def test_the_dossier_closes_only_when_every_granted_request_is_paid():
    plan = {
        "expenses": [{"label": "Salle des fêtes", "amount": "100000.00"}],
        "resources": [
            {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
            {"kind": "scheme", "scheme": "REGION_OCC", "amount": "10000.00"},
            {"kind": "self", "amount": "50000.00"},
        ],
    }
    case, porteur, agent = walk.instructing_case(plan)
    state, region = walk.instructor_for("DETR"), walk.instructor_for("REGION_OCC")
    detr_fr = case.funding_requests.get(scheme__code="DETR")
    region_fr = case.funding_requests.get(scheme__code="REGION_OCC")
    walk.grant_and_commit(detr_fr, amount="40000.00", instructor=state)
    walk.grant_and_commit(region_fr, amount="10000.00", instructor=region)
    start_works(case, porteur)
    complete_works(case, porteur)

    settle(porteur, state, detr_fr, "balance", "40000.00")
    detr_fr.refresh_from_db()
    case.refresh_from_db()
    assert detr_fr.state == RequestState.PAID
    assert case.state == CaseState.COMPLETED  # the Région has not paid yet

    settle(porteur, region, region_fr, "balance", "10000.00")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED


# ---------------------------------------------------------------- FEADER and its co-financers


@pytest.fixture
def leader_detr():
    """LEADER 40 000 € and DETR 20 000 € granted and committed on the same dossier."""
    case, porteur, agent = walk.instructing_case(walk.LEADER_DETR_PLAN)
    leader_fr = case.funding_requests.get(scheme__code="LEADER")
    detr_fr = case.funding_requests.get(scheme__code="DETR")
    gal, prefecture = walk.instructor_for("LEADER"), walk.instructor_for("DETR")
    walk.grant_and_commit(detr_fr, amount="20000.00", instructor=prefecture)
    transition_apply(
        instance=leader_fr, name="submit_to_committee", actor=agent, data={"pre_score": "15"}
    )
    transition_apply(instance=leader_fr, name="select", comment="Comité du 02/04/2026.")
    walk.grant_and_commit(leader_fr, amount="40000.00", instructor=gal)
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED
    start_works(case, porteur)
    return case, porteur, leader_fr, detr_fr, gal, prefecture


def test_leader_has_no_advance(leader_detr):
    _, porteur, leader_fr, *_ = leader_detr
    refused(
        lambda: claim_filed(porteur, leader_fr, "advance", "1000.00"), "ne prévoit pas d'avance"
    )


def test_leader_installments_up_to_eighty_percent(leader_detr):
    _, porteur, leader_fr, *_ = leader_detr
    refused(lambda: claim_filed(porteur, leader_fr, "installment", "32000.01"), "80 %")
    claim_filed(porteur, leader_fr, "installment", "32000.00")


def test_feader_waits_for_its_cofinancers_then_is_released(leader_detr):
    case, porteur, leader_fr, detr_fr, gal, prefecture = leader_detr
    feader_claim = claim_filed(porteur, leader_fr, "installment", "16000.00")  # 40 %
    verify(gal, feader_claim, "2026-06-01")
    assert feader_claim.state == ClaimState.AWAITING_COFINANCERS
    assert feader_claim.awaiting_since == D(2026, 6, 1)
    refused(lambda: pay(gal, feader_claim), "n'est pas possible depuis l'état")

    settle(porteur, prefecture, detr_fr, "advance", "6000.00")  # DETR at 30 %
    feader_claim.refresh_from_db()
    assert feader_claim.state == ClaimState.AWAITING_COFINANCERS

    settle(porteur, prefecture, detr_fr, "installment", "2000.00")  # DETR at 40 %
    feader_claim.refresh_from_db()
    assert feader_claim.state == ClaimState.VERIFIED
    release = StateLog.objects.get(
        content_type=ContentType.objects.get_for_model(PaymentClaim),
        object_id=feader_claim.pk,
        transition="release",
    )
    assert release.by is None

    pay(gal, feader_claim)
    leader_fr.refresh_from_db()
    assert feader_claim.state == ClaimState.PAID
    assert leader_fr.state == RequestState.PAYING and leader_fr.amount_paid == Decimal("16000.00")


def test_feader_payment_refused_beyond_the_cofinancers_fraction(leader_detr):
    case, porteur, leader_fr, detr_fr, gal, prefecture = leader_detr
    settle(porteur, prefecture, detr_fr, "advance", "6000.00")  # DETR at 30 %
    first = claim_filed(porteur, leader_fr, "installment", "12000.00")  # → 30 %: equal is enough
    second = claim_filed(porteur, leader_fr, "installment", "4000.00")  # → 10 % on its own
    assert verify(gal, first).state == ClaimState.VERIFIED
    assert verify(gal, second).state == ClaimState.VERIFIED
    pay(gal, first)
    # after the first payment FEADER would reach 40 % while the DETR is at 30 %
    err = refused(lambda: pay(gal, second), "Paiement FEADER impossible", "cofinanceurs")
    assert err.code == "guard"
    second.refresh_from_db()
    leader_fr.refresh_from_db()
    assert second.state == ClaimState.VERIFIED and leader_fr.amount_paid == Decimal("12000.00")
    settle(porteur, prefecture, detr_fr, "installment", "2000.00")  # DETR at 40 %
    assert pay(gal, second).state == ClaimState.PAID
