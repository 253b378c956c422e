"""Completeness: a request for documents suspends the clock, the documents resume it; and
with no request before the end of the period the dossier is « réputé complet »."""

import datetime as dt

import pytest
from django.core.management import call_command

from engine.models import OutboxEvent
from tests import factories as f

from .helpers import (
    act,
    act_request,
    deadline_of,
    get,
    patch,
    post,
    required_codes,
    snapshot,
    upload,
)

pytestmark = pytest.mark.django_db


def submitted_case(porteur, receipt: str) -> int:
    case = post(
        porteur,
        "/cases/",
        {
            "title": "Aménagement du cœur de village",
            "state": "draft",
            "financing_plan": {
                "expenses": [{"label": "Voirie", "amount": "50000.00"}],
                "resources": [
                    {"kind": "scheme", "scheme": "DETR", "amount": "20000.00"},
                    {"kind": "self", "amount": "30000.00"},
                ],
            },
        },
        expected=201,
    )
    for code in required_codes("DETR"):
        upload(porteur, case["id"], code)
    assert act(porteur, case["id"], "submit", date=receipt)["state"] == "submitted"
    return case["id"]


def test_request_documents_suspends_then_resumes_the_completeness_clock(api):
    porteur, agent = api(f.porteur()), api(f.agent())
    case_id = submitted_case(porteur, "2025-01-15")
    case = get(agent, f"/cases/{case_id}/")
    assert deadline_of(case, "completeness")["due_on"] == "2025-04-15"

    refused = act(agent, case_id, "request_documents", 400, date="2025-02-03")
    assert "pièces manquantes" in refused["detail"]
    early = act(agent, case_id, "request_documents", 400, documents=["RIB"], date="2025-01-10")
    assert "réception" in early["detail"]
    case = act(
        agent,
        case_id,
        "request_documents",
        documents=["Plan de situation à l'échelle", "Devis signé"],
        date="2025-02-03",
    )
    assert case["state"] == "incomplete"
    assert case["missing_documents"] == ["Plan de situation à l'échelle", "Devis signé"]
    completeness = deadline_of(case, "completeness")
    assert completeness["state"] == "suspended" and completeness["due_on"] == "2025-04-15"
    documents = deadline_of(case, "documents")
    assert documents["state"] == "open" and documents["due_on"] == "2025-03-05"
    assert documents["party"] == "porteur"

    # nothing uploaded since the request: the porteur cannot send the pieces yet
    before = snapshot(case_id)
    refused = act(porteur, case_id, "provide_documents", 400, date="2025-02-20")
    assert "Joignez au moins une pièce" in refused["detail"]
    assert snapshot(case_id) == before

    # the dossier is editable while incomplete
    # the theme by its slug, answered with its label (the controlled list, issue 12)
    assert patch(porteur, f"/cases/{case_id}/", {"theme": "culture"})["theme"] == "Culture"
    upload(porteur, case_id, "plan_situation")
    case = act(porteur, case_id, "provide_documents", date="2025-02-20")
    assert case["state"] == "submitted" and case["missing_documents"] == []
    completeness = deadline_of(case, "completeness")
    # 17 days of suspension (3 → 20 Feb) push the end from 15 April to 2 May 2025
    assert completeness["state"] == "open" and completeness["due_on"] == "2025-05-02"
    shift = dt.date(2025, 5, 2) - dt.date(2025, 4, 15)
    assert shift == dt.date(2025, 2, 20) - dt.date(2025, 2, 3)
    assert deadline_of(case, "documents")["state"] == "met"

    case = act(agent, case_id, "declare_complete", date="2025-02-24")
    assert case["state"] == "instruction" and case["complete_on"] == "2025-02-24"
    assert deadline_of(case, "completeness")["state"] == "met"
    patch(porteur, f"/cases/{case_id}/", {"theme": "autre"}, expected=409)
    transitions = [h["transition"] for h in case["history"] if h["subject"] == "case"]
    assert transitions[-4:] == [
        "submit",
        "request_documents",
        "provide_documents",
        "declare_complete",
    ]


def test_reputed_complete_when_the_period_ends_without_request(api):
    """Revised rule 2: « réputé complet » is the DETR request's, 3 months after its own
    receipt by the préfecture; the dossier's completeness is the desk's reminder only."""
    porteur, agent = api(f.porteur()), api(f.agent())
    case_id = submitted_case(porteur, "2025-06-02")
    case = get(agent, f"/cases/{case_id}/")
    assert deadline_of(case, "completeness")["due_on"] == "2025-09-02"
    assert deadline_of(case, "completeness")["expiry_transition"] == ""
    fr_id = case["funding_requests"][0]["id"]
    prefecture = api(f.funder_instructor("ETAT"))
    act_request(prefecture, fr_id, "acknowledge", date="2025-06-06")
    case = get(agent, f"/cases/{case_id}/")
    (deemed,) = case["funding_requests"][0]["deadlines"]
    assert deemed["due_on"] == "2025-09-08"  # 6 Sept 2025 is a Saturday
    assert deemed["expiry_transition"] == "declare_complete"

    call_command("sweep", date="2025-09-09", stdout=open("/dev/null", "w"))  # noqa: SIM115
    case = get(agent, f"/cases/{case_id}/")
    assert case["state"] == "submitted"  # the desk's check is still to do
    fr = case["funding_requests"][0]
    assert fr["state"] == "instructing" and fr["complete_on"] == "2025-09-08"
    step = case["history"][-1]
    assert (step["subject"], step["transition"], step["by"]) == (
        "funding_request",
        "declare_complete",
        None,
    )
    assert "completeness" in step["comment"]
    assert deadline_of(case, "implicit_decision", fr_id)["due_on"] == "2025-11-10"
    assert fr["implicit_decision_on"] == "2025-11-10"  # 8 Nov Saturday, 10 Nov a Monday

    events = OutboxEvent.objects.count()
    call_command("sweep", date="2025-09-09", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert get(agent, f"/cases/{case_id}/") == case
    assert OutboxEvent.objects.count() == events


def test_case_list_query_count_does_not_grow_with_the_cases(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    porteur_user = f.porteur()
    porteur, agent = api(porteur_user), api(f.agent())
    submitted_case(porteur, "2025-01-15")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert get(agent, "/cases/")["count"] >= 1
        return len(ctx.captured_queries)

    few = count()
    for _ in range(4):
        submitted_case(porteur, "2025-01-15")
    assert count() == few
