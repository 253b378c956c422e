"""The REST API with two territories: a staff user of territory B sees nothing of A.

Every object route of the permission matrix (generated from the URL conf, see
tests/api/test_permission_matrix.py) is called by each staff user of B on A's objects: the
answer is 404 (403 only where the role is refused before any lookup, as it is on its own
territory), and nothing changes. Every list route is read by each of them: nothing of A
appears in it. A new route without territory scoping fails here."""

import json

import pytest
from rest_framework.test import APIClient

from cases.models import Case, FundingRequest
from tests.api.test_permission_matrix import MATRIX, api_routes

from .conftest import STAFF

pytestmark = pytest.mark.django_db

# the matrix's fixed ids that stand for « an object of someone else »
FIXED_IDS = {"/api/v1/alerts/999999/": "/api/v1/alerts/{alert}/"}


def _call(client, method, url, body):
    if method == "post_multipart":
        return client.post(url, body, format="multipart")
    if body is not None:
        return getattr(client, method)(url, body, format="json")
    return getattr(client, method)(url)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_matrix_still_covers_every_route():
    assert api_routes() <= set(MATRIX)


def test_every_object_route_of_another_territory_is_404(world):
    a, b = world.a, world.b
    mismatches = []
    checked = 0
    for checks in MATRIX.values():
        for method, url, body, expected in checks:
            for fixed, template in FIXED_IDS.items():
                url = url.replace(fixed, template)
            if "{" not in url:
                continue
            target = url.format(**a.ids)
            for role in STAFF:
                # A role refused by its role alone (403 on its own territory too) may keep
                # its 403: it learns nothing about the object.
                allowed = {404} | ({403} if expected.get(role) == 403 else set())
                response = _call(_client(b.users[role]), method, target, body)
                checked += 1
                if response.status_code not in allowed:
                    mismatches.append(
                        f"{method.upper()} {target} as {role} of B: {response.status_code} "
                        f"(expected {sorted(allowed)}) {response.content[:150]!r}"
                    )
    assert checked > 80
    assert not mismatches, "\n".join(mismatches)
    # nothing of A was changed by B's refused writes
    assert Case.objects.get(pk=a.ids["case"]).state == "decided"
    assert "confidentiel" in Case.objects.get(pk=a.ids["draft"]).title


def test_the_same_routes_answer_on_the_own_territory(world):
    """Sanity: the 404s above come from the territory, not from the fixture."""
    b = world.b
    client = _client(b.users["agent"])
    assert client.get(f"/api/v1/cases/{b.ids['case']}/").status_code == 200
    assert client.get(f"/api/v1/funding-requests/{b.ids['fr']}/").status_code == 200
    assert client.get(f"/api/v1/payment-claims/{b.ids['claim']}/").status_code == 200
    assert client.get(f"/api/v1/committee-sessions/{b.ids['session']}/").status_code == 200
    director = _client(b.users["director"])
    assert director.get(f"/api/v1/cases/{b.ids['case']}/").status_code == 200
    partner = _client(b.users["epci_partner"])
    assert partner.get(f"/api/v1/cases/{b.ids['case']}/").status_code == 200


def _list_routes():
    for checks in MATRIX.values():
        for method, url, _body, _expected in checks:
            if method == "get" and "{" not in url:
                yield url


def test_no_list_shows_anything_of_another_territory(world):
    a, b = world.a, world.b
    leaks = []
    for url in _list_routes():
        for role in STAFF:
            response = _client(b.users[role]).get(url)
            assert response.status_code < 500, (url, role)
            text = response.content.decode("utf-8", "replace")
            for needle in (a.marker, a.org_name, a.reference):
                if needle in text:
                    leaks.append(f"{url} as {role} of B shows « {needle} »")
    assert not leaks, "\n".join(leaks)


def _results(client, url) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


@pytest.mark.parametrize("role", ["agent", "director", "admin"])
def test_lists_show_the_own_territory(world, role):
    for side in (world.a, world.b):
        other = world.b if side is world.a else world.a
        client = _client(side.users[role])
        cases = {c["id"] for c in _results(client, "/api/v1/cases/")}
        assert side.case_ids <= cases
        assert not cases & other.case_ids
        orgs = {o["id"] for o in _results(client, "/api/v1/organisations/")}
        assert side.ids["organisation"] in orgs
        assert other.ids["organisation"] not in orgs
        deadlines = {d["case"] for d in _results(client, "/api/v1/deadlines/")}
        assert deadlines and deadlines <= side.case_ids | {None}
        alerts = {x["id"] for x in _results(client, "/api/v1/alerts/")}
        assert side.ids["alert"] in alerts and other.ids["alert"] not in alerts
        sessions = {s["id"] for s in _results(client, "/api/v1/committee-sessions/")}
        assert sessions == {side.ids["session"]}


def test_epci_partner_and_committee_member_stay_in_their_territory(world):
    for side in (world.a, world.b):
        other = world.b if side is world.a else world.a
        partner = _client(side.users["epci_partner"])
        assert {c["id"] for c in _results(partner, "/api/v1/cases/")} == side.case_ids
        member = _client(side.users["committee_member"])
        sessions = {s["id"] for s in _results(member, "/api/v1/committee-sessions/")}
        assert sessions == {side.ids["session"]}
        assert other.ids["session"] not in sessions


def test_audit_log_of_a_director_is_its_territory(world):
    a, b = world.a, world.b
    # A's agent reads A's dossier: an access log entry about A
    assert _client(a.users["agent"]).get(f"/api/v1/cases/{a.ids['case']}/").status_code == 200
    assert _client(b.users["agent"]).get(f"/api/v1/cases/{b.ids['case']}/").status_code == 200
    seen_b = {e["case"] for e in _results(_client(b.users["director"]), "/api/v1/audit/")}
    assert b.ids["case"] in seen_b and not seen_b & a.case_ids
    seen_all = {e["case"] for e in _results(_client(world.superuser), "/api/v1/audit/")}
    assert {a.ids["case"], b.ids["case"]} <= seen_all


def test_an_administrator_of_b_cannot_revoke_a_token_of_a(world):
    a, b = world.a, world.b
    client = _client(b.users["admin"])
    response = client.post(
        "/api/v1/auth/token/revoke/", {"user": a.users["agent"].pk}, format="json"
    )
    assert response.status_code == 404
    response = client.post(
        "/api/v1/auth/token/revoke/", {"user": b.users["agent"].pk}, format="json"
    )
    assert response.status_code == 204


def test_a_transition_on_another_territorys_dossier_is_404(world):
    a, b = world.a, world.b
    for role in ("agent", "admin"):
        response = _client(b.users[role]).post(
            f"/api/v1/cases/{a.ids['draft']}/transitions/withdraw/",
            {"comment": "test", "reason": "pas chez nous"},
            format="json",
        )
        assert response.status_code == 404, response.content
    assert Case.objects.get(pk=a.ids["draft"]).state == "draft"
    # the same transition on its own dossier goes through
    response = _client(b.users["agent"]).post(
        f"/api/v1/cases/{b.ids['draft']}/transitions/withdraw/",
        {"reason": "abandon du projet"},
        format="json",
    )
    assert response.status_code == 200, response.content


def test_superuser_and_funder_instructor_see_both_territories(world):
    a, b = world.a, world.b
    for user in (world.superuser, world.etat):
        ids = {c["id"] for c in _results(_client(user), "/api/v1/cases/")}
        assert {a.ids["case"], b.ids["case"]} <= ids, user.role
    # the funder sees its requests (the decided dossiers), not the drafts
    ids = {c["id"] for c in _results(_client(world.etat), "/api/v1/cases/")}
    assert a.ids["draft"] not in ids


def test_the_payload_of_a_list_is_json(world):
    # the generic check above reads raw bytes; make sure they are the JSON we parse
    body = _client(world.b.users["agent"]).get("/api/v1/cases/").content
    assert json.loads(body)["count"] == 2


def test_bulk_transitions_refuse_another_territorys_requests_404(world):
    """Bulk work (api.md « Additions »): each request of A in a bulk call by B's staff is
    refused 404 with the single route's message, as one by one, and A is left untouched;
    B's own request in the same call is seen (never a 404)."""
    a, b = world.a, world.b
    theirs, ours = a.ids["fr"], b.ids["fr"]
    before = FundingRequest.objects.get(pk=theirs).state
    moves = {
        "withdraw": {"reason": "Pas chez nous."},
        "start_instruction": {},
        "commit": {"date": "2026-02-10"},
    }
    answered = 0
    for role in STAFF:
        for name, fields in moves.items():
            body = {"items": [{"id": theirs, **fields}, {"id": ours, **fields}]}
            response = _client(b.users[role]).post(
                f"/api/v1/funding-requests/bulk/{name}/", body, format="json"
            )
            if response.status_code == 403:  # the role may never apply it: refused whole
                continue
            assert response.status_code == 200, (role, name, response.content)
            answered += 1
            data = response.json()
            assert theirs not in data["applied"]
            refusals = {r["id"]: r for r in data["refused"]}
            assert refusals[theirs] == {
                "id": theirs,
                "status": 404,
                "detail": "Demande de financement introuvable.",
            }, (role, name)
            assert refusals.get(ours, {}).get("status") != 404, (role, name)
    assert answered >= 4  # agent and admin, at least
    assert FundingRequest.objects.get(pk=theirs).state == before
