"""Works before decisions (domain.md, revised rule 4; ADR 009), through the API: the start
of works recorded from the deposit on, checked against each live request's eligibility
start, confirmed or not; funders still instructing and deciding while works run."""

import pytest

from notifications.handlers import notice_for
from tests import factories as f

from .helpers import act, act_request, deadline_of, get, request_of, snapshot
from .test_legal_track_receipt import submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(api):
    return {
        "porteur": api(f.porteur()),
        "agent": api(f.agent()),
        "prefecture": api(f.funder_instructor("ETAT")),
        "region": api(f.funder_instructor("REGION_OCC")),
    }


def two_funders(people) -> tuple[int, int, int]:
    """DETR and Région deposited on 2 March 2026; the Région received it on 3 March, the
    préfecture has not acknowledged yet."""
    case = submitted(people["porteur"], "2026-03-02", ("DETR", 40000), ("REGION_OCC", 30000))
    detr, region = request_of(case, "DETR")["id"], request_of(case, "REGION_OCC")["id"]
    act_request(people["region"], region, "acknowledge", date="2026-03-03")
    return case["id"], detr, region


def test_start_of_works_before_a_receipt_names_the_request_then_withdraws_it_on_confirm(people):
    porteur = people["porteur"]
    case_id, detr, region = two_funders(people)
    before = snapshot(case_id)
    refused = act(porteur, case_id, "start_works", 400, date="2026-03-05")
    assert "DETR (réception par le financeur non encore enregistrée)" in refused["detail"]
    assert "REGION_OCC" not in refused["detail"]
    assert refused["errors"]["requests"] == [detr]
    assert snapshot(case_id) == before  # nothing moved

    case = act(porteur, case_id, "start_works", date="2026-03-05", confirm=True)
    assert case["state"] == "in_progress" and case["works_start_date"] == "2026-03-05"
    withdrawn = request_of(case, "DETR")
    assert withdrawn["state"] == "withdrawn"
    history = [h for h in case["history"] if h["subject"] == "funding_request"]
    assert history[-1]["transition"] == "withdraw" and history[-1]["subject_id"] == detr
    assert request_of(case, "REGION_OCC")["state"] == "requested"  # its instruction goes on
    assert history[-1]["comment"] == (
        "inéligible : travaux commencés le 05/03/2026 avant la réception de la demande par "
        "le financeur"
    )
    assert get(people["agent"], f"/funding-requests/{detr}/")["state"] == "withdrawn"
    # the porteur is told that starting before a decision is at their risk
    assert "à vos risques" in notice_for("case.start_works").text


def test_a_start_after_each_eligibility_start_needs_no_confirmation(people):
    porteur, prefecture = people["porteur"], people["prefecture"]
    case_id, detr, region = two_funders(people)
    act_request(prefecture, detr, "acknowledge", date="2026-03-20")
    early = act(porteur, case_id, "start_works", 400, date="2026-03-19")
    assert "DETR (dépenses éligibles à partir du 20/03/2026)" in early["detail"]
    case = act(porteur, case_id, "start_works", date="2026-03-20")
    assert case["state"] == "in_progress"
    assert {fr["state"] for fr in case["funding_requests"]} == {"requested"}


def test_no_start_that_would_leave_no_request_eligible(people):
    porteur = people["porteur"]
    case = submitted(porteur, "2026-03-02", ("DETR", 40000))
    body = act(porteur, case["id"], "start_works", 400, date="2026-03-04", confirm=True)
    assert "Aucune demande ne resterait éligible" in body["detail"]
    assert get(porteur, f"/cases/{case['id']}/")["state"] == "submitted"


def test_a_funder_instructs_and_grants_while_works_run(people):
    porteur, region = people["porteur"], people["region"]
    case_id, detr, reg = two_funders(people)
    act(porteur, case_id, "start_works", date="2026-03-05", confirm=True)
    act_request(region, reg, "declare_complete", date="2026-03-09")
    body = act_request(region, reg, "grant", amount_granted="30000.00", date="2026-05-04")
    assert body["state"] == "granted"
    case = get(porteur, f"/cases/{case_id}/")
    assert case["state"] == "in_progress"
    # granted after the start: its start-of-works deadline is met at once, its completion
    # counts from the declared start (Région: 36 months; 5 March 2029 is a Monday)
    assert deadline_of(case, "works_start", reg)["state"] == "met"
    completion = deadline_of(case, "works_completion", reg)
    assert completion["state"] == "open" and completion["due_on"] == "2029-03-05"
    act_request(region, reg, "commit", date="2026-05-11")
    assert deadline_of(get(porteur, f"/cases/{case_id}/"), "works_start", reg)["state"] == "met"


def test_a_dossier_in_works_whose_last_request_is_refused_becomes_rejected(people):
    porteur, region = people["porteur"], people["region"]
    case_id, detr, reg = two_funders(people)
    act(porteur, case_id, "start_works", date="2026-03-05", confirm=True)
    act_request(region, reg, "declare_complete", date="2026-03-09")
    act_request(region, reg, "refuse", motivation="Hors priorités.", date="2026-04-01")
    case = get(porteur, f"/cases/{case_id}/")
    assert case["state"] == "rejected"
    steps = [(h["subject"], h["transition"], h["by"] is None) for h in case["history"]][-2:]
    assert steps == [("funding_request", "refuse", False), ("case", "reject", True)]


def test_start_of_works_from_instruction_keeps_the_pending_requests(people):
    porteur, agent, prefecture = people["porteur"], people["agent"], people["prefecture"]
    case_id, detr, reg = two_funders(people)
    act(agent, case_id, "declare_complete", date="2026-03-06")
    act_request(prefecture, detr, "acknowledge", date="2026-03-04")
    act_request(prefecture, detr, "start_instruction", date="2026-03-09")
    act_request(prefecture, detr, "grant", amount_granted="40000.00", date="2026-04-01")
    assert get(porteur, f"/cases/{case_id}/")["state"] == "instruction"  # Région pending
    case = act(porteur, case_id, "start_works", date="2026-04-06")
    assert case["state"] == "in_progress"
    assert request_of(case, "REGION_OCC")["state"] == "requested"
    assert deadline_of(case, "works_start", detr)["state"] == "met"
    assert deadline_of(case, "works_completion", detr)["due_on"] == "2030-04-08"  # 6 Apr 2030 Sat
