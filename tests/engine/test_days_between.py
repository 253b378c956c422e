"""``DaysBetween``: the day count of two dates in SQL, the same on SQLite and PostgreSQL
(SQLite keeps dates as text, where ``-`` would subtract the years)."""

import datetime as dt

import pytest
from django.db import models

from engine.calendar import next_working_day
from engine.deadlines import DaysBetween, deadline_open, deadlines_resume, deadlines_suspend
from engine.models import Deadline
from tests.engine import walk

pytestmark = pytest.mark.django_db

D = dt.date


def _case():
    case, _ = walk.draft_case()
    return case


@pytest.mark.parametrize(
    "due, on",
    [
        (D(2026, 6, 2), D(2026, 3, 12)),  # same year: 82
        (D(2027, 1, 4), D(2026, 12, 1)),  # across a new year: 34
        (D(2028, 3, 1), D(2028, 2, 28)),  # across a leap day: 2
        (D(2026, 3, 2), D(2026, 3, 20)),  # already overdue: -18
        (D(2026, 3, 2), D(2026, 3, 2)),
    ],
)
def test_days_between_counts_days_on_this_database(due, on):
    case = _case()
    deadline = deadline_open(
        subject=case, aggregate_id=case.pk, kind="completeness", due_on=due, party="agent"
    )
    left = (
        Deadline.objects.filter(pk=deadline.pk)
        .annotate(
            left=DaysBetween(models.F("due_on"), models.Value(on, output_field=models.DateField()))
        )
        .values_list("left", flat=True)
        .get()
    )
    assert left == (due - on).days


@pytest.mark.parametrize("days_after", [0, 1, 17, 45, 200, 400])
def test_suspend_then_resume_the_same_day_keeps_the_due_date(days_after):
    case = _case()
    on = D(2026, 12, 14)
    due = D(2026, 12, 14) + dt.timedelta(days=days_after)
    deadline = deadline_open(
        subject=case, aggregate_id=case.pk, kind="completeness", due_on=due, party="agent"
    )
    deadlines_suspend(aggregate_id=case.pk, kinds=["completeness"], on=on)
    deadline.refresh_from_db()
    assert deadline.days_left_when_suspended == days_after
    deadlines_resume(aggregate_id=case.pk, kinds=["completeness"], on=on)
    deadline.refresh_from_db()
    assert deadline.state == Deadline.State.OPEN
    assert deadline.due_on == next_working_day(due)
