"""Deadline services: open, close, suspend, resume. The sweep is in ``engine.sweep``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import NotSupportedError, connections, models, router
from django.db.models.functions import Greatest
from django.utils import timezone

from .calendar import next_working_day
from .lifecycle import DeadlineKind
from .models import Deadline

LIVE = (Deadline.State.OPEN, Deadline.State.SUSPENDED)


def _subject_filter(subject: models.Model) -> dict:
    return {
        "subject_type": ContentType.objects.get_for_model(subject, for_concrete_model=False),
        "subject_id": subject.pk,
    }


def deadlines_of(subject: models.Model, *, kind: str | None = None, states=None):
    """The deadlines of one subject (of this kind, in these states, when given)."""
    qs = Deadline.objects.filter(**_subject_filter(subject))
    if kind is not None:
        qs = qs.filter(kind=kind)
    if states is not None:
        qs = qs.filter(state__in=list(states))
    return qs


#: Deadlines someone still has to act on: running, or past and escalating (rule 7).
TO_ACT = (Deadline.State.OPEN, Deadline.State.MISSED)


def first_due(subject_type, subject_id, kinds: Iterable[str]) -> models.Subquery:
    """A subquery (``subject_type`` and ``subject_id`` are outer references or values):
    the earliest due date of the subject's deadlines of these kinds still to act on — the
    due date of a task on that subject."""
    return models.Subquery(
        Deadline.objects.filter(
            subject_type=subject_type,
            subject_id=subject_id,
            kind__in=list(kinds),
            state__in=TO_ACT,
        )
        .order_by("due_on")
        .values("due_on")[:1],
        output_field=models.DateField(),
    )


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
    """Open (or re-plan) the live deadline of this kind on this subject: at most one lives.
    One statement when none lives (``_insert_unless_live``), else the live one re-planned
    (two more)."""
    new = Deadline(
        **_subject_filter(subject),
        aggregate_id=aggregate_id,
        kind=kind,
        due_on=due_on,
        party=party,
        expiry_transition=expiry_transition,
        note=note,
    )
    if _insert_unless_live(new):
        return new
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
    return Deadline.objects.create(  # the live one ended meanwhile (not under our lock)
        **_subject_filter(subject),
        aggregate_id=aggregate_id,
        kind=kind,
        due_on=due_on,
        party=party,
        expiry_transition=expiry_transition,
        note=note,
    )


def _insert_unless_live(deadline: Deadline) -> bool:
    """``INSERT … SELECT … WHERE NOT EXISTS`` a live deadline of the same kind on the same
    subject, ``RETURNING`` the new id: whether ``deadline`` was inserted (then saved, its
    id set)."""
    meta = Deadline._meta
    connection = connections[router.db_for_write(Deadline)]
    quote = connection.ops.quote_name
    columns, values = [], []
    for f in meta.concrete_fields:
        if not f.primary_key:
            columns.append(quote(f.column))
            values.append(f.get_db_prep_save(f.pre_save(deadline, True), connection))
    table = quote(meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(['%s'] * len(values))} WHERE NOT EXISTS (SELECT 1 FROM {table} "
        f"WHERE {quote('subject_type_id')} = %s AND {quote('subject_id')} = %s "
        f"AND {quote('kind')} = %s AND {quote('state')} IN (%s, %s)) "
        f"RETURNING {quote(meta.pk.column)}"
    )
    live = [deadline.subject_type_id, deadline.subject_id, deadline.kind, *map(str, LIVE)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *live])
        row = cursor.fetchone()
    if row is None:
        return False
    deadline.pk = row[0]
    deadline._state.adding = False
    deadline._state.db = connection.alias
    return True


def deadline_extend(*, subject: models.Model, kind: str, due_on: dt.date, today: dt.date):
    """Move the deadline of this kind on this subject to ``due_on`` (an extension): the
    live one, or the missed one, which is open again when ``due_on`` is not past. Returns
    the deadline, or None when there is none to move (met or cancelled)."""
    deadline = (
        Deadline.objects.select_for_update()
        .filter(**_subject_filter(subject), kind=kind, state__in=(*LIVE, Deadline.State.MISSED))
        .order_by("-id")
        .first()
    )
    if deadline is None:
        return None
    deadline.due_on = due_on
    if deadline.state == Deadline.State.MISSED and due_on >= today:
        deadline.state = Deadline.State.OPEN
        deadline.closed_at = None
    if deadline.state == Deadline.State.SUSPENDED:
        deadline.days_left_when_suspended = max((due_on - today).days, 0)
    deadline.save(update_fields=["due_on", "state", "closed_at", "days_left_when_suspended"])
    return deadline


def deadlines_close(
    *, subject: models.Model, kinds: Iterable[str] | None = None, state: str = Deadline.State.MET
) -> int:
    return deadlines_close_many(subjects=[subject], kinds=kinds, state=state)


def deadlines_close_many(
    *,
    subjects: list[models.Model],
    kinds: Iterable[str] | None = None,
    state: str = Deadline.State.MET,
) -> int:
    """Close the live deadlines (of these kinds) of the subjects, all of one model: one
    ``UPDATE``."""
    if not subjects:
        return 0
    qs = Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(subjects[0], for_concrete_model=False),
        subject_id__in=[s.pk for s in subjects],
        state__in=LIVE,
    )
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return qs.update(state=state, closed_at=timezone.now())


class DaysBetween(models.Func):
    """``DaysBetween(end, start)``: whole days from ``start`` to ``end`` (negative if
    ``end`` comes first), the same number on every supported database.

    PostgreSQL: ``date - date`` is an integer of days. SQLite stores dates as ISO text,
    where ``-`` would subtract the leading years: the day count is the difference of the
    Julian day numbers."""

    arity = 2
    output_field = models.IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"DaysBetween: no SQL for {connection.vendor}.")


def _clock_rows(aggregate_id: int, kinds: Iterable[str], subject, state: str):
    qs = Deadline.objects.filter(aggregate_id=aggregate_id, kind__in=list(kinds), state=state)
    return qs.filter(**_subject_filter(subject)) if subject is not None else qs


def deadlines_suspend(
    *, aggregate_id: int, kinds: Iterable[str], on: dt.date, subject: models.Model | None = None
) -> int:
    """Stop the clock of the aggregate's deadlines of these kinds (only ``subject``'s, if
    given): remember the days left, the due date no longer runs.

    One ``UPDATE``: days left = ``max(due_on - on, 0)``, computed by the database."""
    return _clock_rows(aggregate_id, kinds, subject, Deadline.State.OPEN).update(
        days_left_when_suspended=Greatest(
            DaysBetween(models.F("due_on"), models.Value(on, output_field=models.DateField())),
            models.Value(0),
        ),
        state=Deadline.State.SUSPENDED,
    )


def deadlines_resume(
    *,
    aggregate_id: int,
    kinds: Iterable[str],
    on: dt.date,
    subject: models.Model | None = None,
    resumed: set | None = None,
) -> int:
    """Restart the clock (of ``subject``'s deadlines only, if given) with the days that
    were left when it stopped; ``resumed``, if given, receives the kinds restarted.

    The new due date is a working day (``engine.calendar``), computed here: one read,
    then one ``UPDATE`` per distinct new due date (usually one), none if nothing is
    suspended."""
    rows = list(
        _clock_rows(aggregate_id, kinds, subject, Deadline.State.SUSPENDED).values_list(
            "pk", "days_left_when_suspended", "kind"
        )
    )
    if resumed is not None:
        resumed.update(kind for _pk, _days, kind in rows)
    by_due: dict[dt.date, list[int]] = {}
    for pk, days, _kind in rows:
        due = next_working_day(on + dt.timedelta(days=days or 0))
        by_due.setdefault(due, []).append(pk)
    for due, pks in by_due.items():
        Deadline.objects.filter(pk__in=pks).update(
            due_on=due, state=Deadline.State.OPEN, days_left_when_suspended=None
        )
    return len(rows)


def deadlines_cancel_aggregate(*, aggregate_id: int) -> int:
    return deadlines_cancel_aggregates(aggregate_ids=[aggregate_id])


def deadlines_cancel_aggregates(*, aggregate_ids: Iterable[int]) -> int:
    """Cancel every live deadline of these aggregates (a terminal transition): one
    ``UPDATE``."""
    return Deadline.objects.filter(aggregate_id__in=list(aggregate_ids), state__in=LIVE).update(
        state=Deadline.State.CANCELLED, closed_at=timezone.now()
    )


# ---------------------------------------------------------------- declared kinds

_kinds: dict[str, DeadlineKind] = {}


def register_deadline_kinds(*kinds: DeadlineKind) -> None:
    """The layer that plans deadlines declares their kinds (``manage.py check`` refuses a
    definition or a transition naming an undeclared one)."""
    for kind in kinds:
        _kinds[kind.code] = kind


def deadline_kinds() -> dict[str, DeadlineKind]:
    return dict(_kinds)
