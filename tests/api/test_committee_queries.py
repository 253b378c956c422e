"""The committee lists read in bounded queries: the API's session list and the committee
pages cost the same number of queries with one session or with three (no query per
session, item, vote or declaration)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.committee_declarations import conflict_declare
from tests.api.test_aggregate_concurrency import client_for
from tests.cases.test_committee import GOOD, awaiting, members, session_for, vote


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _session(agent, seats):
    """A session with two items, every member's vote and one declaration of interest."""
    first, second = awaiting(agent, 2)
    session = session_for(agent, seats)
    conflict_declare(
        actor=seats[-1],
        session=session,
        funding_request_id=first.pk,
        member_id=seats[-1].pk,
        reason="Trésorier de l'association porteuse.",
    )
    vote(agent, session, first, seats[:-1], "for", GOOD)
    vote(agent, session, second, seats, "for", GOOD)
    return session


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


@pytest.mark.django_db
def test_session_lists_do_not_grow_with_sessions():
    from tests import factories as f

    agent = f.agent()
    seats = members(2, agriculture=1, tourisme=1, associations=1)
    _session(agent, seats)
    api, page = client_for(agent), client_for(agent)
    page.force_login(agent)
    one = (_queries(api, "/api/v1/committee-sessions/"), _queries(page, "/comite/"))
    _session(agent, seats)
    _session(agent, seats)
    three = (_queries(api, "/api/v1/committee-sessions/"), _queries(page, "/comite/"))
    assert three[0] == one[0]
    assert three[1] <= one[1]
