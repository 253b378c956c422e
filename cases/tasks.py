"""Celery tasks of the dossiers: Démarches Simplifiées imports and push-backs (issue 15
point 2). Each is idempotent: a task run twice, or lost and caught up by the beat pass,
does each thing once."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
LOCK_SECONDS = 3600


def _eager() -> bool:
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


def ds_push_enqueue(push_id: int) -> None:
    """Hand a push to a worker after its commit; if the broker is down, the push stays
    pending in the database and the periodic pass (``ds_sync``) sends it."""
    if _eager():
        ds_push.apply(args=(push_id,))
        return
    try:
        ds_push.apply_async(args=(push_id,), retry=False)
    except Exception as exc:  # broker down: nothing lost
        log.warning("could not enqueue DS push %s: %s", push_id, exc)


@shared_task(name="cases.ds_push", acks_late=True, bind=True, max_retries=5)
def ds_push(self, push_id: int) -> str:
    from .ds.pushback import push_send
    from .models import DsPush

    push = push_send(push_id=push_id)
    if push.status == DsPush.Status.PENDING and not _eager():
        raise self.retry(countdown=60 * 2**self.request.retries)
    return push.status


def demarche_import_locked(demarche):
    """One run of a démarche's import at a time (a second one returns None at once)."""
    from .ds.importer import demarche_import

    key = f"ds-import-{demarche.pk}"
    if not cache.add(key, 1, LOCK_SECONDS):
        return None
    try:
        return demarche_import(demarche=demarche)
    finally:
        cache.delete(key)


@shared_task(name="cases.ds_sync", acks_late=True)
def ds_sync() -> int:
    """The periodic pass: import every active démarche not imported for
    ``GUICHET_DS_SYNC_MINUTES`` (or whose pass is under way), then send pending pushes."""
    from django.db.models import Q
    from django.utils import timezone

    from .ds.client import setting
    from .ds.pushback import pushes_retry
    from .models import DsDemarche

    since = timezone.now() - dt.timedelta(minutes=int(setting("GUICHET_DS_SYNC_MINUTES")))
    due = DsDemarche.objects.filter(active=True).filter(
        Q(last_run_at=None) | Q(last_run_at__lt=since) | ~Q(cursor="")
    )
    done = 0
    for demarche in due.select_related("agent", "scheme"):
        report = demarche_import_locked(demarche)
        done += 1 if report is not None else 0
    pushes_retry()
    return done
