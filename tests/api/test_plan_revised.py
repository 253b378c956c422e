"""Issue 11, revised rules 8-10 through the API: the findings of the review, each as a
scenario (PostgreSQL and SQLite).

- rule 8: the 80 % ceiling binds only when a State scheme is requested; the 20 % own share
  binds communes, EPCI, départements and régions, not an « autre organisme public »; an
  exception names its legal case and lowers the floor (and lifts the ceiling) without
  switching the checks off;
- rule 9: DSIL at 15 % (no DSIL floor); 76 929 € on 384 646 € (19,9997 %) meets DETR's 20 %;
- rule 10: a plan is HT or TTC, mixed lines are refused naming the line.
"""

import pytest

from tests import factories as f

from .helpers import act, get, patch, post, required_codes, upload

pytestmark = pytest.mark.django_db


def scheme(code: str, amount: str) -> dict:
    return {"kind": "scheme", "scheme": code, "amount": amount}


def line(kind: str, amount: str) -> dict:
    return {"kind": kind, "amount": amount}


def works(amount: str, tax: str | None = "HT", label: str = "Travaux") -> dict:
    row = {"label": label, "amount": amount}
    if tax is not None:
        row["tax"] = tax
    return row


def draft(client, resources, expenses=None, **plan) -> dict:
    expenses = expenses or [works("100000.00")]
    body = {
        "title": "Rénovation de la salle des fêtes",
        "state": "draft",
        "financing_plan": {"expenses": expenses, "resources": resources, **plan},
    }
    return post(client, "/cases/", body, expected=201)


def submit(client, case: dict, expected: int = 200) -> dict:
    for code in {r["scheme"] for r in case["financing_plan"]["resources"] if r["scheme"]}:
        for piece in required_codes(code):
            upload(client, case["id"], piece)
    return act(client, case["id"], "submit", expected, date="2026-03-02")


def porteur_of(api, kind: str):
    return api(f.porteur(f.OrganisationFactory(kind=kind)))


def rules_broken(case: dict) -> str:
    return " ".join(case["financing_plan"]["violations"])


# ---------------------------------------------------------------- rule 8: the ceiling


def test_ninety_percent_of_public_aid_without_a_state_scheme_is_accepted(api):
    porteur = porteur_of(api, "association")
    case = draft(
        porteur,
        [
            scheme("REGION_OCC", "50000.00"),
            scheme("DEPT_TARN", "40000.00"),
            line("self", "10000.00"),
        ],
    )
    plan = case["financing_plan"]
    assert plan["valid"], plan["violations"]
    assert plan["public_aid_rate"] == "0.9000" and plan["public_aid_ceiling"] is None
    assert submit(porteur, case)["state"] == "submitted"


def test_the_eighty_percent_ceiling_binds_when_a_state_scheme_is_requested(api):
    porteur = porteur_of(api, "association")
    case = draft(
        porteur,
        [scheme("DETR", "50000.00"), scheme("REGION_OCC", "40000.00"), line("self", "10000.00")],
    )
    assert case["financing_plan"]["public_aid_ceiling"] == "0.8000"
    text = rules_broken(case)
    assert "Les aides publiques (90 000,00 €, 90 %) dépassent le plafond de 80 %" in text
    assert "dispositif DETR" in text
    refused = submit(porteur, case, 400)
    assert "plafond de 80 %" in refused["detail"]


# ---------------------------------------------------------------- rule 8: the own share


def test_the_own_share_binds_a_commune_not_another_public_body(api):
    resources = [scheme("DETR", "64000.00"), line("self", "1000.00"), line("other", "35000.00")]
    other_body = porteur_of(api, "public_body")
    case = draft(other_body, resources)
    assert case["financing_plan"]["valid"], case["financing_plan"]["violations"]
    assert case["financing_plan"]["own_share_min"] is None
    assert submit(other_body, case)["state"] == "submitted"

    commune = porteur_of(api, "commune")
    case = draft(commune, resources)
    assert case["financing_plan"]["own_share_min"] == "0.2000"
    assert "Autofinancement : le maître d'ouvrage doit apporter au moins 20 %" in rules_broken(case)
    assert "CGCT L1111-10 III" in submit(commune, case, 400)["detail"]


@pytest.mark.parametrize("kind", ["epci", "departement", "region"])
def test_the_own_share_binds_groupings_departments_and_regions(api, kind):
    porteur = porteur_of(api, kind)
    case = draft(
        porteur, [scheme("DETR", "64000.00"), line("self", "1000.00"), line("other", "35000.00")]
    )
    assert "au moins 20 %" in rules_broken(case)


def test_an_exception_lowers_the_floor_and_lifts_the_ceiling_never_switches_them_off(api):
    porteur, agent = porteur_of(api, "commune"), api(f.agent())
    # 10 % own funds, 90 % public aid: breaks both the 20 % floor and the 80 % ceiling
    case = draft(
        porteur,
        [scheme("DETR", "60000.00"), line("other_public", "30000.00"), line("self", "10000.00")],
    )
    text = rules_broken(case)
    assert "au moins 20 %" in text and "plafond de 80 %" in text

    # the exception names its legal case (10 %, school energy renovation)
    refused = post(agent, f"/cases/{case['id']}/share-exception/", {"reason": "École"}, 400)
    assert "cas légal" in refused["detail"] and "renovation_energetique_ecoles" in refused["detail"]
    case = post(
        agent,
        f"/cases/{case['id']}/share-exception/",
        {
            "reason": "Groupe scolaire, rénovation thermique",
            "legal_case": "renovation_energetique_ecoles",
        },
    )
    assert case["own_share_exception"] is True
    assert case["own_share_case"] == "renovation_energetique_ecoles"
    plan = case["financing_plan"]
    assert plan["own_share_min"] == "0.1000" and plan["public_aid_ceiling"] == "0.9000"
    assert plan["valid"], plan["violations"]

    # one euro-step below the lowered floor and above the lifted ceiling: still refused
    case = patch(
        porteur,
        f"/cases/{case['id']}/",
        {
            "financing_plan": {
                "expenses": [works("100000.00")],
                "resources": [
                    scheme("DETR", "60000.00"),
                    line("other_public", "31000.00"),
                    line("self", "9000.00"),
                ],
            }
        },
    )
    text = rules_broken(case)
    assert "au moins 10 %" in text and "Rénovation énergétique des bâtiments scolaires" in text
    assert "plafond de 90 %" in text and "relevé par la dérogation" in text
    assert "au moins 10 %" in submit(porteur, case, 400)["detail"]


def test_an_exception_is_refused_for_an_owner_the_floor_does_not_bind(api):
    porteur, agent = porteur_of(api, "association"), api(f.agent())
    case = draft(porteur, [scheme("DETR", "40000.00"), line("self", "60000.00")])
    body = {"reason": "Monument classé", "legal_case": "patrimoine_protege"}
    refused = post(agent, f"/cases/{case['id']}/share-exception/", body, 400)
    assert "n'est pas tenu à la participation minimale" in refused["detail"]
    assert get(agent, f"/cases/{case['id']}/")["own_share_case"] is None


# ---------------------------------------------------------------- rule 9: rates


def test_dsil_at_fifteen_percent_is_accepted(api):
    porteur = porteur_of(api, "commune")
    case = draft(porteur, [scheme("DSIL", "15000.00"), line("self", "85000.00")])
    assert case["financing_plan"]["valid"], case["financing_plan"]["violations"]
    assert submit(porteur, case)["state"] == "submitted"


def test_a_grant_of_19_9997_percent_meets_a_twenty_percent_floor(api):
    porteur = porteur_of(api, "commune")
    case = draft(
        porteur,
        [scheme("DETR", "76929.00"), line("self", "307717.00")],
        expenses=[works("384646.00")],
    )
    assert case["financing_plan"]["valid"], case["financing_plan"]["violations"]
    assert submit(porteur, case)["state"] == "submitted"
    # and 19,99 % after rounding stays under the floor, named with its line
    case = draft(
        porteur,
        [scheme("DETR", "76890.00"), line("self", "307756.00")],
        expenses=[works("384646.00")],
    )
    text = rules_broken(case)
    assert "Ressource n° 1 (DETR) : le taux d'aide (19,99 % de la dépense éligible HT)" in text
    assert "inférieur au minimum du dispositif (20 %)" in text


# ---------------------------------------------------------------- rule 10: tax basis


def test_ht_and_ttc_lines_are_never_summed(api):
    porteur = porteur_of(api, "commune")
    body = {
        "title": "Salle",
        "state": "draft",
        "financing_plan": {
            "expenses": [works("80000.00", "HT"), works("20000.00", "TTC", "Mobilier")],
            "resources": [scheme("DETR", "40000.00"), line("self", "60000.00")],
        },
    }
    refused = post(porteur, "/cases/", body, 400)
    assert "Dépense n° 2 « Mobilier » : la dépense est en TTC" in refused["detail"]
    assert "présenté en HT" in refused["detail"]
    body["financing_plan"]["tax_basis"] = "TTC"
    refused = post(porteur, "/cases/", body, 400)
    assert "Dépense n° 1 « Travaux » : la dépense est en HT" in refused["detail"]
    assert "présenté en TTC" in refused["detail"]
    body["financing_plan"]["tax_basis"] = "HTT"
    assert "« tax_basis » vaut HT ou TTC" in post(porteur, "/cases/", body, 400)["detail"]


def test_a_ttc_plan_takes_its_basis_on_every_line(api):
    porteur = porteur_of(api, "association")
    case = draft(
        porteur,
        [scheme("DETR", "40000.00"), line("self", "60000.00")],
        expenses=[works("70000.00", None), works("30000.00", None, "Études")],
        tax_basis="TTC",
    )
    plan = case["financing_plan"]
    assert plan["tax_basis"] == "TTC" and plan["valid"], plan["violations"]
    assert {e["tax"] for e in plan["expenses"]} == {"TTC"}
    assert plan["total_eligible"] == "100000.00"
    # a plan given without its basis takes its lines' (here HT) and says so
    case = patch(
        porteur,
        f"/cases/{case['id']}/",
        {
            "financing_plan": {
                "expenses": [works("100000.00", "HT")],
                "resources": [scheme("DETR", "40000.00"), line("self", "60000.00")],
            }
        },
    )
    assert case["financing_plan"]["tax_basis"] == "HT"
