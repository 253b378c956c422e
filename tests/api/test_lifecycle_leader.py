"""A commune's dossier with DETR + LEADER + Région + own funds, from the idea to the
closed dossier, entirely through the HTTP API, as each user would do it."""

from decimal import Decimal

import pytest

from cases.models import User
from schemes.models import Commune
from tests import factories as f

from .helpers import (
    act,
    act_claim,
    act_request,
    check,
    deadline_of,
    get,
    patch,
    post,
    request_of,
    required_codes,
    upload,
)

pytestmark = pytest.mark.django_db

GOOD_SCORES = {"ancrage": 4, "innovation": 3, "transition": 4, "cooperation": 3, "economie": 2}


def login(api, username: str):
    anonymous = api()
    token = post(
        anonymous, "/auth/token/", {"username": username, "password": f.PASSWORD}, expected=200
    )["token"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def create_user(admin, **data):
    return post(admin, "/users/", {"password": f.PASSWORD, **data}, expected=201)


def test_leader_dossier_from_idea_to_closed(api):
    # ------------------------------------------------------------ accounts
    f.UserFactory(username="admin", role=User.Role.ADMIN, is_superuser=True, is_staff=True)
    admin = login(api, "admin")
    assert get(admin, "/me/")["role"] == "admin"

    commune = get(admin, "/communes/")[0]
    assert get(admin, "/communes/", epci=commune["epci"]["siren"])
    org = post(
        admin,
        "/organisations/",
        {
            "name": f"Commune de {commune['name']}",
            "kind": "commune",
            "siren": f.make_siren(4242),
            "commune": commune["insee"],
        },
        expected=201,
    )
    bad_siren = post(
        admin,
        "/organisations/",
        {"name": "Mauvais", "kind": "commune", "siren": "123456789"},
        expected=400,
    )
    assert "SIREN invalide" in bad_siren["detail"]

    create_user(admin, username="maire", role="porteur", organisation=org["id"])
    create_user(admin, username="agent", role="agent")
    create_user(admin, username="prefecture", role="funder_instructor", funder="DETR")
    create_user(admin, username="region", role="funder_instructor", funder="REGION_OCC")
    create_user(admin, username="feader", role="funder_instructor", funder="LEADER")
    members = {}
    for name, college, group in [
        ("elu1", "public", None),
        ("elu2", "public", None),
        ("agri", "private", "agriculture"),
        ("asso", "private", "associations"),
        ("entreprise", "private", "entreprises"),
    ]:
        members[name] = create_user(
            admin,
            username=name,
            role="committee_member",
            college=college,
            interest_group=group,
        )["id"]
    missing_org = post(
        admin, "/users/", {"username": "x", "password": f.PASSWORD, "role": "porteur"}, 400
    )
    assert "organisation" in missing_org["errors"]

    porteur = login(api, "maire")
    agent = login(api, "agent")
    prefecture = login(api, "prefecture")
    region = login(api, "region")
    feader = login(api, "feader")
    me = get(porteur, "/me/")
    assert me["role"] == "porteur" and me["organisation"]["id"] == org["id"]

    # ------------------------------------------------------------ idea → draft
    case = post(
        porteur,
        "/cases/",
        {
            "title": "Maison France Services",
            "description": "Un lieu unique pour les démarches administratives.",
            "theme": "Services à la population",
            "communes": [commune["insee"]],
        },
        expected=201,
    )
    case_id = case["id"]
    assert case["state"] == "idea" and case["state_label"] == "Idée de projet"
    assert case["reference"].startswith("GU-")
    assert case["organisation"]["id"] == org["id"]
    assert case["referent_agent"] == "agent"
    assert "start_scoping" not in case["available_transitions"]  # the porteur's view
    assert "open_application" in case["available_transitions"]

    case = act(agent, case_id, "start_scoping", comment="Premier rendez-vous en mairie.")
    assert case["state"] == "scoping"
    post(
        agent,
        f"/cases/{case_id}/opinions/",
        {"kind": "opportunity", "value": "favourable", "text": "Projet attendu."},
        expected=201,
    )
    case = act(porteur, case_id, "open_application")
    assert case["state"] == "draft"

    case = patch(
        porteur,
        f"/cases/{case_id}/",
        {
            "financing_plan": {
                "expenses": [
                    {"label": "Travaux", "amount": "180000.00", "tax": "HT"},
                    {"label": "Maîtrise d'œuvre", "amount": "20000.00", "tax": "HT"},
                ],
                "resources": [
                    {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
                    {"kind": "scheme", "scheme": "LEADER", "amount": "40000.00"},
                    {"kind": "scheme", "scheme": "REGION_OCC", "amount": "30000.00"},
                    {"kind": "self", "amount": "90000.00"},
                ],
            }
        },
    )
    plan = case["financing_plan"]
    assert plan["total_eligible"] == "200000.00"
    assert plan["public_aid"] == "110000.00"
    assert plan["public_aid_rate"] == "0.5500"
    assert plan["valid"] is True and plan["violations"] == []
    assert plan["resources"][1] == {
        "kind": "scheme",
        "scheme": "LEADER",
        "label": "",
        "amount": "40000.00",
    }

    # ------------------------------------------------------------ submit
    refused = act(porteur, case_id, "submit", 400, date="2025-01-15")
    assert "Pièces obligatoires manquantes" in refused["detail"]
    for code in required_codes("DETR", "LEADER", "REGION_OCC"):
        upload(porteur, case_id, code)
    docs = get(porteur, f"/cases/{case_id}/documents/")
    assert {d["kind"] for d in docs} == set(required_codes("DETR", "LEADER", "REGION_OCC"))
    case = act(porteur, case_id, "submit", date="2025-01-15", comment="Dossier complet.")
    assert case["state"] == "submitted" and case["receipt_date"] == "2025-01-15"
    assert {fr["scheme"]: fr["state"] for fr in case["funding_requests"]} == {
        "DETR": "requested",
        "LEADER": "requested",
        "REGION_OCC": "requested",
    }
    completeness = deadline_of(case, "completeness")
    assert completeness["due_on"] == "2025-04-15" and completeness["subject"] == "case"

    case = act(agent, case_id, "declare_complete", date="2025-02-03")
    assert case["state"] == "instruction"
    assert deadline_of(case, "completeness")["state"] == "met"
    detr, leader, reg = (request_of(case, s)["id"] for s in ("DETR", "LEADER", "REGION_OCC"))
    # revised rule 3: the desk's check opens the implicit decision of LEADER only (the desk
    # instructs it); DETR's runs from its own completeness
    implicit = deadline_of(case, "implicit_decision", leader)
    assert implicit["due_on"] == "2025-04-03" and implicit["subject"] == "funding_request"
    assert not [d for d in request_of(case, "DETR")["deadlines"]]

    # ------------------------------------------------------------ instruction
    detr_body = get(prefecture, f"/funding-requests/{detr}/")
    # revised rule 1: each funder's receipt and completeness are its own
    assert detr_body["available_transitions"] == [
        "acknowledge",
        "declare_complete",
        "start_instruction",
    ]
    assert detr_body["case_reference"] == case["reference"]
    get(prefecture, f"/funding-requests/{reg}/", expected=404)  # another funder's request
    act_request(prefecture, detr, "start_instruction", date="2025-02-03")
    act_request(region, reg, "start_instruction", date="2025-02-03")
    act_request(agent, leader, "start_instruction", date="2025-02-03")
    low = act_request(agent, leader, "submit_to_committee", 400, pre_score=8)
    assert "Pré-notation insuffisante" in low["detail"]
    fr = act_request(agent, leader, "submit_to_committee", pre_score=16)
    assert fr["state"] == "awaiting_committee" and fr["pre_score"] == "16.00"

    # ------------------------------------------------------------ LEADER committee
    session = post(
        agent,
        "/committee-sessions/",
        {"date": "2025-03-10", "members": list(members.values())},
        expected=201,
    )
    assert session["agenda"] == [leader] and session["scheme"] == "LEADER"
    sid = session["id"]
    elus = [login(api, "elu1"), login(api, "elu2")]
    for client in elus:
        post(
            client,
            f"/committee-sessions/{sid}/votes/",
            {"funding_request": leader, "vote": "for", "scores": GOOD_SCORES},
            expected=201,
        )
    # revised rule 12: validity is per item, shown before closing (closing now would
    # adjourn this item with that reason)
    (item,) = get(agent, f"/committee-sessions/{sid}/")["validity"]
    assert item["funding_request"] == leader and not item["valid"]
    assert "49 %" in item["problems"][-1] and "autorités publiques" in item["problems"][-1]
    assert get(agent, f"/funding-requests/{leader}/")["state"] == "awaiting_committee"

    post(
        login(api, "agri"),
        f"/committee-sessions/{sid}/votes/",
        {"funding_request": leader, "vote": "for", "scores": GOOD_SCORES},
        expected=201,
    )
    post(
        login(api, "asso"),
        f"/committee-sessions/{sid}/votes/",
        {"funding_request": leader, "vote": "against", "scores": {"ancrage": 2}},
        expected=201,
    )
    # the agent records the vote of a member who voted by show of hands
    post(
        agent,
        f"/committee-sessions/{sid}/votes/",
        {
            "funding_request": leader,
            "member": members["entreprise"],
            "vote": "for",
            "scores": GOOD_SCORES,
        },
        expected=201,
    )
    session = post(agent, f"/committee-sessions/{sid}/transitions/close/")
    assert session["state"] == "closed"
    assert session["decisions"][0]["outcome"] == "selected"
    assert session["decisions"][0]["votes_for"] == 4
    assert session["decisions"][0]["valid"] and session["validity"][0]["valid"]
    assert get(feader, f"/funding-requests/{leader}/")["state"] == "selected"
    assert [s["id"] for s in get(agent, "/committee-sessions/")["results"]] == [sid]

    # ------------------------------------------------------------ decisions
    act_request(prefecture, detr, "grant", amount_granted="40000.00", date="2025-03-20")
    act_request(region, reg, "grant", amount_granted="30000.00", date="2025-03-24")
    assert get(porteur, f"/cases/{case_id}/")["state"] == "instruction"
    act_request(feader, leader, "grant", amount_granted="40000.00", date="2025-03-25")
    case = get(porteur, f"/cases/{case_id}/")
    assert case["state"] == "decided"
    for client, fr_id in ((prefecture, detr), (region, reg), (feader, leader)):
        assert act_request(client, fr_id, "commit", date="2025-04-01")["state"] == "committed"

    case = act(porteur, case_id, "start_works", date="2025-04-15")
    assert case["state"] == "in_progress" and case["works_start_date"] == "2025-04-15"

    # ------------------------------------------------------------ payments
    def claim(fr_id, kind, amount, filed_on):
        body = post(
            porteur,
            f"/funding-requests/{fr_id}/payment-claims/",
            {"kind": kind, "amount": amount, "filed_on": filed_on},
            expected=201,
        )
        assert body["state"] == "draft"
        return body["id"]

    too_much = claim(detr, "advance", "13000.00", "2025-05-02")
    refused = act_claim(porteur, too_much, "file", 400)
    assert "30 %" in refused["detail"]
    act_claim(porteur, too_much, "withdraw", comment="Montant erroné.")

    advance = claim(detr, "advance", "12000.00", "2025-05-02")
    assert act_claim(porteur, advance, "file")["state"] == "filed"
    assert act_claim(prefecture, advance, "verify", date="2025-05-20")["state"] == "verified"
    paid = act_claim(prefecture, advance, "pay", amount="12000.00", date="2025-06-10")
    assert paid["state"] == "paid" and paid["paid_amount"] == "12000.00"
    detr_body = get(porteur, f"/funding-requests/{detr}/")
    assert detr_body["state"] == "paying" and detr_body["amount_paid"] == "12000.00"

    # FEADER installment: 40 % of LEADER while DETR is at 30 % and the Région at 0 %
    feader_installment = claim(leader, "installment", "16000.00", "2025-09-01")
    act_claim(porteur, feader_installment, "file")
    waiting = act_claim(feader, feader_installment, "verify", date="2025-09-15")
    assert waiting["state"] == "awaiting_cofinancers"
    assert "pay" not in waiting["available_transitions"]
    refused = act_claim(feader, feader_installment, "pay", 409, amount="16000.00")
    assert "n'est pas possible" in refused["detail"]

    region_installment = claim(reg, "installment", "12000.00", "2025-09-01")
    act_claim(porteur, region_installment, "file")
    act_claim(region, region_installment, "verify", date="2025-09-20")
    act_claim(region, region_installment, "pay", amount="12000.00", date="2025-10-15")
    # the Région is at 40 %, but DETR still at 30 %: FEADER keeps waiting
    assert get(feader, f"/payment-claims/{feader_installment}/")["state"] == "awaiting_cofinancers"

    case = act(porteur, case_id, "complete_works", date="2026-03-02")
    assert case["state"] == "completed"
    # revised rule 6: LEADER's balance within 6 months of the end; DETR has no separate
    # balance deadline (its claims are bound by the completion deadline, R2334-29)
    assert deadline_of(case, "balance_claim", leader)["due_on"] == "2026-09-02"
    assert not [
        d for d in case["deadlines"] if d["kind"] == "balance_claim" and d["subject_id"] == detr
    ]

    detr_balance = claim(detr, "balance", "28000.00", "2026-03-16")
    act_claim(porteur, detr_balance, "file")
    act_claim(prefecture, detr_balance, "verify", date="2026-04-01")
    act_claim(prefecture, detr_balance, "pay", amount="28000.00", date="2026-05-04")
    assert get(porteur, f"/funding-requests/{detr}/")["state"] == "paid"
    # DETR at 100 %, Région at 40 %: the co-financers caught up with FEADER's 40 %
    released = get(feader, f"/payment-claims/{feader_installment}/")
    assert released["state"] == "verified" and "pay" in released["available_transitions"]
    act_claim(feader, feader_installment, "pay", amount="16000.00", date="2026-05-20")

    region_balance = claim(reg, "balance", "18000.00", "2026-03-16")
    act_claim(porteur, region_balance, "file")
    act_claim(region, region_balance, "verify", date="2026-04-02")
    act_claim(region, region_balance, "pay", amount="18000.00", date="2026-06-01")
    assert get(porteur, f"/cases/{case_id}/")["state"] == "completed"  # FEADER still due

    leader_balance = claim(leader, "balance", "24000.00", "2026-06-15")
    act_claim(porteur, leader_balance, "file")
    assert act_claim(feader, leader_balance, "verify", date="2026-07-01")["state"] == "verified"
    act_claim(feader, leader_balance, "pay", amount="24000.00", date="2026-09-15")

    # ------------------------------------------------------------ closed, automatically
    case = get(porteur, f"/cases/{case_id}/")
    assert case["state"] == "closed" and case["state_label"] == "Soldé"
    assert case["available_transitions"] == []
    assert {fr["scheme"]: (fr["state"], fr["amount_paid"]) for fr in case["funding_requests"]} == {
        "DETR": ("paid", "40000.00"),
        "LEADER": ("paid", "40000.00"),
        "REGION_OCC": ("paid", "30000.00"),
    }
    paid_total = sum(Decimal(fr["amount_paid"]) for fr in case["funding_requests"])
    assert paid_total == Decimal("110000.00")
    case_steps = [h["transition"] for h in case["history"] if h["subject"] == "case"]
    assert case_steps == [
        "start_scoping",
        "open_application",
        "submit",
        "declare_complete",
        "record_decisions",
        "start_works",
        "complete_works",
        "close",
    ]
    last = case["history"][-1]
    assert last["transition"] == "close" and last["by"] is None and last["target"] == "closed"
    submit_step = next(h for h in case["history"] if h["transition"] == "submit")
    assert submit_step["by"] == "maire" and submit_step["comment"] == "Dossier complet."
    assert "+" in submit_step["at"] or submit_step["at"].endswith("Z")

    listing = get(agent, "/cases/", state="closed", scheme="LEADER")
    assert [c["id"] for c in listing["results"]] == [case_id] and listing["count"] == 1
    assert get(agent, "/cases/", q="France Services")["count"] == 1
    assert get(agent, "/cases/", epci=commune["epci"]["siren"])["count"] == 1
    assert get(agent, "/cases/", state="draft")["count"] == 0
    check(api().get("/api/v1/cases/"), 401)
    other_commune = Commune.objects.exclude(epci__siren=commune["epci"]["siren"]).first()
    assert get(agent, "/cases/", epci=other_commune.epci.siren)["count"] == 0
