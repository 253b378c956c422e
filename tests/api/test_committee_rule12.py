"""Revised rule 12 through the API: a written consultation with its closing date, a
substitute named and replying for an absent titular, a conflict of interest declared on
one item, validity per item at the close; and, with real threads, simultaneous votes and
declarations on one item under the session's lock keep the counts right."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from cases.models import CommitteeDecision, FundingRequest, InterestDeclaration, Vote
from tests import factories as f
from tests.api.test_aggregate_concurrency import client_for, in_parallel
from tests.cases.test_committee import GOOD, awaiting

V1 = "/api/v1"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def post(client, path, body, expected):
    response = client.post(f"{V1}{path}", body, format="json")
    assert response.status_code == expected, response.content
    return response.json()


@pytest.mark.django_db
def test_written_consultation_substitute_conflict_and_validity_per_item():
    agent = f.agent()
    seats = [f.committee_member("public") for _ in range(2)] + [
        f.committee_member("private", interest_group=g)
        for g in ("agriculture", "tourisme", "associations", "entreprises")
    ]
    sub = f.committee_member("private", interest_group="tourisme")
    first, second = awaiting(agent, 2)
    staff = client_for(agent)
    today = timezone.localdate()

    post(staff, "/committee-substitutes/", {"titular": seats[0].pk, "substitute": sub.pk}, 400)
    link = post(
        staff, "/committee-substitutes/", {"titular": seats[3].pk, "substitute": sub.pk}, 201
    )
    assert link["substitute"] == sub.pk
    post(client_for(seats[0]), "/committee-substitutes/", {"titular": 1, "substitute": 2}, 403)

    body = {"date": today.isoformat(), "kind": "written"}
    refused = post(staff, "/committee-sessions/", body, 400)
    assert "date limite des réponses" in refused["detail"]
    closes = (today + dt.timedelta(days=5)).isoformat()
    session = post(staff, "/committee-sessions/", {**body, "closes_on": closes}, 201)
    assert session["kind"] == "written" and session["closes_on"] == closes
    assert len(session["members"]) == 7 and sorted(session["agenda"]) == [first.pk, second.pk]
    sid = session["id"]

    conflict = {"funding_request": first.pk, "reason": "Président de l'association porteuse."}
    declared = post(client_for(seats[4]), f"/committee-sessions/{sid}/conflicts/", conflict, 201)
    assert declared["member"] == seats[4].pk
    for member in (*seats[:3], seats[4], seats[5], sub):
        for fr in (first, second):
            vote = {"funding_request": fr.pk, "vote": "for", "scores": GOOD}
            expected = 400 if (member, fr) == (seats[4], first) else 201
            answer = post(client_for(member), f"/committee-sessions/{sid}/votes/", vote, expected)
            if expected == 400:
                assert "conflit d'intérêts" in answer["detail"]
    post(staff, f"/committee-sessions/{sid}/transitions/close/", {}, 400)  # still open
    body = client_for(agent).get(f"{V1}/committee-sessions/{sid}/").json()
    assert body["substitutions"] == [{"substitute": sub.pk, "titular": seats[3].pk}]
    validity = {v["funding_request"]: v for v in body["validity"]}
    assert validity[first.pk]["conflicts"] == [seats[4].pk]
    # first: public 2 of 5 replies (conflicted member left out) → valid;
    # second: public 2 of 6 → valid too
    assert validity[first.pk]["valid"] and validity[first.pk]["present"] == 5

    # a second item made invalid: the two public members' replies only
    Vote.objects.filter(session_id=sid, funding_request=second).exclude(
        member__in=seats[:2]
    ).delete()
    with time_machine.travel(today + dt.timedelta(days=6), tick=False):
        closed = post(staff, f"/committee-sessions/{sid}/transitions/close/", {}, 200)
    decisions = {d["funding_request"]: d for d in closed["decisions"]}
    assert decisions[first.pk]["outcome"] == "selected" and decisions[first.pk]["valid"]
    assert decisions[second.pk]["outcome"] == "adjourned" and not decisions[second.pk]["valid"]
    assert "Quorum non atteint" in decisions[second.pk]["reason"]
    assert FundingRequest.objects.get(pk=first.pk).state == "selected"
    assert FundingRequest.objects.get(pk=second.pk).state == "adjourned"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_votes_and_declarations_on_one_item_keep_the_counts_right():
    """Under the session's lock: a member voting while declaring an interest ends with the
    declaration and no vote (whatever the order); a titular and their substitute replying
    at once to a written consultation leave one reply for the seat; everyone else's vote
    counts once."""
    agent = f.agent()
    seats = [f.committee_member("public") for _ in range(2)] + [
        f.committee_member("private", interest_group=g) for g in ("agriculture", "tourisme")
    ]
    sub = f.committee_member("private", interest_group="agriculture")
    (fr,) = awaiting(agent, 1)
    staff = client_for(agent)
    post(staff, "/committee-substitutes/", {"titular": seats[2].pk, "substitute": sub.pk}, 201)
    today = timezone.localdate()
    closes = (today + dt.timedelta(days=3)).isoformat()
    body = {"date": today.isoformat(), "kind": "written", "closes_on": closes}
    sid = post(staff, "/committee-sessions/", body, 201)["id"]
    votes, conflicts = f"/committee-sessions/{sid}/votes/", f"/committee-sessions/{sid}/conflicts/"
    ballot = {"funding_request": fr.pk, "vote": "for"}
    for _round in range(3):
        Vote.objects.filter(session_id=sid).delete()
        InterestDeclaration.objects.filter(session_id=sid).delete()
        results = in_parallel(
            [
                (client_for(seats[0]), votes, ballot),
                (client_for(seats[0]), conflicts, {"funding_request": fr.pk}),
                (client_for(seats[2]), votes, ballot),
                (client_for(sub), votes, ballot),
                (client_for(seats[1]), votes, ballot),
                (client_for(seats[3]), votes, ballot),
            ]
        )
        assert all(status in (201, 400) for status, _ in results), results
        assert results[1][0] == 201 and results[2][0] == 201, results
        cast = Vote.objects.filter(session_id=sid, funding_request=fr)
        assert not cast.filter(member=seats[0]).exists()  # declared: takes no part
        assert InterestDeclaration.objects.filter(session_id=sid, member=seats[0]).count() == 1
        assert cast.filter(member=seats[2]).count() == 1  # the titular's reply stands
        assert not cast.filter(member=sub).exists()  # never both
        assert cast.count() == 3  # seats 1, 2, 3: each once
    with time_machine.travel(today + dt.timedelta(days=4), tick=False):
        post(staff, f"/committee-sessions/{sid}/transitions/close/", {}, 200)
    decision = CommitteeDecision.objects.get(session_id=sid, funding_request=fr)
    assert decision.votes_for == 3 and decision.present == 3
