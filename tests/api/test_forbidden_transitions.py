"""What the API refuses, and how: 409 for a transition not available from the current
state (nothing changes), 400 with the French rule for a failed guard, 403 for a role, 404
for what the caller may not see, and never a 500 whatever the input."""

import pytest
from django_fsm import can_proceed

from cases.models import Case, FundingRequest, PaymentClaim, User
from engine.transitions import SYSTEM, registration_for
from tests import factories as f

from . import helpers as h
from .helpers import act, act_claim, act_request, check, get, patch, post, snapshot

pytestmark = pytest.mark.django_db

PLAN = {
    "expenses": [{"label": "Travaux", "amount": "100000.00"}],
    "resources": [
        {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
        {"kind": "self", "amount": "60000.00"},
    ],
}


class World:
    def __init__(self, api):
        self.porteur_user = f.porteur()
        self.porteur = api(self.porteur_user)
        self.agent = api(f.agent())
        self.prefecture = api(f.funder_instructor("ETAT"))
        self.admin = api(f.UserFactory(role=User.Role.ADMIN, is_superuser=True))
        self.stranger = api(f.porteur())  # a porteur of another organisation

    def client_for(self, roles: frozenset) -> object:
        if "porteur" in roles:
            return self.porteur
        if "agent" in roles:
            return self.agent
        if "funder_instructor" in roles:
            return self.prefecture
        return self.admin

    def case(self, upto: str) -> tuple[int, int | None]:
        state = "idea" if upto == "idea" else "draft"
        body = {"title": f"Dossier {upto}", "state": state, "financing_plan": PLAN}
        case_id = post(self.porteur, "/cases/", body, expected=201)["id"]
        if upto in ("idea", "draft"):
            return case_id, None
        for code in h.required_codes("DETR"):
            h.upload(self.porteur, case_id, code)
        case = act(self.porteur, case_id, "submit", date="2025-01-15")
        fr_id = case["funding_requests"][0]["id"]
        if upto == "withdrawn":
            act(self.porteur, case_id, "withdraw", reason="Projet abandonné par le conseil.")
            return case_id, fr_id
        if upto == "submitted":
            return case_id, fr_id
        act(self.agent, case_id, "declare_complete", date="2025-01-20")
        act_request(self.prefecture, fr_id, "start_instruction")
        if upto == "instruction":
            return case_id, fr_id
        act_request(self.prefecture, fr_id, "grant", amount_granted="40000.00", date="2025-02-03")
        assert upto == "decided"
        return case_id, fr_id


def assert_unavailable_refused(world, obj, path: str, case_id: int) -> int:
    """POST every registered transition the state machine does not allow now: 409."""
    checked = 0
    for name, spec in registration_for(type(obj)).specs.items():
        fresh = type(obj).objects.get(pk=obj.pk)
        if can_proceed(getattr(fresh, name)):
            if spec.roles == frozenset({SYSTEM}):
                before = snapshot(case_id)
                body = post(world.agent, f"{path}{name}/", {"comment": "x"}, expected=403)
                assert body["detail"] and snapshot(case_id) == before
                body = post(world.admin, f"{path}{name}/", {"comment": "x"}, expected=409)
                assert "automatique" in body["detail"] and snapshot(case_id) == before
            continue
        before = snapshot(case_id)
        body = post(
            world.client_for(spec.roles),
            f"{path}{name}/",
            {"comment": "essai", "date": "2025-06-01", "reason": "essai"},
            expected=409,
        )
        expected_text = (
            "est automatique"
            if spec.roles == frozenset({SYSTEM})
            else "n'est pas possible depuis l'état"
        )
        assert expected_text in body["detail"], (name, body)
        assert body["code"] == "unavailable"
        assert snapshot(case_id) == before, name
        checked += 1
    return checked


@pytest.mark.parametrize("upto", ["idea", "draft", "submitted", "instruction", "decided"])
def test_unavailable_transitions_answer_409_and_change_nothing(api, upto):
    world = World(api)
    case_id, fr_id = world.case(upto)
    case = Case.objects.get(pk=case_id)
    assert case.state == upto
    assert assert_unavailable_refused(world, case, f"/cases/{case_id}/transitions/", case_id) >= 5
    if fr_id:
        fr = FundingRequest.objects.get(pk=fr_id)
        assert (
            assert_unavailable_refused(
                world, fr, f"/funding-requests/{fr_id}/transitions/", case_id
            )
            >= 5
        )


def test_terminal_dossier_refuses_everything(api):
    world = World(api)
    case_id, fr_id = world.case("withdrawn")
    case = get(world.porteur, f"/cases/{case_id}/")
    assert case["state"] == "withdrawn" and case["available_transitions"] == []
    assert case["withdraw_reason"] == "Projet abandonné par le conseil."
    assert h.request_of(case, "DETR")["state"] == "withdrawn"
    assert all(d["state"] == "cancelled" for d in case["deadlines"])
    obj = Case.objects.get(pk=case_id)
    assert assert_unavailable_refused(world, obj, f"/cases/{case_id}/transitions/", case_id) >= 10
    h.upload(world.porteur, case_id, "other", expected=409)


def test_claims_in_draft_refuse_what_only_follows_filing(api):
    world = World(api)
    case_id, fr_id = world.case("decided")
    act_request(world.prefecture, fr_id, "commit", date="2025-03-01")
    claim = post(
        world.porteur,
        f"/funding-requests/{fr_id}/payment-claims/",
        {"kind": "advance", "amount": "5000.00"},
        expected=201,
    )
    obj = PaymentClaim.objects.get(pk=claim["id"])
    path = f"/payment-claims/{claim['id']}/transitions/"
    assert assert_unavailable_refused(world, obj, path, case_id) >= 3
    # the agent may not create a claim: only the porteur does (refused before any validation)
    post(world.agent, f"/funding-requests/{fr_id}/payment-claims/", PLAN, expected=403)
    post(
        world.agent,
        f"/funding-requests/{fr_id}/payment-claims/",
        {"kind": "advance", "amount": "1.00"},
        expected=403,
    )


def test_guard_failures_answer_400_with_the_rule(api):
    world = World(api)
    draft_id, _ = world.case("draft")
    for code in h.required_codes("DETR"):
        h.upload(world.porteur, draft_id, code)
    unbalanced = {
        "financing_plan": {
            "expenses": PLAN["expenses"],
            "resources": [
                {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
                {"kind": "self", "amount": "50000.00"},
            ],
        }
    }
    plan = patch(world.porteur, f"/cases/{draft_id}/", unbalanced)["financing_plan"]
    assert plan["valid"] is False  # a draft may be unbalanced
    before = snapshot(draft_id)
    body = act(world.porteur, draft_id, "submit", 400, date="2025-01-15")
    assert "Plan déséquilibré" in body["detail"] and body["errors"]["financing_plan"]
    assert snapshot(draft_id) == before
    body = act(world.porteur, draft_id, "submit", 400, date="2999-01-01")
    assert "futur" in body["detail"]
    body = act(world.porteur, draft_id, "withdraw", 400)
    assert "motif" in body["detail"]
    assert snapshot(draft_id) == before

    submitted_id, fr_id = world.case("submitted")
    body = act_request(world.prefecture, fr_id, "start_instruction", 400)
    assert "déclaré complet" in body["detail"]

    decided_id, fr_id = world.case("decided")
    before = snapshot(decided_id)
    body = act(world.porteur, decided_id, "start_works", 400, date="2025-01-10")
    assert "avant la date de réception" in body["detail"] and "inéligible" in body["detail"]
    body = act(world.porteur, decided_id, "start_works", 400)
    assert "date de début des travaux" in body["detail"]
    body = act(world.porteur, decided_id, "start_works", 400, date="15/03/2025")
    assert "AAAA-MM-JJ" in body["detail"]
    assert snapshot(decided_id) == before

    instruction_id, fr_id = world.case("instruction")
    body = act_request(world.prefecture, fr_id, "grant", 400, amount_granted="40000.01")
    assert "dépasse le montant demandé" in body["detail"]
    body = act_request(world.prefecture, fr_id, "grant", 400, amount_granted="1e999")
    assert "invraisemblable" in body["detail"]
    body = act_request(world.prefecture, fr_id, "grant", 400, amount_granted=[1, 2])
    assert "montant accordé" in body["detail"]
    body = act_request(world.prefecture, fr_id, "refuse", 400)
    assert "motivation" in body["detail"]


def test_other_organisation_sees_404_everywhere(api):
    world = World(api)
    case_id, fr_id = world.case("decided")
    act_request(world.prefecture, fr_id, "commit", date="2025-03-01")
    claim_id = post(
        world.porteur,
        f"/funding-requests/{fr_id}/payment-claims/",
        {"kind": "advance", "amount": "5000.00"},
        expected=201,
    )["id"]
    before = snapshot(case_id)
    s = world.stranger
    assert get(s, "/cases/")["count"] == 0
    get(s, f"/cases/{case_id}/", 404)
    patch(s, f"/cases/{case_id}/", {"title": "Piraté"}, 404)
    act(s, case_id, "start_works", 404, date="2025-06-01")
    act(s, case_id, "withdraw", 404, reason="x")
    get(s, f"/cases/{case_id}/documents/", 404)
    h.upload(s, case_id, "other", expected=404)
    get(s, f"/cases/{case_id}/opinions/", 404)
    post(s, f"/cases/{case_id}/share-exception/", {"reason": "x"}, 404)
    get(s, f"/funding-requests/{fr_id}/", 404)
    act_request(s, fr_id, "withdraw", 404, reason="x")
    get(s, f"/funding-requests/{fr_id}/payment-claims/", 404)
    post(s, f"/funding-requests/{fr_id}/payment-claims/", {"kind": "advance", "amount": "1"}, 404)
    get(s, f"/payment-claims/{claim_id}/", 404)
    act_claim(s, claim_id, "file", 404)
    assert get(s, "/deadlines/")["count"] == 0
    assert get(world.porteur, "/deadlines/", case=case_id)["count"] >= 1
    body = get(s, f"/cases/{case_id}/", 404)
    assert body["detail"] == "Dossier introuvable."
    assert snapshot(case_id) == before


def test_roles_not_allowed_answer_403(api):
    world = World(api)
    case_id, _ = world.case("draft")
    case = Case.objects.get(pk=case_id)
    partner = api(f.UserFactory(role=User.Role.EPCI_PARTNER, epci=case.epci))
    assert get(partner, f"/cases/{case_id}/")["id"] == case_id
    patch(partner, f"/cases/{case_id}/", {"title": "Autre"}, 403)
    h.upload(partner, case_id, "other", expected=403)
    act(partner, case_id, "submit", 403)
    post(partner, f"/cases/{case_id}/opinions/", {"kind": "epci", "value": "favourable"}, 201)
    post(world.porteur, f"/cases/{case_id}/share-exception/", {"reason": "x"}, 403)
    body = post(
        world.agent,
        f"/cases/{case_id}/share-exception/",
        {"reason": "Loi X", "legal_case": "patrimoine_protege"},  # revised rule 8
    )
    assert body["own_share_exception"] is True
    post(world.agent, "/users/", {"username": "u", "password": "p", "role": "agent"}, 403)
    post(world.porteur, "/organisations/", {"name": "X", "kind": "commune"}, 403)
    get(world.porteur, "/committee-sessions/", 403)
    post(world.porteur, "/committee-sessions/", {"date": "2025-01-01", "members": []}, 403)
    member = api(f.committee_member())
    post(member, "/committee-sessions/", {"date": "2025-01-01", "members": []}, 403)
    post(member, "/cases/", {"title": "Idée"}, 403)


def test_concurrent_change_answers_409(api, monkeypatch):
    from guichet.api import views

    world = World(api)
    case_id, _ = world.case("draft")
    stale = Case.objects.get(pk=case_id)
    act(world.porteur, case_id, "withdraw", reason="Abandon.")  # someone else acted first
    monkeypatch.setattr(views, "get_case", lambda user, pk, detail=False: stale)
    body = act(world.porteur, case_id, "withdraw", 409, reason="Encore.")
    assert "modifié entre-temps" in body["detail"]


def test_malformed_input_never_produces_a_500(api):
    world = World(api)
    case_id, fr_id = world.case("draft")
    c = world.porteur
    url = f"{h.V1}/cases/{case_id}/transitions/submit/"
    for raw in [
        "{not json",
        "[1, 2]",
        '"texte"',
        '{"date": NaN}',
        '{"date": 1e999}',
        '{"comment": "a\\u0000b"}',
        "[" * 5000 + "]" * 5000,
        '{"comment": 12}',
        '{"comment": "' + "x" * 6000 + '"}',
        "1" * 5000,
    ]:
        response = c.post(url, raw, content_type="application/json")
        assert response.status_code == 400, (raw[:30], response.status_code)
        assert response.json()["detail"]
    assert Case.objects.get(pk=case_id).state == "draft"

    for body in [
        {"title": ""},
        {"title": 12, "communes": "81060"},
        {"title": "x", "organisation": 10**40},
        {"title": "x", "organisation": "abc"},
        {"title": "x", "communes": ["00000"]},
        {"title": "x", "state": "closed"},
        {"title": "x" * 400},
        {"title": "x", "financing_plan": {"expenses": [{"label": "a", "amount": "1e400"}]}},
        {"title": "x", "financing_plan": {"expenses": "beaucoup"}},
        {"title": "x", "financing_plan": {"resources": [{"kind": "scheme", "scheme": "XX"}]}},
        {"title": "x", "financing_plan": [1]},
    ]:
        body_out = post(c, "/cases/", body, 400)
        assert body_out["detail"].strip(), body
    big = {"financing_plan": {"expenses": [{"label": "a", "amount": 10**30}]}}
    assert "invraisemblable" in patch(c, f"/cases/{case_id}/", big, 400)["detail"]

    check(c.get(f"{h.V1}/cases/99999999999999999999999/"), 404)
    check(c.get(f"{h.V1}/cases/{2**63}/"), 404)
    response = c.get(f"{h.V1}/cases/abc/")
    assert response.status_code == 404 and response.json() == {"detail": "Introuvable."}
    body = act(c, case_id, "explode", 404)
    assert "Transition inconnue" in body["detail"]
    act(c, case_id, "save", 404)
    get(c, "/cases/", 400, state="nimporte")
    get(c, "/cases/", 400, scheme="XX")
    get(c, "/cases/", 400, q="a\x00b")
    get(c, "/cases/", 404, page="999")
    get(c, "/deadlines/", 400, due_before="demain")
    get(c, "/deadlines/", 400, state="x")
    get(c, "/deadlines/", 400, case="abc")
    assert get(c, "/deadlines/", case=str(10**18 * 9))["count"] == 0
    get(c, "/deadlines/", 400, case=str(10**30))
    h.upload(c, case_id, "devis", content=b"MZ\x90\x00 not a document", expected=400)
    h.upload(c, case_id, "inconnu", expected=400)
    response = c.post(f"{h.V1}/cases/{case_id}/documents/", {"kind": "devis"}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()["errors"]

    token = c.post(f"{h.V1}/auth/token/", {"username": "x", "password": "y"}, format="json")
    assert token.status_code == 400 and "incorrect" in token.json()["detail"]
    anonymous = api()
    body = check(anonymous.get(f"{h.V1}/cases/{case_id}/"), 401)
    assert body["detail"] == "Authentification requise."
    wrong = api()
    wrong.credentials(HTTP_AUTHORIZATION="Token 0000")
    check(wrong.get(f"{h.V1}/me/"), 401)


def test_committee_and_claim_input_is_validated(api):
    world = World(api)
    members = [f.committee_member().pk, f.committee_member("private", "tourisme").pk]
    a = world.agent
    for body in [
        {"date": "demain", "members": members},
        {"date": "2025-03-01", "members": [10**30]},
        {"date": "2025-03-01", "members": "tous"},
        {"date": "2025-03-01", "members": members, "scheme": "DETR"},
        {"date": "2025-03-01", "members": [*members, world.porteur_user.pk]},
    ]:
        assert post(a, "/committee-sessions/", body, 400)["detail"]
    session = post(a, "/committee-sessions/", {"date": "2025-03-01", "members": members}, 201)
    assert session["agenda"] == []
    url = f"/committee-sessions/{session['id']}/votes/"
    for body in [
        {"funding_request": 10**30, "vote": "for"},
        {"funding_request": 1, "vote": "peut-être"},
        {"funding_request": 1, "vote": "for", "scores": "beaucoup"},
        {"funding_request": 1, "vote": "for", "scores": {"ancrage": "1e999"}},
        {"funding_request": 1, "member": members[0], "vote": "for"},
    ]:
        assert post(a, url, body, 400)["detail"]
    get(a, "/committee-sessions/999999/", 404)
    post(a, "/committee-sessions/999999/transitions/close/", {}, 404)
    for group in ("agriculture", "associations", "entreprises"):
        f.committee_member("private", group)  # absent: 2 present out of 5
    refused = post(a, f"/committee-sessions/{session['id']}/transitions/close/", {}, 400)
    # revised rule 12: validity is per item; a session with nothing on its agenda has
    # nothing to decide (before: the whole close was refused for the quorum)
    assert "Aucun dossier n'est à l'ordre du jour" in refused["detail"]
    assert get(a, f"/committee-sessions/{session['id']}/")["state"] == "planned"

    case_id, fr_id = world.case("decided")
    act_request(world.prefecture, fr_id, "commit", date="2025-03-01")
    p = world.porteur
    url = f"/funding-requests/{fr_id}/payment-claims/"
    for body in [
        {"kind": "advance", "amount": "abc"},
        {"kind": "advance", "amount": "1e999"},
        {"kind": "advance", "amount": "-5.00"},
        {"kind": "advance", "amount": "5.001"},
        {"kind": "don", "amount": "5.00"},
        {"kind": "advance", "amount": "5.00", "filed_on": "2999-01-01"},
        {"kind": "advance", "amount": "5.00", "filed_on": "hier"},
    ]:
        assert post(p, url, body, 400)["detail"], body
    claim = post(p, url, {"kind": "advance", "amount": "5000.00", "filed_on": "2025-04-01"}, 201)
    act_claim(p, claim["id"], "file")
    verified = act_claim(world.prefecture, claim["id"], "verify", date="2025-04-10")
    assert verified["state"] == "verified"
    for data in [{"amount": "1e999"}, {"amount": "6000.00"}, {"amount": "5000.00", "date": "x"}]:
        assert act_claim(world.prefecture, claim["id"], "pay", 400, **data)["detail"]
    body = act_claim(world.prefecture, claim["id"], "reject", 400)
    assert "motivation" in body["detail"]
    paid = act_claim(world.prefecture, claim["id"], "pay", amount="5000.00", date="2025-05-02")
    assert paid["state"] == "paid" and paid["paid_on"] == "2025-05-02"
