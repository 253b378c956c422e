"""A DETR grant whose works never start: the sweep marks its deadline missed (it never
lapses: revised rule 5), the préfecture records the lapse, then the dossier lapses."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from engine.models import OutboxEvent
from tests import factories as f

from .helpers import act, act_request, deadline_of, get, post, request_of, required_codes, upload

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def granted_detr_case(api):
    porteur, agent = api(f.porteur()), api(f.agent())
    prefecture = api(f.funder_instructor("ETAT"))
    case = post(
        porteur,
        "/cases/",
        {
            "title": "Réfection de la toiture de l'église",
            "state": "draft",
            "financing_plan": {
                "expenses": [{"label": "Couverture", "amount": "100000.00"}],
                "resources": [
                    {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
                    {"kind": "self", "amount": "60000.00"},
                ],
            },
        },
        expected=201,
    )
    assert case["state"] == "draft"
    for code in required_codes("DETR"):
        upload(porteur, case["id"], code)
    act(porteur, case["id"], "submit", date="2025-01-15")
    act(agent, case["id"], "declare_complete", date="2025-01-20")
    fr_id = request_of(get(agent, f"/cases/{case['id']}/"), "DETR")["id"]
    act_request(prefecture, fr_id, "start_instruction")
    act_request(prefecture, fr_id, "grant", amount_granted="35000.00", date="2025-02-03")
    return porteur, agent, case["id"], fr_id


def sweep(**kw):
    call_command("sweep", stdout=open("/dev/null", "w"), **kw)  # noqa: SIM115


def test_detr_grant_lapses_when_works_never_start(api):
    porteur, agent, case_id, fr_id = granted_detr_case(api)
    prefecture = api(f.funder_instructor("ETAT"))
    case = get(agent, f"/cases/{case_id}/")
    assert case["state"] == "decided"
    works = deadline_of(case, "works_start", fr_id)
    # 2 years after the notification (CGCT R2334-23): 3 Feb 2027 is a Wednesday
    assert works["due_on"] == "2027-02-03" and works["state"] == "open"
    assert works["expiry_transition"] == ""
    listed = get(porteur, "/deadlines/", state="open", due_before="2027-02-03")
    assert works["id"] in [d["id"] for d in listed["results"]]
    assert works["id"] not in [
        d["id"] for d in get(porteur, "/deadlines/", due_before="2027-02-02")["results"]
    ]

    sweep()  # today: the deadline is far away
    assert get(agent, f"/cases/{case_id}/")["state"] == "decided"

    with time_machine.travel(dt.datetime(2027, 2, 4, 9, 0, tzinfo=PARIS), tick=False):
        sweep()  # the last day, 3 Feb, has passed: missed, not lapsed
        case = get(agent, f"/cases/{case_id}/")
        assert case["state"] == "decided"
        assert request_of(case, "DETR")["state"] == "granted"
        assert deadline_of(case, "works_start", fr_id)["state"] == "missed"
        act_request(prefecture, fr_id, "lapse", date="2027-02-04", motivation="Pas de travaux.")
        case = get(agent, f"/cases/{case_id}/")
        assert case["state"] == "lapsed" and case["state_label"] == "Caduc"
        assert request_of(case, "DETR")["state"] == "lapsed"
        steps = [(h["subject"], h["transition"]) for h in case["history"]][-2:]
        assert steps == [("funding_request", "lapse"), ("case", "lapse")]
        assert case["available_transitions"] == []
        before = (case, OutboxEvent.objects.count())

        sweep()  # a second pass changes nothing more
        again = get(agent, f"/cases/{case_id}/")
        assert (again, OutboxEvent.objects.count()) == before
        refused = act(porteur, case_id, "start_works", 409, date="2025-06-01")
        assert "Caduc" in refused["detail"]


def test_sweep_with_a_simulated_date_is_the_same_pass(api):
    _, agent, case_id, fr_id = granted_detr_case(api)
    sweep(date="2027-02-03")  # the last day itself: still in time
    assert deadline_of(get(agent, f"/cases/{case_id}/"), "works_start", fr_id)["state"] == "open"
    sweep(date="2027-02-04")
    case = get(agent, f"/cases/{case_id}/")
    assert case["state"] == "decided"  # the sweep never lapses (revised rule 5)
    assert deadline_of(case, "works_start", fr_id)["state"] == "missed"
