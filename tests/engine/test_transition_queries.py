"""A transition with every hook the project registers (deadline planning, agent tasks,
outbox relay kick) stays within a fixed number of SQL statements: a regression in a
hook (a re-read, a per-row loop, a savepoint) shows up here before the benchmark.

The bounds are the counts measured when written (``bench/README.md``), with no slack:
raise them only for a reason, in the same commit as the change that needs it. Inside a
test the engine's transaction is a savepoint (SAVEPOINT / RELEASE instead of BEGIN /
COMMIT: the same count)."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case, FundingRequest
from engine import transitions
from engine.models import Deadline
from engine.transitions import transition_apply
from tests import factories as f
from tests.workflows.helpers import (
    assert_invariant,
    attach_required,
    new_case,
    today_iso,
    upload,
)
from workflows.agent_tasks import case_tasks_sync

pytestmark = pytest.mark.django_db

# Engine core: savepoint (2), row lock (the referent agent joined), StateLog, UPDATE,
# outbox event.
# request_documents: core (6); deadlines: completeness suspended (one UPDATE), the
# requests with their schemes (read once for both hooks), the documents deadline opened
# (one INSERT … WHERE NOT EXISTS); tasks: process and its open tasks (one statement,
# locked), the completeness task done.
REQUEST_DOCUMENTS = 11
# provide_documents: core and the guard's document check (7); deadlines: completeness
# resumed and the documents deadline met (one UPDATE … RETURNING, the working day
# computed by the database); tasks: process and tasks, requests, the completeness task
# opened (the task, its link to the tracker; its owner, the referent, read with the
# engine's lock).
PROVIDE_DOCUMENTS = 12
# declare_complete: core (6); deadlines: completeness met, requests, implicit-decision
# deadline opened, its date stored on the request; tasks: process and tasks, the
# completeness task done, the request's task opened (task, link).
DECLARE_COMPLETE = 14
# start_instruction by the funder: core (6) and the dossier's row locked first (the
# aggregate's root, read once and reused by the guard; the request's scheme read with its
# row); deadlines: the request's own completeness met (UPDATE), the requests (read once
# for both hooks), its implicit-decision deadline opened once (live one?, insert) and its
# date stored on the request; tasks: the dossier row read again after the effects,
# process and tasks, the request's task cancelled.
START_INSTRUCTION = 15
# a sync with nothing to change: savepoint (2), dossier lock, process and tasks, requests.
SYNC_UNCHANGED = 5


def test_every_layer_hook_is_registered():
    names = {f"{h.__module__}.{h.__name__}" for h in transitions._hooks}
    assert {
        "workflows.hooks.plan_deadlines",
        "workflows.agent_tasks.tasks_sync_hook",
        "notifications.wiring.after_transition",
    } <= names


def _submitted_case():
    porteur = f.porteur()
    referent = f.agent(epci=porteur.organisation.epci)
    case = new_case(porteur, "DETR", state="draft")
    assert case.referent_agent == referent
    attach_required(porteur, case)
    transition_apply(instance=case, name="submit", actor=porteur, data={"date": today_iso()})
    return Case.objects.get(pk=case.pk), porteur, referent


def test_documents_cycle_and_instruction_stay_within_their_queries(
    django_assert_max_num_queries,
):
    case, porteur, referent = _submitted_case()
    prefecture = f.funder_instructor("ETAT")
    assert_invariant(case, {"check_completeness"})

    # steady state: content types cached, as in a running process
    ContentType.objects.get_for_models(Case, FundingRequest)
    case = Case.objects.get(pk=case.pk)  # as an API request loads it
    with django_assert_max_num_queries(REQUEST_DOCUMENTS):
        transition_apply(
            instance=case,
            name="request_documents",
            actor=referent,
            data={"documents": ["Plan de situation"], "date": today_iso()},
        )
    assert_invariant(case, set())
    deadlines = dict(Deadline.objects.filter(aggregate_id=case.pk).values_list("kind", "state"))
    assert deadlines == {"completeness": "suspended", "documents": "open"}

    upload(porteur, case)
    case = Case.objects.get(pk=case.pk)
    with django_assert_max_num_queries(PROVIDE_DOCUMENTS):
        transition_apply(
            instance=case, name="provide_documents", actor=porteur, data={"date": today_iso()}
        )
    assert_invariant(case, {"check_completeness"})
    deadlines = dict(Deadline.objects.filter(aggregate_id=case.pk).values_list("kind", "state"))
    assert deadlines == {"completeness": "open", "documents": "met"}

    case = Case.objects.get(pk=case.pk)
    with django_assert_max_num_queries(DECLARE_COMPLETE):
        transition_apply(
            instance=case, name="declare_complete", actor=referent, data={"date": today_iso()}
        )
    assert_invariant(case, {"start_instruction"})

    fr = FundingRequest.objects.select_related("scheme", "case").get(case=case)
    with django_assert_max_num_queries(START_INSTRUCTION):
        transition_apply(instance=fr, name="start_instruction", actor=prefecture)
    assert_invariant(case, set())


def test_a_sync_with_nothing_to_change_writes_no_task(django_assert_max_num_queries):
    """The agent's tasks already match the dossier: reads only (savepoint, dossier lock,
    process locked with its tasks, the requests), no viewflow row written."""
    case, porteur, referent = _submitted_case()
    with CaptureQueriesContext(connection) as ctx:
        with django_assert_max_num_queries(SYNC_UNCHANGED):
            case_tasks_sync(case.pk)
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    assert writes == []
    assert_invariant(case, {"check_completeness"})
