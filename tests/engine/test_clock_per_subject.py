"""A clock stopped on one subject (``subject=``; a definition's ``Clock(per="self")``)
leaves the other subjects of the same dossier running: one funding request's
implicit-decision clock can pause while its neighbours' run on."""

import datetime as dt

import pytest

from engine.deadlines import deadline_open, deadlines_resume, deadlines_suspend
from engine.models import Deadline
from tests.engine import walk

pytestmark = pytest.mark.django_db

D = dt.date


def test_suspend_and_resume_only_the_given_subject():
    case = walk.instructing_case(walk.LEADER_DETR_PLAN)[0]
    first, second = list(case.funding_requests.order_by("pk"))[:2]
    mine = deadline_open(
        subject=first,
        aggregate_id=case.pk,
        kind="implicit_decision",
        due_on=D(2026, 6, 1),
        party="funder",
    )
    other = deadline_open(
        subject=second,
        aggregate_id=case.pk,
        kind="implicit_decision",
        due_on=D(2026, 6, 1),
        party="funder",
    )
    assert (
        deadlines_suspend(
            aggregate_id=case.pk, kinds=["implicit_decision"], on=D(2026, 5, 1), subject=first
        )
        == 1
    )
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.state, mine.days_left_when_suspended) == (Deadline.State.SUSPENDED, 31)
    assert (other.state, other.due_on) == (Deadline.State.OPEN, D(2026, 6, 1))

    # resuming another subject restarts nothing of this one
    assert (
        deadlines_resume(
            aggregate_id=case.pk, kinds=["implicit_decision"], on=D(2026, 5, 11), subject=second
        )
        == 0
    )
    assert (
        deadlines_resume(
            aggregate_id=case.pk, kinds=["implicit_decision"], on=D(2026, 5, 11), subject=first
        )
        == 1
    )
    mine.refresh_from_db()
    assert (mine.state, mine.due_on) == (Deadline.State.OPEN, D(2026, 6, 11))


def test_without_subject_the_whole_dossier_stops():
    case = walk.instructing_case(walk.LEADER_DETR_PLAN)[0]
    requests = list(case.funding_requests.order_by("pk"))
    for fr in requests:
        deadline_open(
            subject=fr,
            aggregate_id=case.pk,
            kind="implicit_decision",
            due_on=D(2026, 6, 1),
            party="funder",
        )
    stopped = deadlines_suspend(aggregate_id=case.pk, kinds=["implicit_decision"], on=D(2026, 5, 1))
    assert (
        stopped
        == Deadline.objects.filter(
            aggregate_id=case.pk, kind="implicit_decision", state=Deadline.State.SUSPENDED
        ).count()
        >= len(requests)
    )
