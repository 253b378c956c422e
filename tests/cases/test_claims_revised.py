"""Revised rule 6 (issue 11) through the API: a DETR claim is admissible until the
completion deadline (its current due date, extension included) and refused after it
(CGCT R2334-29), with no separate balance deadline; the balance is computed on the actual
eligible cost; an overpaid grant gets a recovery order (reversement) recorded against the
request by its funder's instructor, in the history."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog
from rest_framework.test import APIClient

from cases import payments
from cases.models import CaseState, ClaimState, PaymentClaim, RecoveryOrder, RequestState
from engine.models import Deadline
from engine.transitions import transition_apply
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


@pytest.fixture
def detr():
    """DETR: 35 000 € granted on 100 000 € of eligible cost, committed, works started on
    20/04/2026 (completion deadline: 4 years later)."""
    case, porteur, agent = walk.instructing_case(walk.DETR_PLAN)
    fr = case.funding_requests.get()
    prefecture = walk.instructor_for("DETR")
    walk.grant_and_commit(fr, amount="35000.00", instructor=prefecture)
    received(fr, "2026-03-02")
    transition_apply(
        instance=type(case).objects.get(pk=case.pk),
        name="start_works",
        actor=porteur,
        data={"date": "2026-04-20"},
    )
    return case, fr, porteur, prefecture


def received(fr, day: str) -> None:
    """The funder's receipt (revised rule 1), where the model records it: the works may start
    from it on."""
    names = {f.name for f in type(fr)._meta.get_fields()}
    dates = {n: day for n in ("received_on", "eligibility_start") if n in names}
    if dates:
        type(fr).objects.filter(pk=fr.pk).update(**dates)


def claim(porteur, fr, kind, amount, *, filed="2026-05-10", actual_cost=None):
    body = {"kind": kind, "amount": amount}
    if actual_cost is not None:
        body["actual_cost"] = actual_cost
    r = client(porteur).post(f"{V1}/funding-requests/{fr.pk}/payment-claims/", body, format="json")
    assert r.status_code == 201, r.data
    pk = r.data["id"]
    r = client(porteur).post(
        f"{V1}/payment-claims/{pk}/transitions/file/", {"date": filed}, format="json"
    )
    return pk, r


def move(user, pk, name, body=None):
    return client(user).post(
        f"{V1}/payment-claims/{pk}/transitions/{name}/", body or {}, format="json"
    )


def settle(porteur, prefecture, fr, kind, amount, **kw):
    pk, r = claim(porteur, fr, kind, amount, **kw)
    assert r.status_code == 200, r.data
    assert move(prefecture, pk, "verify", {"date": "2026-06-01"}).status_code == 200
    r = move(prefecture, pk, "pay", {"amount": amount, "date": "2026-06-15"})
    assert r.status_code == 200, r.data
    return pk


def complete(case, porteur, day="2026-05-04"):
    transition_apply(
        instance=type(case).objects.get(pk=case.pk),
        name="complete_works",
        actor=porteur,
        data={"date": day},
    )


def test_detr_has_no_separate_balance_deadline_and_a_legal_balance_is_accepted(detr):
    case, fr, porteur, prefecture = detr
    assert Scheme.objects.get(code="DETR").balance_claim_months is None
    complete(case, porteur, "2026-05-04")
    assert not Deadline.objects.filter(aggregate_id=case.pk, kind="balance_claim").exists()
    # Seven months after the completion: past where a 6-month balance deadline would have
    # fallen (04/11/2026), well within the 4 years of the completion deadline.
    pk, r = claim(porteur, fr, "balance", "35000.00", filed="2026-11-30")
    assert r.status_code == 200, r.data
    assert r.data["state"] == ClaimState.FILED


def test_a_claim_after_the_completion_deadline_is_refused_even_once_completed(detr):
    case, fr, porteur, _ = detr
    deadline = Deadline.objects.get(subject_id=fr.pk, kind="works_completion")
    # 4 years from the start: 20/04/2030 is a Saturday, 22/04 Easter Monday
    assert deadline.due_on == D(2030, 4, 23)
    deadline.due_on = D(2026, 6, 22)  # shortened here
    deadline.save(update_fields=["due_on"])
    complete(case, porteur, "2026-05-04")  # completion in time: the deadline is met…
    deadline.refresh_from_db()
    assert deadline.state == Deadline.State.MET
    # …and still bounds the claims (R2334-29): the last day is admissible, the next is not.
    _, r = claim(porteur, fr, "installment", "1000.00", filed="2026-06-23")
    assert r.status_code == 400, r.data
    assert "irrecevable" in r.data["detail"] and "22/06/2026" in r.data["detail"]
    _, r = claim(porteur, fr, "balance", "34000.00", filed="2026-06-22")
    assert r.status_code == 200, r.data


def test_the_completion_deadline_moved_by_an_extension_is_the_one_read(detr):
    case, fr, porteur, _ = detr
    deadline = Deadline.objects.get(subject_id=fr.pk, kind="works_completion")
    deadline.due_on = D(2026, 9, 30)  # as an extension granted moves it
    deadline.save(update_fields=["due_on"])
    _, r = claim(porteur, fr, "installment", "1000.00", filed="2026-09-30")
    assert r.status_code == 200, r.data
    _, r = claim(porteur, fr, "installment", "1000.00", filed="2026-10-01")
    assert r.status_code == 400 and "30/09/2026" in r.data["detail"]


def test_no_installment_once_the_balance_is_claimed(detr):
    """The balance is the last claim: the installment-ceiling alert stops once it is filed,
    and the claim guard refuses any later advance or installment (one claim room)."""
    case, fr, porteur, _ = detr
    complete(case, porteur)
    _, r = claim(porteur, fr, "balance", "20000.00", filed="2026-06-01")
    assert r.status_code == 200, r.data
    _, r = claim(porteur, fr, "installment", "1000.00", filed="2026-06-02")
    assert r.status_code == 400, r.data
    assert "solde de cette aide est déjà demandé" in r.data["detail"]


def test_the_balance_is_computed_on_the_actual_cost(detr):
    case, fr, porteur, prefecture = detr
    settle(porteur, prefecture, fr, "advance", "10500.00")  # 30 %
    complete(case, porteur)
    # 80 000 € actually spent of 100 000 € planned: 35 000 × 0.8 = 28 000 € due, 17 500 € left.
    _, r = claim(porteur, fr, "balance", "17500.01", actual_cost="80000.00")
    assert r.status_code == 400
    assert "17 500,00 €" in r.data["detail"] and "28 000,00 €" in r.data["detail"]
    pk, r = claim(porteur, fr, "balance", "17500.00", actual_cost="80000.00")
    assert r.status_code == 200, r.data
    assert r.data["actual_cost"] == "80000.00"
    assert move(prefecture, pk, "verify", {"date": "2026-06-01"}).status_code == 200
    fr.refresh_from_db()
    assert payments.request_amount_due(fr) == Decimal("28000.00")
    r = move(prefecture, pk, "pay", {"amount": "17500.00", "date": "2026-06-15"})
    assert r.status_code == 200, r.data
    fr.refresh_from_db()
    case.refresh_from_db()
    assert fr.state == RequestState.PAID and fr.amount_paid == Decimal("28000.00")
    assert case.state == CaseState.CLOSED


def test_amount_finally_due_is_capped_by_the_grant_and_rounded_to_the_cent():
    assert payments.amount_finally_due(Decimal("35000"), Decimal("100000"), Decimal("120000")) == (
        Decimal("35000")
    )
    assert payments.amount_finally_due(
        Decimal("76929.00"), Decimal("384646.00"), Decimal("300000.00")
    ) == Decimal("59999.84")
    assert payments.amount_finally_due(Decimal("1000"), Decimal("100000"), None) == Decimal("1000")


def test_an_overpaid_grant_gets_a_recovery_order(detr):
    case, fr, porteur, prefecture = detr
    settle(porteur, prefecture, fr, "advance", "10500.00")
    settle(porteur, prefecture, fr, "installment", "17500.00")  # 28 000 € paid (80 %)
    complete(case, porteur)
    # 60 000 € actually spent: 21 000 € due, 7 000 € overpaid. The balance is nil.
    pk, r = claim(porteur, fr, "balance", "0", actual_cost="60000.00")
    assert r.status_code == 200, r.data
    r = move(prefecture, pk, "verify", {"date": "2026-06-20"})
    assert r.status_code == 200 and r.data["state"] == ClaimState.PAID, r.data
    fr.refresh_from_db()
    assert fr.state == RequestState.PAID and payments.overpaid(fr) == Decimal("7000.00")

    url = f"{V1}/funding-requests/{fr.pk}/recovery-orders/"
    body = {"amount": "7000.00", "date": "2026-06-25", "reason": "Dépenses réalisées moindres."}
    r = client(porteur).post(url, body, format="json")
    assert r.status_code == 403, r.data  # the funder's instructor records it
    r = client(walk.instructor_for("REGION_OCC")).post(url, body, format="json")
    assert r.status_code in (403, 404)
    r = client(prefecture).post(url, body | {"amount": "7000.01"}, format="json")
    assert r.status_code == 400 and "7 000,00 €" in r.data["detail"]
    r = client(prefecture).post(url, body, format="json")
    assert r.status_code == 201, r.data
    assert r.data["state"] == "issued" and r.data["amount"] == "7000.00"
    order = r.data["id"]
    assert not RecoveryOrder.objects.filter(state="draft").exists()
    r = client(prefecture).post(url, body | {"amount": "1.00"}, format="json")
    assert r.status_code == 400  # nothing left to ask back
    r = client(prefecture).post(
        f"{V1}/recovery-orders/{order}/transitions/recover/", {"date": "2026-07-10"}, format="json"
    )
    assert r.status_code == 200 and r.data["state"] == "recovered", r.data
    assert client(porteur).get(url).status_code == 200
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(RecoveryOrder), object_id=order
    )
    assert [(log.transition, log.by_id) for log in logs.order_by("id")] == [
        ("issue", prefecture.pk),
        ("recover", prefecture.pk),
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_balances_filed_at_once_never_exceed_the_amount_finally_due():
    """Real threads through the API: the dossier's lock is taken before the balance is
    checked, so two balances filed at the same moment file one."""
    from tests.api.test_aggregate_concurrency import client_for, in_parallel

    case, porteur, _ = walk.instructing_case(walk.DETR_PLAN)
    fr = case.funding_requests.get()
    prefecture = walk.instructor_for("DETR")
    walk.grant_and_commit(fr, amount="35000.00", instructor=prefecture)
    received(fr, "2026-03-02")
    for name, day in (("start_works", "2026-04-20"), ("complete_works", "2026-05-04")):
        transition_apply(
            instance=type(case).objects.get(pk=case.pk),
            name=name,
            actor=porteur,
            data={"date": day},
        )
    ids = []
    for _ in range(4):  # 80 000 € spent: 28 000 € finally due; each balance alone fits
        r = client(porteur).post(
            f"{V1}/funding-requests/{fr.pk}/payment-claims/",
            {"kind": "balance", "amount": "20000.00", "actual_cost": "80000.00"},
            format="json",
        )
        assert r.status_code == 201, r.data
        ids.append(r.data["id"])
    results = in_parallel(
        [
            (client_for(porteur), f"/payment-claims/{pk}/transitions/file/", {"date": "2026-05-10"})
            for pk in ids
        ]
    )
    assert sorted(status for status, _ in results) == [200, 400, 400, 400], results
    filed = PaymentClaim.objects.filter(funding_request=fr, state=ClaimState.FILED)
    assert sum(c.amount for c in filed) <= Decimal("28000.00")
