"""Each funder's own legal track (domain.md, revised rules 1-3; ADR 009), through the API:
one receipt per funder, completeness and implicit decision per scheme, documents
requested during instruction, and the calendar of the new periods."""

import pytest
from django.core.management import call_command

from cases.models import FundingRequest
from tests import factories as f

from .helpers import act, act_request, deadline_of, get, post, request_of, required_codes, upload

pytestmark = pytest.mark.django_db


def plan(*lines) -> dict:
    total = 200000
    resources = [{"kind": "scheme", "scheme": code, "amount": f"{a}.00"} for code, a in lines]
    own = total - sum(a for _, a in lines)
    return {
        "expenses": [{"label": "Travaux", "amount": f"{total}.00"}],
        "resources": [*resources, {"kind": "self", "amount": f"{own}.00"}],
    }


def submitted(porteur, receipt: str, *lines) -> dict:
    case = post(
        porteur,
        "/cases/",
        {"title": "Halle du marché", "state": "draft", "financing_plan": plan(*lines)},
        expected=201,
    )
    for code in required_codes(*(code for code, _ in lines)):
        upload(porteur, case["id"], code)
    return act(porteur, case["id"], "submit", date=receipt)


def sweep(day: str) -> None:
    call_command("sweep", date=day, stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def people(api):
    return {
        "porteur": api(f.porteur()),
        "agent": api(f.agent()),
        "prefecture": api(f.funder_instructor("ETAT")),
    }


def test_each_funder_has_its_own_receipt_date(people):
    porteur, agent, prefecture = people["porteur"], people["agent"], people["prefecture"]
    case = submitted(porteur, "2026-03-02", ("LEADER", 60000), ("DETR", 40000))
    leader, detr = request_of(case, "LEADER"), request_of(case, "DETR")
    # the desk instructs LEADER: its receipt is the desk's; DETR is only sent
    assert (leader["sent_on"], leader["received_on"], leader["eligibility_start"]) == (
        "2026-03-02",
        "2026-03-02",
        "2026-03-02",
    )
    assert (detr["sent_on"], detr["received_on"], detr["eligibility_start"]) == (
        "2026-03-02",
        None,
        None,
    )
    assert (
        "acknowledge"
        in get(prefecture, f"/funding-requests/{detr['id']}/")["available_transitions"]
    )

    early = act_request(prefecture, detr["id"], "acknowledge", 400, date="2026-02-27")
    assert "envoi au financeur" in early["detail"]
    act_request(porteur, detr["id"], "acknowledge", 403, date="2026-03-20")
    body = act_request(prefecture, detr["id"], "acknowledge", date="2026-03-20")
    assert body["state"] == "requested"
    assert (body["received_on"], body["eligibility_start"]) == ("2026-03-20", "2026-03-20")
    # DETR deems complete 3 months after its own receipt (CGCT R2334-23)
    (deemed,) = body["deadlines"]
    assert (deemed["kind"], deemed["due_on"], deemed["expiry_transition"]) == (
        "completeness",
        "2026-06-22",  # 20 June 2026 is a Saturday
        "declare_complete",
    )
    again = act_request(prefecture, detr["id"], "acknowledge", 400, date="2026-03-21")
    assert "déjà enregistrée" in again["detail"]
    desk = act_request(agent, leader["id"], "acknowledge", 400, date="2026-03-21")
    assert "instruit par le guichet" in desk["detail"]
    history = get(agent, f"/cases/{case['id']}/")["history"]
    assert ("funding_request", "acknowledge") in [(h["subject"], h["transition"]) for h in history]


def test_implicit_decision_counted_per_scheme_from_its_own_completeness(people):
    porteur, agent, prefecture = people["porteur"], people["agent"], people["prefecture"]
    case = submitted(porteur, "2026-03-02", ("LEADER", 60000), ("DETR", 40000))
    leader, detr = request_of(case, "LEADER")["id"], request_of(case, "DETR")["id"]

    case = act(agent, case["id"], "declare_complete", date="2026-03-10")
    assert case["state"] == "instruction"
    # the desk's check declares complete the request it instructs, and only that one
    assert request_of(case, "LEADER")["complete_on"] == "2026-03-10"
    assert request_of(case, "LEADER")["implicit_decision_on"] == "2026-05-11"  # 10 May: Sunday
    assert deadline_of(case, "implicit_decision", leader)["due_on"] == "2026-05-11"
    assert request_of(case, "DETR")["complete_on"] is None
    assert request_of(case, "DETR")["deadlines"] == []

    refused = act_request(prefecture, detr, "declare_complete", 400, date="2026-03-20")
    assert "réception" in refused["detail"]
    assert FundingRequest.objects.get(pk=detr).state == "requested"
    act_request(prefecture, detr, "acknowledge", date="2026-03-12")
    before = act_request(prefecture, detr, "declare_complete", 400, date="2026-03-11")
    assert "précéder la réception" in before["detail"]
    body = act_request(prefecture, detr, "declare_complete", date="2026-03-14")
    assert body["state"] == "instructing" and body["complete_on"] == "2026-03-14"
    # 14 May 2026 is Ascension Thursday: the period runs to Friday 15 May
    assert body["implicit_decision_on"] == "2026-05-15"
    kinds = {(d["kind"], d["state"]) for d in body["deadlines"]}
    assert kinds == {("completeness", "met"), ("implicit_decision", "open")}


def test_a_leader_only_dossier_is_never_deemed_complete_by_time(people):
    porteur, agent = people["porteur"], people["agent"]
    case = submitted(porteur, "2025-11-30", ("LEADER", 60000))
    desk = deadline_of(case, "completeness")
    # the desk's reminder only: 3 months, month end (28 Feb 2026 is a Saturday)
    assert desk["due_on"] == "2026-03-02" and desk["expiry_transition"] == ""
    assert [d for d in case["deadlines"] if d["expiry_transition"]] == []
    sweep("2026-09-01")
    case = get(agent, f"/cases/{case['id']}/")
    assert case["state"] == "submitted"
    assert request_of(case, "LEADER")["state"] == "requested"
    assert request_of(case, "LEADER")["complete_on"] is None


def test_detr_deemed_complete_at_month_end_after_its_own_receipt(people):
    porteur, prefecture = people["porteur"], people["prefecture"]
    case = submitted(porteur, "2025-11-24", ("DETR", 40000))
    detr = request_of(case, "DETR")["id"]
    body = act_request(prefecture, detr, "acknowledge", date="2025-11-30")
    # 30 Nov + 3 months: 28 Feb 2026 (no 30 Feb), a Saturday → Monday 2 March
    assert deadline_of(body, "completeness")["due_on"] == "2026-03-02"
    sweep("2026-03-02")  # the last day itself: still open
    assert get(prefecture, f"/funding-requests/{detr}/")["state"] == "requested"
    sweep("2026-03-03")
    body = get(prefecture, f"/funding-requests/{detr}/")
    assert body["state"] == "instructing" and body["complete_on"] == "2026-03-02"
    assert body["implicit_decision_on"] == "2026-05-04"  # 2 May 2026 is a Saturday


def test_documents_requested_during_instruction_do_not_leave_the_dossier_stuck(people):
    porteur, agent, prefecture = people["porteur"], people["agent"], people["prefecture"]
    case = submitted(porteur, "2026-03-02", ("DETR", 40000))
    case_id, detr = case["id"], request_of(case, "DETR")["id"]
    act(agent, case_id, "declare_complete", date="2026-03-04")
    act_request(prefecture, detr, "acknowledge", date="2026-03-05")
    body = act_request(prefecture, detr, "declare_complete", date="2026-03-10")
    assert body["implicit_decision_on"] == "2026-05-11"

    case = act(
        agent, case_id, "request_documents", documents=["Devis actualisé"], date="2026-04-01"
    )
    assert case["state"] == "incomplete"
    implicit = deadline_of(case, "implicit_decision", detr)
    assert implicit["state"] == "suspended"  # 40 days left (1 April → 11 May)
    refused = act_request(prefecture, detr, "grant", 400, amount_granted="40000.00")
    assert "instruction" in refused["detail"]

    upload(porteur, case_id, "other")
    case = act(porteur, case_id, "provide_documents", date="2026-04-21")
    assert case["state"] == "instruction"  # back where the request was made
    implicit = deadline_of(case, "implicit_decision", detr)
    assert implicit["state"] == "open" and implicit["due_on"] == "2026-06-01"  # 21 Apr + 40
    assert request_of(case, "DETR")["implicit_decision_on"] == "2026-06-01"

    body = act_request(prefecture, detr, "grant", amount_granted="38000.00", date="2026-05-04")
    assert body["state"] == "granted"
    assert get(porteur, f"/cases/{case_id}/")["state"] == "decided"


def test_a_request_received_while_documents_are_awaited_starts_with_its_clock_stopped(people):
    porteur, agent, prefecture = people["porteur"], people["agent"], people["prefecture"]
    case = submitted(porteur, "2026-03-02", ("DETR", 40000))
    case_id, detr = case["id"], request_of(case, "DETR")["id"]
    act(agent, case_id, "request_documents", documents=["Plan"], date="2026-03-03")
    body = act_request(prefecture, detr, "acknowledge", date="2026-03-09")
    assert deadline_of(body, "completeness")["state"] == "suspended"
    upload(porteur, case_id, "other")
    case = act(porteur, case_id, "provide_documents", date="2026-03-16")
    assert case["state"] == "submitted"
    # the whole period (9 March → 9 June: 92 days) runs again from 16 March
    (deemed,) = request_of(case, "DETR")["deadlines"]
    assert (deemed["kind"], deemed["due_on"]) == ("completeness", "2026-06-16")
