"""Registry of periodic jobs: the sweep command and Celery beat run the same ones.

Layers above register their jobs (reminders, alerts) here, so the engine stays ignorant
of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from .sweep import sweep_expired

_jobs: dict[str, Callable[..., int]] = {"expired_deadlines": sweep_expired}


def register_job(name: str, job: Callable[..., int]) -> None:
    _jobs[name] = job


def run_all(*, today: dt.date | None = None) -> dict[str, int]:
    return {name: job(today=today) for name, job in _jobs.items()}
