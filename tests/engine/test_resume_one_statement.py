"""The clock restarted in one statement (issue 16): the working day computed by the
database, the days beyond the ``CASE``'s horizon moved by one more ``UPDATE``, and a
deadline of another kind met by the same statement (``meet``)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engine.calendar import next_working_day
from engine.deadlines import (
    RESUME_HORIZON,
    deadline_open,
    deadlines_resume,
    deadlines_suspend,
)
from engine.models import Deadline
from tests.engine import walk

D = dt.date
START = D(2026, 3, 2)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


def _suspended(case, kind: str, days: int, on=START) -> Deadline:
    deadline_open(
        subject=case,
        aggregate_id=case.pk,
        kind=kind,
        due_on=on + dt.timedelta(days=days),
        party="agent",
    )
    deadlines_suspend(aggregate_id=case.pk, kinds=[kind], on=on)
    return Deadline.objects.get(subject_id=case.pk, kind=kind)


def test_six_weeks_of_days_left_land_on_the_working_day_python_computes():
    case, _ = walk.draft_case()
    deadline = _suspended(case, "completeness", 0)
    on = D(2026, 4, 28)  # May holidays (1, 8, 14, 25) and weekends ahead
    for days in range(0, 42):
        Deadline.objects.filter(pk=deadline.pk).update(
            state="suspended", days_left_when_suspended=days
        )
        with CaptureQueriesContext(connection) as ctx:
            assert deadlines_resume(aggregate_id=case.pk, kinds=["completeness"], on=on) == 1
        deadline.refresh_from_db()
        assert deadline.due_on == next_working_day(on + dt.timedelta(days=days)), days
        assert len(ctx.captured_queries) == 1
        assert (deadline.state, deadline.days_left_when_suspended) == ("open", None)


def test_beyond_the_horizon_a_second_update_moves_the_date():
    case, _ = walk.draft_case()
    on = D(2026, 3, 2)
    days = RESUME_HORIZON + 1
    while (on + dt.timedelta(days=days)).weekday() != 5:  # a Saturday past the horizon
        days += 1
    deadline = _suspended(case, "completeness", days, on=on)
    assert deadline.days_left_when_suspended == days
    with CaptureQueriesContext(connection) as ctx:
        deadlines_resume(aggregate_id=case.pk, kinds=["completeness"], on=on)
    deadline.refresh_from_db()
    assert deadline.due_on == on + dt.timedelta(days=days + 2)  # the Monday
    assert len(ctx.captured_queries) == 2


def test_meet_closes_the_other_kind_in_the_same_statement():
    case, _ = walk.draft_case()
    _suspended(case, "completeness", 20)
    deadline_open(
        subject=case, aggregate_id=case.pk, kind="documents", due_on=D(2026, 4, 1), party="porteur"
    )
    resumed: set = set()
    with CaptureQueriesContext(connection) as ctx:
        count = deadlines_resume(
            aggregate_id=case.pk,
            kinds=["completeness"],
            on=D(2026, 3, 10),
            resumed=resumed,
            meet=(case, ["documents"]),
        )
    assert (count, resumed, len(ctx.captured_queries)) == (1, {"completeness"}, 1)
    completeness = Deadline.objects.get(subject_id=case.pk, kind="completeness")
    documents = Deadline.objects.get(subject_id=case.pk, kind="documents")
    assert (completeness.state, completeness.due_on, completeness.closed_at) == (
        "open",
        D(2026, 3, 30),
        None,
    )
    assert documents.state == "met" and documents.closed_at is not None
    assert documents.due_on == D(2026, 4, 1)


def test_meet_without_a_suspended_clock_still_meets():
    case, _ = walk.draft_case()
    deadline_open(
        subject=case, aggregate_id=case.pk, kind="documents", due_on=D(2026, 4, 1), party="porteur"
    )
    count = deadlines_resume(
        aggregate_id=case.pk, kinds=["completeness"], on=D(2026, 3, 10), meet=(case, ["documents"])
    )
    assert count == 0
    assert Deadline.objects.get(subject_id=case.pk, kind="documents").state == "met"


def test_meet_of_a_kind_also_restarted_restarts_then_meets():
    case, _ = walk.draft_case()
    _suspended(case, "completeness", 20)
    count = deadlines_resume(
        aggregate_id=case.pk,
        kinds=["completeness"],
        on=D(2026, 3, 10),
        meet=(case, ["completeness"]),
    )
    deadline = Deadline.objects.get(subject_id=case.pk, kind="completeness")
    assert count == 1
    assert (deadline.state, deadline.due_on) == ("met", D(2026, 3, 30))
