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

from django.db.models import Max

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
    outbox event's ``created_at``. One more statement reads the previous rows, if any row
    is dated."""
    from django_fsm_log.models import StateLog

    dated = [row for row in rows if event_times.get(row.object_id) is not None]
    if dated:
        newest = (
            StateLog.objects.filter(
                content_type_id__in={row.content_type_id for row in dated},
                object_id__in=[row.object_id for row in dated],
            )
            .values("content_type_id", "object_id")
            .annotate(last=Max("id"))
            .values("last")
        )
        previous = {
            (ct, pk): at
            for ct, pk, at in StateLog.objects.filter(id__in=newest).values_list(
                "content_type_id", "object_id", "timestamp"
            )
        }
        for row in dated:
            at = event_times[row.object_id]
            before = previous.get((row.content_type_id, row.object_id))
            row.timestamp = max(at, before) if before is not None else at
    if rows:
        StateLog.objects.bulk_create(rows)
