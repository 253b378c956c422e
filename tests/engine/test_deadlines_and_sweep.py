"""Deadlines (open, close, suspend, resume, cancel) and the sweep of expired ones.

A dossier (``Case``) serves as the subject: the engine itself knows no model.
"""

import datetime as dt
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections
from django_fsm_log.models import StateLog

from cases.models import Case, CaseState, FundingRequest, RequestState
from engine import sweep as sweep_module
from engine.deadlines import (
    deadline_open,
    deadlines_cancel_aggregate,
    deadlines_close,
    deadlines_resume,
    deadlines_suspend,
)
from engine.models import Deadline, OutboxEvent
from engine.sweep import sweep_expired
from engine.transitions import transition_apply
from tests import factories as f
from tests.engine import walk

D = dt.date


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


def _case():
    case, _ = walk.draft_case()
    return case


def _logs(obj, transition):
    return StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        transition=transition,
    )


def _deemed_case(**kw):
    """Revised rule 2: « réputé complet » is a DETR request's, 3 months after its
    funder's receipt (here the desk's day): the handiest expiry of all."""
    case, porteur = walk.acknowledged_case(**kw)
    return case, case.funding_requests.get()


def _deemed(fr) -> Deadline:
    return Deadline.objects.get(
        subject_type=ContentType.objects.get_for_model(FundingRequest),
        subject_id=fr.pk,
        kind="completeness",
    )


# ---------------------------------------------------------------- open / close


@pytest.mark.django_db
def test_open_replans_the_single_live_deadline_of_a_kind():
    case = _case()
    first = deadline_open(
        subject=case,
        aggregate_id=case.pk,
        kind="works_start",
        due_on=D(2027, 1, 4),
        party="porteur",
    )
    again = deadline_open(
        subject=case,
        aggregate_id=case.pk,
        kind="works_start",
        due_on=D(2027, 6, 1),
        party="agent",
        expiry_transition="lapse",
    )
    assert again.pk == first.pk
    first.refresh_from_db()
    assert (first.due_on, first.party, first.expiry_transition) == (D(2027, 6, 1), "agent", "lapse")
    other = deadline_open(
        subject=case, aggregate_id=case.pk, kind="documents", due_on=D(2027, 1, 4), party="porteur"
    )
    assert other.pk != first.pk
    assert Deadline.objects.filter(subject_id=case.pk, state="open").count() == 2


@pytest.mark.django_db
def test_open_after_close_starts_a_new_deadline():
    case = _case()
    first = deadline_open(
        subject=case, aggregate_id=case.pk, kind="documents", due_on=D(2027, 1, 4), party="porteur"
    )
    assert deadlines_close(subject=case, kinds=["documents"]) == 1
    second = deadline_open(
        subject=case, aggregate_id=case.pk, kind="documents", due_on=D(2027, 2, 4), party="porteur"
    )
    assert second.pk != first.pk
    first.refresh_from_db()
    assert first.state == "met" and first.due_on == D(2027, 1, 4)


@pytest.mark.django_db
def test_close_only_the_given_kinds_and_only_live_deadlines():
    case = _case()
    for kind in ("completeness", "documents", "implicit_decision"):
        deadline_open(
            subject=case, aggregate_id=case.pk, kind=kind, due_on=D(2027, 1, 4), party="agent"
        )
    assert deadlines_close(subject=case, kinds=["completeness", "documents"]) == 2
    states = dict(Deadline.objects.filter(subject_id=case.pk).values_list("kind", "state"))
    assert states == {"completeness": "met", "documents": "met", "implicit_decision": "open"}
    closed = Deadline.objects.get(subject_id=case.pk, kind="completeness")
    assert closed.closed_at is not None
    # already met: closing again changes nothing
    assert deadlines_close(subject=case, kinds=["completeness"]) == 0
    assert deadlines_close(subject=case, state=Deadline.State.CANCELLED) == 1
    assert Deadline.objects.get(subject_id=case.pk, kind="implicit_decision").state == "cancelled"


@pytest.mark.django_db
def test_close_is_scoped_to_the_subject():
    case, other = _case(), _case()
    for subject in (case, other):
        deadline_open(
            subject=subject, aggregate_id=subject.pk, kind="documents", due_on=D(2027, 1, 4),
            party="porteur",
        )  # fmt: skip
    deadlines_close(subject=case)
    assert Deadline.objects.get(subject_id=other.pk).state == "open"


# ---------------------------------------------------------------- suspend / resume


@pytest.mark.django_db
def test_suspend_keeps_the_days_left_and_resume_restarts_from_them():
    case = _case()
    deadline_open(
        subject=case, aggregate_id=case.pk, kind="completeness", due_on=D(2026, 6, 2), party="agent"
    )
    deadline_open(
        subject=case, aggregate_id=case.pk, kind="documents", due_on=D(2026, 4, 1), party="porteur"
    )
    assert deadlines_suspend(aggregate_id=case.pk, kinds=["completeness"], on=D(2026, 3, 12)) == 1
    completeness = Deadline.objects.get(subject_id=case.pk, kind="completeness")
    assert completeness.state == "suspended"
    assert completeness.days_left_when_suspended == 82  # 12 March → 2 June
    assert Deadline.objects.get(subject_id=case.pk, kind="documents").state == "open"
    # suspending twice does not overwrite the days left
    assert deadlines_suspend(aggregate_id=case.pk, kinds=["completeness"], on=D(2026, 5, 1)) == 0
    # a suspended deadline is not swept even long after its old due date
    assert sweep_expired(today=D(2026, 7, 1)) == 0

    assert deadlines_resume(aggregate_id=case.pk, kinds=["completeness"], on=D(2026, 4, 1)) == 1
    completeness.refresh_from_db()
    assert completeness.state == "open"
    assert completeness.days_left_when_suspended is None
    assert completeness.due_on == D(2026, 6, 22)  # 1 April + 82 days, a Monday
    # resuming again changes nothing
    assert deadlines_resume(aggregate_id=case.pk, kinds=["completeness"], on=D(2026, 5, 1)) == 0


@pytest.mark.django_db
def test_resume_landing_on_a_weekend_or_holiday_runs_to_the_next_working_day():
    case = _case()
    deadline_open(
        subject=case,
        aggregate_id=case.pk,
        kind="completeness",
        due_on=D(2026, 3, 20),
        party="agent",
    )
    deadlines_suspend(aggregate_id=case.pk, kinds=["completeness"], on=D(2026, 3, 10))  # 10 left
    deadlines_resume(aggregate_id=case.pk, kinds=["completeness"], on=D(2026, 4, 28))
    # 28 April + 10 days = 8 May 2026 (holiday, Friday) → Monday 11 May
    assert Deadline.objects.get(subject_id=case.pk).due_on == D(2026, 5, 11)


@pytest.mark.django_db
def test_suspending_an_overdue_deadline_leaves_zero_days():
    case = _case()
    deadline_open(
        subject=case, aggregate_id=case.pk, kind="completeness", due_on=D(2026, 3, 2), party="agent"
    )
    deadlines_suspend(aggregate_id=case.pk, kinds=["completeness"], on=D(2026, 3, 20))
    deadline = Deadline.objects.get(subject_id=case.pk)
    assert deadline.days_left_when_suspended == 0
    deadlines_resume(aggregate_id=case.pk, kinds=["completeness"], on=D(2026, 4, 1))
    deadline.refresh_from_db()
    assert deadline.due_on == D(2026, 4, 1)


@pytest.mark.django_db
def test_cancel_aggregate_cancels_open_and_suspended_but_not_met():
    case = _case()
    for kind in ("a", "b", "c"):
        deadline_open(
            subject=case, aggregate_id=case.pk, kind=kind, due_on=D(2027, 1, 4), party="agent"
        )
    deadlines_close(subject=case, kinds=["a"])
    deadlines_suspend(aggregate_id=case.pk, kinds=["b"], on=D(2026, 12, 1))
    assert deadlines_cancel_aggregate(aggregate_id=case.pk) == 2
    states = dict(Deadline.objects.filter(subject_id=case.pk).values_list("kind", "state"))
    assert states == {"a": "met", "b": "cancelled", "c": "cancelled"}


@pytest.mark.django_db
def test_documents_request_stops_and_provision_restarts_the_completeness_clock():
    """The same semantics through the dossier's transitions (CGCT R2334-23)."""
    case, porteur = walk.submitted_case(receipt="2026-03-02")
    agent = f.agent()
    completeness = Deadline.objects.get(aggregate_id=case.pk, kind="completeness")
    assert completeness.due_on == D(2026, 6, 2)
    transition_apply(
        instance=case,
        name="request_documents",
        actor=agent,
        data={"documents": ["Plan de situation à jour"], "date": "2026-03-12"},
    )
    completeness.refresh_from_db()
    assert (completeness.state, completeness.days_left_when_suspended) == ("suspended", 82)
    documents = Deadline.objects.get(aggregate_id=case.pk, kind="documents")
    assert documents.state == "open" and documents.due_on == D(2026, 4, 13)  # 11 April: Sat
    walk.upload_required(porteur, case)
    transition_apply(
        instance=case, name="provide_documents", actor=porteur, data={"date": "2026-04-01"}
    )
    completeness.refresh_from_db()
    documents.refresh_from_db()
    assert (completeness.state, completeness.due_on) == ("open", D(2026, 6, 22))
    assert documents.state == "met"


@pytest.mark.django_db
def test_open_due_dates_have_a_partial_index():
    catalog = {
        "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
        "sqlite": "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s",
    }[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(catalog, ["deadline_open_due_idx"])
        (indexdef,) = cursor.fetchone()
    indexdef = indexdef.replace('"', "")
    assert "(due_on)" in indexdef and "WHERE" in indexdef and "'open'" in indexdef


# ---------------------------------------------------------------- sweep


@pytest.mark.django_db
def test_sweep_applies_expiry_only_strictly_after_the_due_date():
    case, fr = _deemed_case(receipt="2026-03-02")
    deadline = _deemed(fr)
    assert deadline.due_on == D(2026, 6, 2) and deadline.expiry_transition == "declare_complete"

    assert sweep_expired(today=D(2026, 6, 2)) == 0  # the last day is still open
    fr.refresh_from_db()
    deadline.refresh_from_db()
    assert fr.state == RequestState.REQUESTED and deadline.state == "open"

    assert sweep_expired(today=D(2026, 6, 3)) == 1
    fr.refresh_from_db()
    deadline.refresh_from_db()
    assert fr.state == RequestState.INSTRUCTING  # « réputé complet »
    # revised rule 7 (ADR 009): the expiry applied, the subject moved: the deadline is met
    assert deadline.state == "met" and deadline.closed_at is not None
    log = _logs(fr, "declare_complete").get()
    assert log.by is None and "Automatique" in log.description
    # the expiry opened the next deadline like a manual declaration would
    assert Deadline.objects.filter(aggregate_id=case.pk, kind="implicit_decision").count() == 1


@pytest.mark.django_db
def test_sweep_twice_changes_nothing_more():
    cases = [_deemed_case(receipt="2026-03-02")[0] for _ in range(2)]
    assert sweep_expired(today=D(2026, 6, 3)) == 2
    events = OutboxEvent.objects.count()
    logs = StateLog.objects.count()
    deadlines = list(Deadline.objects.order_by("id").values_list("id", "state", "due_on"))
    assert sweep_expired(today=D(2026, 6, 3)) == 0
    assert sweep_expired(today=D(2026, 6, 10)) == 0
    assert OutboxEvent.objects.count() == events
    assert StateLog.objects.count() == logs
    assert list(Deadline.objects.order_by("id").values_list("id", "state", "due_on")) == deadlines
    for case in cases:
        assert _logs(case.funding_requests.get(), "declare_complete").count() == 1


@pytest.mark.django_db
def test_sweep_marks_plain_deadlines_missed_and_ignores_met_and_suspended():
    """Revised rule 7: an overdue deadline without expiry transition becomes missed."""
    case = _case()
    for kind, expiry in (("met", "declare_complete"), ("plain", ""), ("suspended", "lapse")):
        deadline_open(
            subject=case, aggregate_id=case.pk, kind=kind, due_on=D(2026, 1, 5), party="agent",
            expiry_transition=expiry,
        )  # fmt: skip
    deadlines_close(subject=case, kinds=["met"])
    deadlines_suspend(aggregate_id=case.pk, kinds=["suspended"], on=D(2026, 1, 1))
    assert sweep_expired(today=D(2026, 11, 1)) == 0
    states = dict(Deadline.objects.filter(subject_id=case.pk).values_list("kind", "state"))
    assert states == {"met": "met", "plain": "missed", "suspended": "suspended"}
    case.refresh_from_db()
    assert case.state == CaseState.DRAFT


@pytest.mark.django_db
def test_sweep_walks_every_batch(monkeypatch):
    cases = [_deemed_case(receipt="2026-03-02")[0] for _ in range(5)]
    original = sweep_module.overdue_ids
    calls = []

    def small_batches(**kw):
        calls.append(kw["after_id"])
        return original(**kw, limit=2)

    monkeypatch.setattr(sweep_module, "overdue_ids", small_batches)
    assert sweep_expired(today=D(2026, 6, 3)) == 5
    # each dossier: the desk's reminder (missed) and its request's « réputé complet »
    assert len(calls) == 6  # 2 + 2 + 2 + 2 + 2, then an empty batch
    requests = FundingRequest.objects.filter(case__in=cases)
    assert {fr.state for fr in requests} == {"instructing"}


@pytest.mark.django_db
def test_a_deadline_whose_subject_moved_on_is_recorded_not_crashing():
    moved, _ = walk.draft_case()  # a draft has no decisions to record
    stale = deadline_open(
        subject=moved, aggregate_id=moved.pk, kind="completeness", due_on=D(2026, 3, 2),
        party="agent", expiry_transition="record_decisions",
    )  # fmt: skip
    fine, fine_request = _deemed_case(receipt="2026-03-02")
    assert sweep_expired(today=D(2026, 6, 3)) == 1  # the other dossier still moves on
    stale.refresh_from_db()
    moved.refresh_from_db()
    fine.refresh_from_db()
    assert moved.state == CaseState.DRAFT
    assert stale.state == "missed"
    assert "n'est pas possible depuis l'état" in stale.note and "En préparation" in stale.note
    fine_request.refresh_from_db()
    assert fine_request.state == RequestState.INSTRUCTING
    assert not _logs(moved, "record_decisions").exists()
    assert sweep_expired(today=D(2026, 6, 3)) == 0


@pytest.mark.django_db
def test_an_unknown_expiry_transition_is_recorded():
    case = _case()
    deadline = deadline_open(
        subject=case, aggregate_id=case.pk, kind="works_start", due_on=D(2026, 3, 2),
        party="porteur", expiry_transition="no_such_transition",
    )  # fmt: skip
    assert sweep_expired(today=D(2026, 6, 3)) == 0
    deadline.refresh_from_db()
    assert deadline.state == "missed" and "Transition inconnue" in deadline.note


@pytest.mark.django_db
def test_a_deadline_whose_subject_was_deleted_is_closed():
    case = _case()
    deadline = deadline_open(
        subject=case, aggregate_id=case.pk, kind="documents", due_on=D(2026, 3, 2),
        party="porteur", expiry_transition="declare_complete",
    )  # fmt: skip
    Case.objects.filter(pk=case.pk).delete()
    assert sweep_expired(today=D(2026, 6, 3)) == 0
    deadline.refresh_from_db()
    assert deadline.state == "missed"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_apply_each_expiry_once():
    cases = [_deemed_case(receipt="2026-03-02")[0] for _ in range(12)]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(sweep_expired(today=D(2026, 6, 3)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    notes = list(Deadline.objects.exclude(note="").values_list("note", flat=True))
    assert sum(results) == 12, (results, notes)
    for case in cases:
        fr = case.funding_requests.get()
        assert fr.state == RequestState.INSTRUCTING
        assert _logs(fr, "declare_complete").count() == 1
        topic = "fundingrequest.declare_complete"
        assert OutboxEvent.objects.filter(aggregate_id=case.pk, topic=topic).count() == 1
        assert Deadline.objects.filter(aggregate_id=case.pk, kind="implicit_decision").count() == 1
        assert _deemed(fr).state == "met"
