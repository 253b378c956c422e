"""Concurrent writes on either database: they queue, and one that cannot get the database's
write lock in time answers 409 with a French « réessayez », never 500.

Real threads, each with its own database connection, on the test database (a file on
SQLite, WAL mode, transactions ``BEGIN IMMEDIATE``)."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import services
from cases.models import ClaimState, PaymentClaim
from guichet import concurrency
from tests import factories as f
from tests.engine import walk

from .helpers import V1

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 8
RETRY = "Le dossier est en cours de modification ailleurs"


def _client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _in_parallel(calls) -> list:
    """Run every call in its own thread, all released at once; the answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            answers[index] = call()
        except Exception as exc:  # an exception escaping the view is a 500 too
            answers[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _granted_request():
    """A DETR request granted 35 000 € and committed: claims may be filed."""
    case, porteur, _ = walk.instructing_case(walk.DETR_PLAN)
    fr = case.funding_requests.get()
    walk.grant_and_commit(fr, amount="35000.00")
    return case, fr, porteur


def test_parallel_files_through_the_api_queue_and_none_is_lost(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS
    _, fr, porteur = _granted_request()
    # eight installments of 1 000 €: all within the 80 % ceiling, all may be filed
    claims = [
        services.claim_create(
            actor=porteur, funding_request=fr, data={"kind": "installment", "amount": "1000.00"}
        )
        for _ in range(THREADS)
    ]
    clients = [_client(porteur) for _ in claims]

    def filing(client, claim):
        return lambda: client.post(
            f"{V1}/payment-claims/{claim.pk}/transitions/file/",
            {"date": "2026-05-10"},
            format="json",
        )

    answers = _in_parallel([filing(c, claim) for c, claim in zip(clients, claims, strict=True)])

    crashes = [a for a in answers if isinstance(a, Exception) or a.status_code >= 500]
    assert not crashes, crashes
    assert {a.status_code for a in answers} <= {200, 409}, [a.data for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.data["detail"], answer.data
    # every 200 is a filed claim, every refusal left its claim a draft: nothing lost
    filed = set(PaymentClaim.objects.filter(state=ClaimState.FILED).values_list("pk", flat=True))
    accepted = {c.pk for c, a in zip(claims, answers, strict=True) if a.status_code == 200}
    assert filed == accepted
    # writers queue for the lock (busy timeout) rather than fail: all of them get through
    assert len(accepted) == THREADS


def test_parallel_transitions_on_one_dossier_one_wins_the_others_are_told_why(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS
    case, _ = walk.submitted_case(walk.DETR_PLAN)
    agents = [f.agent() for _ in range(THREADS)]

    def declaring(client):
        return lambda: client.post(
            f"{V1}/cases/{case.pk}/transitions/declare_complete/",
            {"date": "2026-03-10"},
            format="json",
        )

    calls = [declaring(_client(agent)) for agent in agents]
    answers = _in_parallel(calls)
    assert not [a for a in answers if isinstance(a, Exception) or a.status_code >= 500]
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1, [a.data for a in answers]
    assert all(400 <= code < 500 for code in codes if code != 200)
    assert all(isinstance(a.data.get("detail"), str) for a in answers if a.status_code != 200)


# ---------------------------------------------------------------- the lock held elsewhere


@contextmanager
def _write_lock_held_elsewhere():
    """Another connection holds the database's write lock (SQLite: ``BEGIN IMMEDIATE``;
    PostgreSQL: the dossiers and their children locked against writes) while this
    test's requests are given a short wait (busy timeout, ``lock_timeout``)."""
    db = connection.settings_dict
    options = db["OPTIONS"]
    saved = dict(options)
    connection.close()
    if connection.vendor == "sqlite":
        options["timeout"] = 0.2
        other = sqlite3.connect(db["NAME"], isolation_level=None, timeout=5)
        other.execute("BEGIN IMMEDIATE")
    else:
        options["options"] = f"{options.get('options', '')} -c lock_timeout=200".strip()
        other = psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname=db["NAME"],
        )
        other.execute("LOCK TABLE cases_case, cases_paymentclaim, cases_message IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        other.rollback()
        other.close()
        connection.close()
        options.clear()
        options.update(saved)


def test_a_write_that_cannot_get_the_lock_answers_409_in_french(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS
    _, fr, porteur = _granted_request()
    claim = services.claim_create(
        actor=porteur, funding_request=fr, data={"kind": "installment", "amount": "1000.00"}
    )
    client = _client(porteur)
    with _write_lock_held_elsewhere():
        answer = client.post(
            f"{V1}/payment-claims/{claim.pk}/transitions/file/",
            {"date": "2026-05-10"},
            format="json",
        )
    assert answer.status_code == 409, answer.content
    assert answer.json() == {"detail": concurrency.MESSAGE, "code": "write_conflict"}
    assert RETRY in answer.json()["detail"]
    assert answer["Retry-After"] == "1"
    claim.refresh_from_db()
    assert claim.state == ClaimState.DRAFT
    # the lock released, the same request passes
    again = client.post(
        f"{V1}/payment-claims/{claim.pk}/transitions/file/", {"date": "2026-05-10"}, format="json"
    )
    assert again.status_code == 200, again.content


def test_a_web_page_write_that_cannot_get_the_lock_answers_a_french_409_page(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS
    case, _ = walk.submitted_case(walk.DETR_PLAN)
    agent = f.agent()
    browser = Client()
    browser.force_login(agent)
    with _write_lock_held_elsewhere():
        page = browser.post(f"/dossiers/{case.pk}/notes/", {"body": "Vu en réunion."})
    assert page.status_code == 409, page.content[:500]
    text = page.content.decode()
    assert RETRY in text and "Modification en cours" in text
    assert case.messages.count() == 0
