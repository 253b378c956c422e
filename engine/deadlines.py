"""Deadline services: open, close, suspend, resume. The sweep is in ``engine.sweep``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

from django.contrib.contenttypes.models import ContentType
from django.db import NotSupportedError, connections, models, router
from django.utils import timezone

from .calendar import is_working_day, next_working_day
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
    ``UPDATE`` (its SQL built once per shape: ``_close_sql``)."""
    if not subjects:
        return 0
    connection = connections[router.db_for_write(Deadline)]
    ct = ContentType.objects.get_for_model(subjects[0], for_concrete_model=False)
    kinds = None if kinds is None else list(kinds)
    closed_at = Deadline._meta.get_field("closed_at").get_db_prep_save(timezone.now(), connection)
    sql = _close_sql(len(subjects), None if kinds is None else len(kinds))
    params = [str(state), closed_at, ct.pk, *(s.pk for s in subjects), *map(str, LIVE)]
    return _execute(connection, sql, [*params, *(kinds or ())])


@lru_cache(maxsize=64)
def _close_sql(subjects: int, kinds: int | None) -> str:
    """What ``Deadline.objects.filter(subject_type, subject_id__in, state__in=LIVE[,
    kind__in]).update(state, closed_at)`` sends."""
    sql = (
        f"UPDATE {Deadline._meta.db_table} SET state = %s, closed_at = %s "
        f"WHERE subject_type_id = %s AND subject_id IN ({', '.join(['%s'] * subjects)}) "
        f"AND state IN (%s, %s)"
    )
    return sql if kinds is None else sql + f" AND kind IN ({', '.join(['%s'] * kinds)})"


def _execute(connection, sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


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


def _clock_where(kinds: int, per_subject: bool) -> str:
    """The aggregate's deadlines of these kinds in a state (of one subject, if given).
    Parameters: the aggregate, the kinds, the state[, the content type, the id]."""
    where = f"aggregate_id = %s AND kind IN ({', '.join(['%s'] * kinds)}) AND state = %s"
    return where + (" AND subject_type_id = %s AND subject_id = %s" if per_subject else "")


def _clock_params(aggregate_id: int, kinds: list, state: str, subject) -> list:
    params = [aggregate_id, *kinds, str(state)]
    if subject is not None:
        ct = ContentType.objects.get_for_model(subject, for_concrete_model=False)
        params += [ct.pk, subject.pk]
    return params


def deadlines_suspend(
    *, aggregate_id: int, kinds: Iterable[str], on: dt.date, subject: models.Model | None = None
) -> int:
    """Stop the clock of the aggregate's deadlines of these kinds (only ``subject``'s, if
    given): remember the days left, the due date no longer runs.

    One ``UPDATE``: days left = ``max(due_on - on, 0)``, computed by the database (the
    ``Greatest(DaysBetween(…), 0)`` of the ORM, its SQL built once per shape)."""
    connection = connections[router.db_for_write(Deadline)]
    kinds = list(kinds)
    sql = _suspend_sql(connection.vendor, len(kinds), subject is not None)
    on_value = Deadline._meta.get_field("due_on").get_db_prep_save(on, connection)
    params = _clock_params(aggregate_id, kinds, Deadline.State.OPEN, subject)
    return _execute(connection, sql, [on_value, *params])


@lru_cache(maxsize=64)
def _suspend_sql(vendor: str, kinds: int, per_subject: bool) -> str:
    if vendor == "postgresql":
        left = "GREATEST((due_on - %s), 0)"
    elif vendor == "sqlite":
        left = "MAX(CAST(julianday(due_on) - julianday(%s) AS INTEGER), 0)"
    else:
        raise NotSupportedError(f"deadlines_suspend: no SQL for {vendor}.")
    return (
        f"UPDATE {Deadline._meta.db_table} SET days_left_when_suspended = {left}, "
        f"state = '{Deadline.State.SUSPENDED.value}' WHERE {_clock_where(kinds, per_subject)}"
    )


def deadlines_resume(
    *,
    aggregate_id: int,
    kinds: Iterable[str],
    on: dt.date,
    subject: models.Model | None = None,
    resumed: set | None = None,
    meet: tuple[models.Model, Iterable[str]] | None = None,
) -> int:
    """Restart the clock (of ``subject``'s deadlines only, if given) with the days that
    were left when it stopped; ``resumed``, if given, receives the kinds restarted.
    ``meet`` (a subject, kinds other than ``kinds``): its live deadlines of those kinds are
    met by the same statement (``deadlines_close`` of them, as if called after).

    The new due date is a working day (``engine.calendar``): one ``UPDATE … RETURNING``
    computes it in the database, the days that land on a non-working day moved by a
    ``CASE`` worked out here for ``on`` (``_resume_sql``); a due date still not a working
    day (more than ``RESUME_HORIZON`` days left: rare) is moved by one more ``UPDATE``."""
    connection = connections[router.db_for_write(Deadline)]
    kinds = list(kinds)
    met = [] if meet is None else list(meet[1])
    if set(met) & set(kinds):  # one deadline both restarted and met: one after the other
        count = deadlines_resume(
            aggregate_id=aggregate_id, kinds=kinds, on=on, subject=subject, resumed=resumed
        )
        deadlines_close(subject=meet[0], kinds=met)
        return count
    params = [*kinds, on.isoformat()]
    if met:
        closed_at = Deadline._meta.get_field("closed_at").get_db_prep_save(
            timezone.now(), connection
        )
        params += [*kinds, *kinds, *kinds, closed_at]
    params += _clock_params(aggregate_id, kinds, Deadline.State.SUSPENDED, subject)
    if met:
        ct = ContentType.objects.get_for_model(meet[0], for_concrete_model=False)
        params += [ct.pk, meet[0].pk, *met, *map(str, LIVE)]
    sql = _resume_sql(connection.vendor, on, len(kinds), subject is not None, len(met))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [row for row in cursor.fetchall() if row[1] in kinds]  # not the ones met
    if resumed is not None:
        resumed.update(kind for _pk, kind, _due in rows)
    by_due: dict[dt.date, list[int]] = {}
    for pk, _kind, due in rows:
        due = dt.date.fromisoformat(due) if isinstance(due, str) else due
        if not is_working_day(due):
            by_due.setdefault(next_working_day(due), []).append(pk)
    for due, pks in by_due.items():
        Deadline.objects.filter(pk__in=pks).update(due_on=due)
    return len(rows)


#: Days left whose landing on a non-working day the resuming ``UPDATE`` moves itself.
RESUME_HORIZON = 400


@lru_cache(maxsize=64)
def _resume_sql(vendor: str, on: dt.date, kinds: int, per_subject: bool, met: int) -> str:
    """The resuming ``UPDATE`` for clocks restarted on ``on``: due = ``on`` + the days
    left + the shift to the next working day, ``CASE days WHEN k THEN k + shift`` for
    each ``k`` ≤ ``RESUME_HORIZON`` with ``on + k`` a weekend day or a public holiday.
    With ``met`` kinds, the rows of another kind (the subject's live deadlines of the
    ``met`` kinds) are met instead. Parameters: the kinds, ``on`` (ISO), [the kinds three
    times, the closing time], the aggregate, the kinds, the state, [content type, id],
    [the met subject's content type and id, the met kinds, the live states]."""
    whens = []
    for k in range(RESUME_HORIZON + 1):
        day = on + dt.timedelta(days=k)
        landing = next_working_day(day)
        if landing != day:
            whens.append(f"WHEN {k} THEN {k + (landing - day).days}")
    days = "COALESCE(days_left_when_suspended, 0)"
    offset = f"(CASE {days} {' '.join(whens)} ELSE {days} END)"
    if vendor == "postgresql":
        due = f"CAST(%s AS date) + {offset}"
    elif vendor == "sqlite":
        due = f"date(%s, '+' || {offset} || ' days')"
    else:
        raise NotSupportedError(f"deadlines_resume: no SQL for {vendor}.")
    restarted = f"kind IN ({', '.join(['%s'] * kinds)})"
    where = _clock_where(kinds, per_subject)
    if not met:
        sets = [f"due_on = CASE WHEN {restarted} THEN {due} END", "state = 'open'"]
        sets.append("days_left_when_suspended = NULL")
    else:
        sets = [
            f"due_on = CASE WHEN {restarted} THEN {due} ELSE due_on END",
            f"state = CASE WHEN {restarted} THEN 'open' ELSE 'met' END",
            f"days_left_when_suspended = CASE WHEN {restarted} THEN NULL "
            "ELSE days_left_when_suspended END",
            f"closed_at = CASE WHEN {restarted} THEN closed_at ELSE %s END",
        ]
        where = (
            f"({where}) OR (subject_type_id = %s AND subject_id = %s "
            f"AND kind IN ({', '.join(['%s'] * met)}) AND state IN (%s, %s))"
        )
    return (
        f"UPDATE {Deadline._meta.db_table} SET {', '.join(sets)} "
        f"WHERE {where} RETURNING id, kind, due_on"
    )


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
