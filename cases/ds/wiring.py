"""Connects Démarches Simplifiées to the engine: the push-back hook (every transition) and
the periodic job (the sweep and Celery beat run it: imports, pending pushes)."""

from __future__ import annotations

from engine.periodic import register_job
from engine.transitions import register_hook

from .pushback import ds_transition_hook, ds_transitions_hook


def ds_job(*, today=None, inline=False) -> int:
    """Nothing to do (no démarche, no pending push): two small queries. Else the work goes
    to a worker (``cases.ds_sync``), or runs here when asked inline or without a broker."""
    from ..models import DsDemarche, DsPush
    from ..tasks import _eager, ds_sync

    if not (
        DsDemarche.objects.filter(active=True).exists()
        or DsPush.objects.filter(status=DsPush.Status.PENDING).exists()
    ):
        return 0
    if inline or _eager():
        return ds_sync()
    try:
        ds_sync.apply_async(retry=False)
    except Exception:  # broker down: the next pass tries again
        return 0
    return 1


register_hook(ds_transition_hook, batch=ds_transitions_hook)
register_job("ds_sync", ds_job)
