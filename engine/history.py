"""The history of transitions (django-fsm-log's ``StateLog``), written in batches.

django-fsm-log writes one ``StateLog`` row per transition from its ``post_transition``
receiver. The engine replaces that receiver by one that builds the very same row (with
django-fsm-log's own function: source, target, name, ``by``, ``description``) and, while
the engine applies transitions (``history_buffer``), keeps it in memory: the engine then
dates the rows of a whole batch and inserts them in one statement (``history_write``).
Outside the engine's batches (a transition method called directly), the row is written at
once, as django-fsm-log does.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, models, router
from django.db.models.functions import Coalesce, Greatest

from .prepared import insert_one

_buffer: ContextVar[list | None] = ContextVar("engine_history_buffer", default=None)


class _Buffered:
    """Stands for ``StateLog.objects`` in django-fsm-log's callback: ``create`` keeps the
    row in the current buffer instead of inserting it."""

    def __init__(self, rows: list):
        self.rows = rows

    def create(self, **values):
        from django_fsm_log.models import StateLog

        row = StateLog(**values)
        self.rows.append(row)
        return row


def history_receiver(sender, instance, name, source, target, **kwargs):
    from django_fsm_log.backends import _pre_transition_callback
    from django_fsm_log.models import StateLog

    rows = _buffer.get()
    manager = StateLog.objects if rows is None else _Buffered(rows)
    return _pre_transition_callback(sender, instance, name, source, target, manager, **kwargs)


def history_connect() -> None:
    """Put ``history_receiver`` in place of django-fsm-log's (its simple backend only)."""
    from django.conf import settings
    from django_fsm.signals import post_transition
    from django_fsm_log.backends import SimpleBackend

    method = getattr(
        settings, "DJANGO_FSM_LOG_STORAGE_METHOD", "django_fsm_log.backends.SimpleBackend"
    )
    if method != "django_fsm_log.backends.SimpleBackend":
        return
    post_transition.disconnect(SimpleBackend.post_transition_callback)
    post_transition.connect(history_receiver, dispatch_uid="engine.history")


@contextmanager
def history_buffer():
    """The ``StateLog`` rows of the transitions applied inside, kept (a list), not written."""
    rows: list = []
    token = _buffer.set(rows)
    try:
        yield rows
    finally:
        _buffer.reset(token)


def history_write(rows: list, event_times: dict[int, dt.datetime | None]) -> None:
    """Insert ``rows`` (one statement), each dated by the event it records.

    Events are often recorded after the fact: a row whose object has an event time in
    ``event_times`` (by object id) takes that time, never earlier than the object's
    previous row (the history stays in order); the moment it was recorded stays in the
    outbox event's ``created_at``. The previous row is read by the ``INSERT`` itself (a
    sub-query per dated row: no statement of its own); such a row's ``timestamp`` is
    then the expression, its value is the database's. One row: ``_write_one``."""
    from django_fsm_log.models import StateLog

    if len(rows) == 1:
        _write_one(rows[0], event_times.get(rows[0].object_id))
        return
    for row in rows:
        at = event_times.get(row.object_id)
        if at is None:
            continue
        previous = models.Subquery(
            StateLog.objects.filter(content_type_id=row.content_type_id, object_id=row.object_id)
            .order_by("-id")
            .values("timestamp")[:1],
            output_field=models.DateTimeField(),
        )
        when = models.Value(at, output_field=models.DateTimeField())
        row.timestamp = Greatest(when, Coalesce(previous, when))
    if rows:
        StateLog.objects.bulk_create(rows)


def _write_one(row, at: dt.datetime | None) -> None:
    """One row (a single transition), as ``history_write`` dates it, by an ``INSERT`` whose
    SQL is built once (``engine.prepared``): the same statement, without compiling it."""
    from django_fsm_log.models import StateLog

    using = router.db_for_write(StateLog)
    if at is None:
        insert_one(row, using)
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    previous = (
        f"SELECT U0.{quote('timestamp')} FROM {quote(StateLog._meta.db_table)} U0 "
        f"WHERE U0.{quote('content_type_id')} = %s AND U0.{quote('object_id')} = %s "
        f"ORDER BY U0.{quote('id')} DESC LIMIT 1"
    )
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"  # as ``Greatest``
    when = StateLog._meta.get_field("timestamp").get_db_prep_save(at, connection)
    sql = f"{greatest}(%s, COALESCE(({previous}), %s))"
    insert_one(row, using, {"timestamp": (sql, [when, row.content_type_id, row.object_id, when])})
