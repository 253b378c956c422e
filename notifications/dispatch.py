"""Hand work to Celery workers; if the broker can't be reached, the work waits in the
database (outbox, pending reminders) and the next periodic pass catches up."""

from __future__ import annotations

import logging

from django.conf import settings

log = logging.getLogger(__name__)


def eager() -> bool:
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


def enqueue(task, *args) -> bool:
    if eager():
        task.apply(args=args)
        return True
    try:
        task.apply_async(args=args, retry=False)
        return True
    except Exception as exc:  # broker down: nothing is lost, the beat pass retries
        log.warning("could not enqueue %s: %s", task.name, exc)
        return False
