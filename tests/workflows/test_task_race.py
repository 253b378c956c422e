"""A task completion and a direct transition of the same funding request at the same
moment never deadlock: both take the dossier's row first (the aggregate's root), then the
request's. The first in line wins; the other gets a 409 domain error, and the task ends
once, by the rule (DONE for the agent's completion, CANCELED for the funder's move).

The test holds the dossier's row while the two threads start, one after the other, and
releases it once both wait on it (``pg_stat_activity``): with the request locked before
the dossier, the completion would hold the request while the transition held the
dossier, a deadlock PostgreSQL would break with an error."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from viewflow.workflow.models import Task

from cases.models import Case, FundingRequest, RequestState
from engine.errors import DomainError
from engine.transitions import transition_apply
from tests import factories as f
from workflows.agent_tasks import task_complete

from .helpers import assert_invariant, attach_required, ensure_reference_data, new_case, the_task

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            [connection.settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


def _wait_for(count: int, threads) -> None:
    deadline = time.monotonic() + 30
    while _waiting_on_locks() < count:
        if time.monotonic() > deadline or not all(t.is_alive() for t in threads):
            pytest.fail("the threads did not reach the dossier's lock")
        time.sleep(0.02)


@pytest.mark.parametrize("first", ["completion", "funder"])
def test_task_completion_racing_a_direct_transition(first):
    ensure_reference_data()
    porteur = f.porteur()
    referent = f.agent(epci=porteur.organisation.epci)
    prefecture = f.funder_instructor("ETAT")
    case = new_case(porteur, "DETR", state="draft")
    attach_required(porteur, case)
    transition_apply(instance=case, name="submit", actor=porteur)
    transition_apply(instance=Case.objects.get(pk=case.pk), name="declare_complete", actor=referent)
    task = the_task(case, "start_instruction")
    fr_id = FundingRequest.objects.get(case=case).pk
    results: dict[str, object] = {}

    def completion():
        try:
            task_complete(task=Task(pk=task.pk), actor=referent, transition="start_instruction")
            results["completion"] = "ok"
        except Exception as exc:  # noqa: BLE001 - a deadlock would be a DatabaseError
            results["completion"] = exc
        finally:
            connections.close_all()

    def funder():
        try:
            fr = FundingRequest.objects.get(pk=fr_id)
            transition_apply(instance=fr, name="start_instruction", actor=prefecture)
            results["funder"] = "ok"
        except Exception as exc:  # noqa: BLE001
            results["funder"] = exc
        finally:
            connections.close_all()

    runs = {"completion": completion, "funder": funder}
    second = "funder" if first == "completion" else "completion"
    threads = []
    with transaction.atomic():
        Case.objects.select_for_update().get(pk=case.pk)  # hold the dossier
        for n, name in enumerate((first, second), start=1):
            threads.append(threading.Thread(target=runs[name]))
            threads[-1].start()
            _wait_for(n, threads)  # in line behind the held row, in this order
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    assert results[first] == "ok", results
    loser = results[second]
    assert isinstance(loser, DomainError), results
    assert loser.status == 409 and loser.code == "conflict"
    fr = FundingRequest.objects.get(pk=fr_id)
    assert fr.state == RequestState.INSTRUCTING
    task.refresh_from_db()
    if first == "completion":
        assert task.status == "DONE" and task.data["done_by"] == referent.pk
    else:
        assert task.status == "CANCELED" and "instructeur" in task.data["closed_because"]
        assert "déjà close" in loser.message
    assert_invariant(Case.objects.get(pk=case.pk), set())
