"""Revised rule 11 (issue 11) through the API: the FEADER « same fraction » is measured
against each co-financer's amount finally due, so a co-financer's reduced balance never
blocks FEADER for ever; the programme's last date for paid expenditure is a deadline of
every LEADER request, and a payment projected after it raises an alert."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from cases import payments
from cases.models import Case, ClaimState, FundingRequest, PaymentClaim, RequestState
from engine.models import Deadline
from engine.transitions import transition_apply
from notifications.alerts import alerts_evaluate
from notifications.models import Alert
from schemes.models import Scheme
from tests.engine import walk

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
D = dt.date


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def received(fr, day: str) -> None:
    """The funder's receipt (revised rule 1), where the model records it."""
    names = {f.name for f in FundingRequest._meta.get_fields()}
    dates = {n: day for n in ("received_on", "eligibility_start") if n in names}
    if dates:
        FundingRequest.objects.filter(pk=fr.pk).update(**dates)


@pytest.fixture
def leader_detr():
    """LEADER 40 000 € and DETR 20 000 € granted and committed on 100 000 € of eligible
    cost; works started and completed."""
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
    for fr in (leader_fr, detr_fr):
        received(fr, "2026-03-02")
    for name, day in (("start_works", "2026-04-20"), ("complete_works", "2026-05-04")):
        transition_apply(
            instance=Case.objects.get(pk=case.pk), name=name, actor=porteur, data={"date": day}
        )
    return case, porteur, leader_fr, detr_fr, gal, prefecture


def file(porteur, fr, kind, amount, *, filed="2026-05-10", actual_cost=None) -> int:
    body = {"kind": kind, "amount": amount}
    if actual_cost:
        body["actual_cost"] = actual_cost
    r = client(porteur).post(f"{V1}/funding-requests/{fr.pk}/payment-claims/", body, format="json")
    assert r.status_code == 201, r.data
    r = client(porteur).post(
        f"{V1}/payment-claims/{r.data['id']}/transitions/file/", {"date": filed}, format="json"
    )
    assert r.status_code == 200, r.data
    return r.data["id"]


def move(user, pk, name, body=None):
    return client(user).post(
        f"{V1}/payment-claims/{pk}/transitions/{name}/", body or {}, format="json"
    )


def test_feader_is_paid_once_a_reduced_cofinancer_balance_is_closed(leader_detr):
    """FEADER at 95 %, DETR closed at 90 % of its grant (balance on a lower actual cost):
    FEADER can be paid (it was blocked for ever before rule 11)."""
    case, porteur, leader_fr, detr_fr, gal, prefecture = leader_detr
    # DETR: 6 000 € advance, then the balance on 90 000 € actually spent: 18 000 € due.
    advance = file(porteur, detr_fr, "advance", "6000.00")
    assert move(prefecture, advance, "verify", {"date": "2026-05-20"}).status_code == 200
    assert (
        move(prefecture, advance, "pay", {"amount": "6000.00", "date": "2026-05-25"}).status_code
        == 200
    )
    balance = file(porteur, detr_fr, "balance", "12000.00", actual_cost="90000.00")
    assert move(prefecture, balance, "verify", {"date": "2026-06-01"}).status_code == 200
    r = move(prefecture, balance, "pay", {"amount": "12000.00", "date": "2026-06-05"})
    assert r.status_code == 200, r.data
    detr_fr.refresh_from_db()
    assert detr_fr.state == RequestState.PAID
    assert detr_fr.amount_paid == Decimal("18000.00")  # 90 % of its 20 000 € grant
    assert payments.request_amount_due(detr_fr) == Decimal("18000.00")

    # FEADER: 32 000 € installment (80 %), then 6 000 € more → 95 %.
    first = file(porteur, leader_fr, "installment", "32000.00")
    r = move(gal, first, "verify", {"date": "2026-06-10"})
    assert r.data["state"] == ClaimState.VERIFIED, r.data
    assert move(gal, first, "pay", {"amount": "32000.00", "date": "2026-06-20"}).status_code == 200
    second = file(porteur, leader_fr, "balance", "6000.00", filed="2026-06-21")
    r = move(gal, second, "verify", {"date": "2026-06-25"})
    assert r.data["state"] == ClaimState.VERIFIED, r.data  # not awaiting_cofinancers
    r = move(gal, second, "pay", {"amount": "6000.00", "date": "2026-07-01"})
    assert r.status_code == 200, r.data
    leader_fr.refresh_from_db()
    assert leader_fr.amount_paid == Decimal("38000.00")  # 95 % of the FEADER grant
    assert not Alert.objects.filter(kind=Alert.Kind.FEADER_BLOCKED, state="open").exists()


def test_feader_still_waits_for_a_cofinancer_below_its_amount_due(leader_detr):
    case, porteur, leader_fr, detr_fr, gal, prefecture = leader_detr
    advance = file(porteur, detr_fr, "advance", "6000.00")  # DETR at 30 % of 20 000 €
    assert move(prefecture, advance, "verify", {"date": "2026-05-20"}).status_code == 200
    assert (
        move(prefecture, advance, "pay", {"amount": "6000.00", "date": "2026-05-25"}).status_code
        == 200
    )
    claim = file(porteur, leader_fr, "installment", "16000.00")  # FEADER → 40 %
    r = move(gal, claim, "verify", {"date": "2026-06-01"})
    assert r.data["state"] == ClaimState.AWAITING_COFINANCERS
    # The DETR balance on 40 000 € actually spent: 8 000 € due, 2 000 € left: DETR at 100 %
    # of its amount due. FEADER is released.
    balance = file(porteur, detr_fr, "balance", "2000.00", actual_cost="40000.00")
    assert move(prefecture, balance, "verify", {"date": "2026-06-02"}).status_code == 200
    assert (
        move(prefecture, balance, "pay", {"amount": "2000.00", "date": "2026-06-03"}).status_code
        == 200
    )
    assert PaymentClaim.objects.get(pk=claim).state == ClaimState.VERIFIED


def test_programme_end_is_a_deadline_of_every_leader_request_with_its_alert(leader_detr):
    case, porteur, leader_fr, detr_fr, gal, _ = leader_detr
    end = Scheme.objects.get(code="LEADER").programme_end
    assert end == D(2029, 12, 31)
    deadline = Deadline.objects.get(subject_id=leader_fr.pk, kind="programme_end")
    assert deadline.due_on == end and deadline.state == Deadline.State.OPEN
    assert not Deadline.objects.filter(subject_id=detr_fr.pk, kind="programme_end").exists()

    claim = file(porteur, leader_fr, "installment", "10000.00", filed="2026-05-10")
    alerts_evaluate(today=D(2029, 6, 1))  # projected 01/06/2029 at the earliest: in time
    assert not Alert.objects.filter(kind=Alert.Kind.PROGRAMME_END).exists()
    alerts_evaluate(today=D(2030, 1, 15))  # a payment projected after the programme's end
    alert = Alert.objects.get(kind=Alert.Kind.PROGRAMME_END, state="open")
    assert alert.subject_id == claim and alert.data["programme_end"] == "2029-12-31"
    assert "31/12/2029" in alert.message and "FEADER" in alert.message
