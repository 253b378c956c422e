"""Deadline services: open, close, suspend, resume. The sweep is in ``engine.sweep``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .calendar import next_working_day
from .models import Deadline

LIVE = (Deadline.State.OPEN, Deadline.State.SUSPENDED)


def _subject_filter(subject: models.Model) -> dict:
    return {
        "subject_type": ContentType.objects.get_for_model(subject, for_concrete_model=False),
        "subject_id": subject.pk,
    }


def deadline_open(
    *,
    subject: models.Model,
    aggregate_id: int,
    kind: str,
    due_on: dt.date,
    party: str,
    expiry_transition: str = "",
    note: str = "",
) -> Deadline:
    """Open (or re-plan) the live deadline of this kind on this subject: at most one lives."""
    live = Deadline.objects.filter(**_subject_filter(subject), kind=kind, state__in=LIVE)
    existing = live.first()
    if existing:
        existing.due_on = due_on
        existing.state = Deadline.State.OPEN
        existing.party = party
        existing.expiry_transition = expiry_transition
        existing.days_left_when_suspended = None
        existing.note = note
        existing.save()
        return existing
    return Deadline.objects.create(
        **_subject_filter(subject),
        aggregate_id=aggregate_id,
        kind=kind,
        due_on=due_on,
        party=party,
        expiry_transition=expiry_transition,
        note=note,
    )


def deadlines_close(
    *, subject: models.Model, kinds: Iterable[str] | None = None, state: str = Deadline.State.MET
) -> int:
    qs = Deadline.objects.filter(**_subject_filter(subject), state__in=LIVE)
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return qs.update(state=state, closed_at=timezone.now())


def deadlines_suspend(*, aggregate_id: int, kinds: Iterable[str], on: dt.date) -> int:
    """Stop the clock: remember the days left, the due date no longer runs."""
    count = 0
    for deadline in Deadline.objects.filter(
        aggregate_id=aggregate_id, kind__in=list(kinds), state=Deadline.State.OPEN
    ):
        deadline.days_left_when_suspended = max((deadline.due_on - on).days, 0)
        deadline.state = Deadline.State.SUSPENDED
        deadline.save(update_fields=["days_left_when_suspended", "state"])
        count += 1
    return count


def deadlines_resume(*, aggregate_id: int, kinds: Iterable[str], on: dt.date) -> int:
    """Restart the clock with the days that were left when it stopped."""
    count = 0
    for deadline in Deadline.objects.filter(
        aggregate_id=aggregate_id, kind__in=list(kinds), state=Deadline.State.SUSPENDED
    ):
        days = deadline.days_left_when_suspended or 0
        deadline.due_on = next_working_day(on + dt.timedelta(days=days))
        deadline.state = Deadline.State.OPEN
        deadline.days_left_when_suspended = None
        deadline.save(update_fields=["due_on", "state", "days_left_when_suspended"])
        count += 1
    return count


def deadlines_cancel_aggregate(*, aggregate_id: int) -> int:
    return Deadline.objects.filter(aggregate_id=aggregate_id, state__in=LIVE).update(
        state=Deadline.State.CANCELLED, closed_at=timezone.now()
    )
