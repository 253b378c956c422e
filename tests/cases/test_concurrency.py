"""Two OS processes apply transitions to the same dossier at the same moment: one wins, the
other gets ``ConcurrentChange`` (409); the history and the deadlines hold one step only.

The test holds a row lock on the dossier while both children load it and call
``transition_apply``; once both are seen waiting on that lock in ``pg_stat_activity`` it
releases the lock, so the two transitions really race for the same row.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django_fsm_log.models import StateLog

from cases.models import Case, CaseState
from engine.errors import ConcurrentChange
from engine.models import Deadline, OutboxEvent
from engine.transitions import transition_apply
from tests import factories as f
from tests.engine import walk

ROOT = Path(settings.BASE_DIR)

CHILD = textwrap.dedent(
    """
    import json, os, sys
    import django
    django.setup()
    from cases.models import Case, User
    from engine.errors import DomainError
    from engine.transitions import transition_apply

    case = Case.objects.get(pk=int(os.environ["CASE_ID"]))
    actor = User.objects.get(pk=int(os.environ["ACTOR_ID"]))
    name = os.environ["TRANSITION"]
    data = json.loads(os.environ["DATA"])
    print("loaded", case.state, flush=True)
    try:
        transition_apply(instance=case, name=name, actor=actor, data=data)
        result = {"name": name, "ok": True, "state": case.state}
    except DomainError as exc:
        result = {
            "name": name, "ok": False, "error": type(exc).__name__, "code": exc.code,
            "message": exc.message, "state": case.state,
        }
    print("RESULT " + json.dumps(result), flush=True)
    """
)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


def _child_env(case, actor, name, data):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,  # the *test* database
        DJANGO_SETTINGS_MODULE="guichet.settings",
        PYTHONPATH=str(ROOT),
        CASE_ID=str(case.pk),
        ACTOR_ID=str(actor.pk),
        TRANSITION=name,
        DATA=json.dumps(data),
    )
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # statistics views are a snapshot per transaction: take a new one
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            [connection.settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


def race(case, moves):
    """Run each (actor, transition, data) in its own process, released at the same moment."""
    children = []
    with transaction.atomic():
        Case.objects.select_for_update().get(pk=case.pk)  # hold the row
        for actor, name, data in moves:
            children.append(
                subprocess.Popen(
                    [sys.executable, "-c", CHILD],
                    cwd=ROOT,
                    env=_child_env(case, actor, name, data),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        deadline = time.monotonic() + 60
        while _waiting_on_locks() < len(moves):
            if time.monotonic() > deadline or any(c.poll() is not None for c in children):
                for c in children:
                    c.kill()
                outputs = [c.communicate() for c in children]
                pytest.fail(f"children did not reach the lock: {outputs}")
            time.sleep(0.05)
    results = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        line = [x for x in out.splitlines() if x.startswith("RESULT ")]
        assert line, (out, err)
        results.append(json.loads(line[0][len("RESULT ") :]))
    return results


def _history(case):
    return StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Case), object_id=case.pk
    ).filter(transition__in=["declare_complete", "request_documents"])


def _deadlines(case):
    return dict(Deadline.objects.filter(aggregate_id=case.pk).values_list("kind", "state"))


@pytest.mark.postgres  # child processes on the test database, waits seen in pg_stat_activity
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_agents_declare_complete_at_once():
    case, _ = walk.submitted_case()
    first, second = f.agent(), f.agent()
    results = race(
        case,
        [
            (first, "declare_complete", {"date": "2026-03-10"}),
            (second, "declare_complete", {"date": "2026-03-11"}),
        ],
    )
    winners = [r for r in results if r["ok"]]
    losers = [r for r in results if not r["ok"]]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0]["error"] == "ConcurrentChange" and losers[0]["code"] == "conflict"
    assert losers[0]["state"] == CaseState.SUBMITTED  # its in-memory object was reset
    assert "rechargez" in losers[0]["message"]

    case.refresh_from_db()
    assert case.state == CaseState.INSTRUCTION
    log = _history(case).get()  # exactly one entry for the step
    assert log.transition == "declare_complete"
    assert log.by_id in (first.pk, second.pk)
    assert str(case.complete_on) == ("2026-03-10" if log.by_id == first.pk else "2026-03-11")
    assert (
        OutboxEvent.objects.filter(aggregate_id=case.pk, topic="case.declare_complete").count() == 1
    )
    # Revised rules 1-3 (ADR 009): the implicit decision runs per request from its own
    # funder's completeness; the desk's completeness opens none (the DETR request is not
    # yet acknowledged by the préfecture).
    assert _deadlines(case) == {"completeness": "met"}
    # the step's effects ran once: one completeness deadline, closed once
    assert Deadline.objects.filter(aggregate_id=case.pk, kind="completeness").count() == 1


@pytest.mark.postgres  # child processes on the test database, waits seen in pg_stat_activity
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_declare_complete_races_request_documents():
    case, _ = walk.submitted_case()
    agent_a, agent_b = f.agent(), f.agent()
    results = race(
        case,
        [
            (agent_a, "declare_complete", {"date": "2026-03-10"}),
            (
                agent_b,
                "request_documents",
                {"documents": ["Plan de financement signé"], "date": "2026-03-10"},
            ),
        ],
    )
    winners = [r for r in results if r["ok"]]
    losers = [r for r in results if not r["ok"]]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0]["error"] == "ConcurrentChange"

    case.refresh_from_db()
    (log,) = _history(case)
    assert log.transition == winners[0]["name"]
    deadlines = _deadlines(case)
    if winners[0]["name"] == "declare_complete":
        assert case.state == CaseState.INSTRUCTION and case.missing_documents == []
        assert deadlines == {"completeness": "met"}  # none per request yet (ADR 009)
    else:
        assert case.state == CaseState.INCOMPLETE
        assert case.missing_documents == ["Plan de financement signé"] and case.complete_on is None
        assert deadlines == {"completeness": "suspended", "documents": "open"}
    topics = set(OutboxEvent.objects.filter(aggregate_id=case.pk).values_list("topic", flat=True))
    assert ("case.declare_complete" in topics) != ("case.request_documents" in topics)


@pytest.mark.django_db
def test_a_stale_object_gets_a_conflict_not_a_lost_update():
    """The same race within one process: the second caller holds an outdated copy."""
    case, _ = walk.submitted_case()
    agent = f.agent()
    stale = Case.objects.get(pk=case.pk)
    transition_apply(
        instance=case, name="declare_complete", actor=agent, data={"date": "2026-03-10"}
    )
    with pytest.raises(ConcurrentChange) as err:
        transition_apply(
            instance=stale,
            name="request_documents",
            actor=agent,
            data={"documents": ["RIB"], "date": "2026-03-10"},
        )
    assert err.value.status == 409
    assert stale.state == CaseState.SUBMITTED
    case.refresh_from_db()
    assert case.state == CaseState.INSTRUCTION and case.missing_documents == []
    assert [x.transition for x in _history(case)] == ["declare_complete"]
