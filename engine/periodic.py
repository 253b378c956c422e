"""Registry of periodic jobs: the sweep command and Celery beat run the same ones.

Layers above register their jobs (outbox relay, reminders, alerts) here, so the engine
stays ignorant of them. A job is called as ``job(today=…, inline=…)``: ``inline`` asks it
to do all its work now, in this process (the ``sweep`` command, the demo scheduler),
rather than enqueue it for Celery workers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from .sweep import sweep_expired

log = logging.getLogger(__name__)

_jobs: dict[str, Callable[..., int]] = {
    "expired_deadlines": lambda *, today=None, inline=False: sweep_expired(today=today),
}


def register_job(name: str, job: Callable[..., int]) -> None:
    _jobs[name] = job


def run_all(*, today: dt.date | None = None, inline: bool = False) -> dict[str, int]:
    """Run every job once, in registration order; one failing job doesn't stop the others."""
    report = {}
    for name, job in _jobs.items():
        try:
            report[name] = job(today=today, inline=inline)
        except Exception:
            log.exception("periodic job %s failed", name)
            report[name] = -1
    return report
