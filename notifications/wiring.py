"""Connects notifications to the engine: periodic jobs, and a kick of the outbox relay
after each committed transition (best effort: the beat pass catches up anyway)."""

from __future__ import annotations

from django.db import transaction

from engine.periodic import register_job
from engine.transitions import register_hook

from .dispatch import eager, enqueue

REMINDER_CHUNK = 500


def _kick_relay() -> None:
    from .tasks import relay_outbox

    enqueue(relay_outbox)


def after_transition(ctx) -> None:
    """One kick per committed transaction, however many transitions it holds."""
    connection = transaction.get_connection()
    if any(entry[1] is _kick_relay for entry in getattr(connection, "run_on_commit", [])):
        return
    transaction.on_commit(_kick_relay, robust=True)


def works_alerts_hook(ctx) -> None:
    """A funder's decision on a missed works deadline resolves its alert at once."""
    from .alerts.works_deadline_missed import works_alerts_after

    works_alerts_after(ctx)


def outbox_job(*, today=None, inline=False) -> int:
    from .relay import outbox_relay
    from .tasks import relay_outbox

    if inline or eager():
        return outbox_relay()
    return int(enqueue(relay_outbox))


def reminders_job(*, today=None, inline=False) -> int:
    from .reminders import reminders_plan, reminders_send
    from .tasks import send_reminders

    ids = reminders_plan(today=today)
    if inline or eager():
        return reminders_send(ids, today=today)
    for start in range(0, len(ids), REMINDER_CHUNK):
        enqueue(send_reminders, ids[start : start + REMINDER_CHUNK])
    return len(ids)


def alerts_job(*, today=None, inline=False) -> int:
    from .alerts import alerts_evaluate

    return alerts_evaluate(today=today)


register_hook(after_transition)
register_hook(works_alerts_hook)
register_job("outbox", outbox_job)
register_job("reminders", reminders_job)
register_job("alerts", alerts_job)
