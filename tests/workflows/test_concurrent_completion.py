"""Two agents' requests complete the same task at the same moment: one wins, the other
gets a 409 domain error; the dossier moved once."""

from __future__ import annotations

import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django_fsm_log.models import StateLog
from viewflow.workflow.models import Task

from cases.models import Case
from engine.errors import DomainError
from tests import factories as f
from workflows.agent_tasks import task_complete

from .helpers import assert_invariant, ensure_reference_data, new_case, the_task


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_completions_at_once_one_wins():
    ensure_reference_data()
    porteur = f.porteur()
    referent = f.agent(epci=porteur.organisation.epci)
    case = new_case(porteur, "DETR")
    task = the_task(case, "study_idea")
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(transition):
        try:
            mine = Task.objects.get(pk=task.pk)
            barrier.wait(timeout=10)
            task_complete(task=mine, actor=referent, transition=transition)
            results[transition] = "ok"
        except DomainError as exc:
            results[transition] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(name,)) for name in ("start_scoping", "open_application")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 2
    winners = [name for name, r in results.items() if r == "ok"]
    losers = [r for r in results.values() if r != "ok"]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].code == "conflict" and losers[0].status == 409
    case = Case.objects.get(pk=case.pk)
    assert case.state == {"start_scoping": "scoping", "open_application": "draft"}[winners[0]]
    moves = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Case), object_id=case.pk
    )
    assert list(moves.values_list("transition", flat=True)) == winners
    done = Task.objects.get(pk=task.pk)
    assert done.status == "DONE" and done.data["transition"] == winners[0]
    assert_invariant(case, {"support_upstream"} if winners[0] == "start_scoping" else set())
