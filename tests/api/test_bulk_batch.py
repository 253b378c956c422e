"""The engine's batch mode under the bulk route (ADR 010): a chunk of items writes exactly
what the same items write one by one — history rows, deadlines, outbox events, agent
tasks — even with two requests of one dossier in the same chunk (waves), in a number of
statements that does not grow with the chunk, and parallel bulk calls on the same
dossiers neither deadlock nor decide a dossier twice."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_fsm_log.models import StateLog

from cases import builders
from cases.models import Case, FundingRequest
from cases.services.bulk import requests_bulk_transition
from engine import transitions
from engine.models import OutboxEvent
from engine.transitions import transition_apply
from tests import factories as f

from .test_bulk import _client, _in_parallel, grant_body, instructing, trace

TWO = builders.plan(100000, ("DETR", 40000), ("DSIL", 20000))


def grant(fr_id: int) -> dict:
    return grant_body(fr_id, "15000.00")


def twins(n: int) -> tuple[list[Case], list[Case]]:
    """Two sets of ``n`` two-request dossiers in instruction, same people, same dates."""
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)

    def build(i: int) -> Case:
        return builders.dossier(
            porteur=porteur,
            stage="instruction",
            agent=agent,
            plan=TWO,
            title=f"Projet {i}",
            receipt="2026-03-02",
            complete="2026-03-10",
        )

    return [build(i) for i in range(n)], [build(i) for i in range(n)]


def requests_of(cases) -> list[FundingRequest]:
    return [fr for case in cases for fr in case.funding_requests.order_by("id")]


@pytest.mark.django_db
def test_a_chunk_writes_what_one_by_one_writes_on_twin_data():
    """Twin dossiers, each with a DETR and a DSIL request: granted one by one through
    ``transition_apply`` for the first three, in one bulk call for the other three. Both
    requests of a dossier are in the chunk: the second one's grant decides the dossier, in
    the second wave, as it does one by one."""
    instructor = f.funder_instructor("ETAT")
    one, many = twins(3)
    for fr in requests_of(one):
        transition_apply(
            instance=fr,
            name="grant",
            actor=instructor,
            data={"amount_granted": "15000.00", "date": "2026-04-15"},
        )
    bulk = requests_of(many)
    assert len(bulk) == 6 and {fr.scheme.code for fr in bulk} == {"DETR", "DSIL"}
    report = requests_bulk_transition(
        actor=instructor, name="grant", body={"items": [grant(fr.pk) for fr in bulk]}
    )
    assert report.refused == [] and report.applied == [fr.pk for fr in bulk]
    for yardstick, fr in zip(requests_of(one), bulk, strict=True):
        expected, got = trace(yardstick), trace(fr)
        assert got == expected, fr.pk
        assert got["state"][-1] == "decided"
    case_ct = ContentType.objects.get_for_model(Case)
    for case in many:
        decided = StateLog.objects.filter(
            content_type=case_ct, object_id=case.pk, transition="record_decisions"
        )
        assert decided.count() == 1


@pytest.mark.django_db
def test_a_guard_refusal_in_a_wave_leaves_the_other_items_of_the_wave_and_dossier_applied():
    """The refused DETR request (over its amount) is alone refused, with its French
    detail; the DSIL request of the same dossier, in the next wave, is granted and the
    dossier stays in instruction (one request undecided), as one by one."""
    instructor = f.funder_instructor("ETAT")
    cases = instructing(3, plan=TWO)
    bulk = requests_of(cases)
    items = [grant(fr.pk) for fr in bulk]
    over = bulk[2]  # the second dossier's DETR request
    assert over.scheme.code == "DETR"
    items[2]["amount_granted"] = "45000.00"
    report = requests_bulk_transition(actor=instructor, name="grant", body={"items": items})
    assert report.applied == [fr.pk for fr in bulk if fr.pk != over.pk]
    [refused] = report.refused
    assert refused["id"] == over.pk and refused["status"] == 400
    assert "dépasse le montant demandé" in refused["detail"]
    states = {fr.pk: fr.state for fr in FundingRequest.objects.filter(case__in=cases)}
    assert states.pop(over.pk) == "instructing"
    assert set(states.values()) == {"granted"}
    assert [Case.objects.get(pk=c.pk).state for c in cases] == [
        "decided",
        "instruction",
        "decided",
    ]
    fr_ct = ContentType.objects.get_for_model(FundingRequest)
    assert not StateLog.objects.filter(content_type=fr_ct, object_id=over.pk, transition="grant")
    assert not OutboxEvent.objects.filter(subject_id=over.pk, topic="fundingrequest.grant")


@pytest.mark.django_db
def test_the_engine_statements_of_a_chunk_do_not_grow_with_its_size(
    monkeypatch, django_assert_max_num_queries
):
    """``commit`` (a guard, a dated history row, an outbox event, no effect) of 2 then of 8
    requests, the layers' hooks set aside: the engine's own statements per chunk (locks,
    history, saves, deadlines, events) are the same for 8 items as for 2."""
    instructor = f.funder_instructor("ETAT")
    requests = requests_of(instructing(10))
    granted = requests_bulk_transition(
        actor=instructor, name="grant", body={"items": [grant(fr.pk) for fr in requests]}
    )
    assert len(granted.applied) == 10
    monkeypatch.setattr(transitions, "_hooks", [])

    def commit(frs):
        items = [{"id": fr.pk, "date": "2026-05-04"} for fr in frs]
        return requests_bulk_transition(actor=instructor, name="commit", body={"items": items})

    with CaptureQueriesContext(connection) as small:
        assert commit(requests[:2]).applied == [fr.pk for fr in requests[:2]]
    with django_assert_max_num_queries(len(small.captured_queries)):
        report = commit(requests[2:])
    assert report.applied == [fr.pk for fr in requests[2:]] and not report.refused
    fr_ct = ContentType.objects.get_for_model(FundingRequest)
    for fr in requests:
        assert FundingRequest.objects.get(pk=fr.pk).state == "committed"
        [row] = StateLog.objects.filter(content_type=fr_ct, object_id=fr.pk, transition="commit")
        assert row.timestamp.date().isoformat() == "2026-05-04"  # dated by its event
        assert row.by_id == instructor.pk
    assert OutboxEvent.objects.filter(topic="fundingrequest.commit").count() == 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_bulk_calls_on_the_same_dossiers_decide_each_dossier_once():
    """Three callers grant overlapping sets of the requests of the same two-request
    dossiers, in opposite orders: the dossiers' locks are taken in one order (no deadlock,
    every call answers 200), each request is granted once, within its amount, and each
    dossier is decided once, by the grant of its last request."""
    instructor = f.funder_instructor("ETAT")
    cases = instructing(4, plan=TWO)
    requests = requests_of(cases)
    ids = [fr.pk for fr in requests]
    calls = [
        (_client(instructor), {"items": [grant(pk) for pk in ids[:5]]}),
        (_client(instructor), {"items": [grant(pk) for pk in reversed(ids)]}),
        (_client(instructor), {"items": [grant(pk) for pk in ids[3:]]}),
    ]
    results = _in_parallel(calls)
    assert all(status == 200 for status, _ in results), results
    applied = sorted(pk for _, body in results for pk in body["applied"])
    assert applied == sorted(ids), results
    assert all(r["status"] == 409 for _, body in results for r in body["refused"]), results
    fr_ct = ContentType.objects.get_for_model(FundingRequest)
    case_ct = ContentType.objects.get_for_model(Case)
    for fr in FundingRequest.objects.filter(pk__in=ids):
        assert fr.state == "granted" and fr.amount_granted <= fr.amount_requested
        grants = StateLog.objects.filter(content_type=fr_ct, object_id=fr.pk, transition="grant")
        assert grants.count() == 1
    for case in cases:
        assert Case.objects.get(pk=case.pk).state == "decided"
        decided = StateLog.objects.filter(
            content_type=case_ct, object_id=case.pk, transition="record_decisions"
        )
        assert decided.count() == 1
        events = OutboxEvent.objects.filter(aggregate_id=case.pk, topic="case.record_decisions")
        assert events.count() == 1
