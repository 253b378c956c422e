"""The outbox relay: delivers the engine's domain events to their handlers, once.

Events are claimed with SKIP LOCKED in id order and marked processed in the transaction of
their handling; handlers are idempotent (unique notification keys), so an event replayed
after a crash produces nothing twice. A failing event is retried a few times, then parked
with its error so that it never blocks the others.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from engine.models import OutboxEvent

from .handlers import handle_event

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def outbox_relay(*, batch: int = 200, today=None) -> int:
    """Deliver pending events, one transaction per event: a worker killed in the middle
    loses (and later repeats) only the event it was handling, never the ones it had
    already delivered — with a transaction per batch, a kill repeated every e-mail of the
    batch sent before it (tests/faults/test_celery_faults.py)."""
    processed = 0
    failed: list[int] = []  # retried on a later call, not in a tight loop
    while processed < batch * 50:  # bounded: a huge backlog continues on the next call
        with transaction.atomic():
            event = (
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(processed_at=None)
                .exclude(pk__in=failed)
                .order_by("id")
                .first()
            )
            if event is None:
                return processed
            event.attempts += 1
            try:
                with transaction.atomic():
                    handle_event(event)
                event.processed_at = timezone.now()
            except Exception as exc:
                log.exception("outbox event %s failed", event.pk)
                failed.append(event.pk)
                if event.attempts >= MAX_ATTEMPTS:
                    event.processed_at = timezone.now()
                    event.payload = {**event.payload, "error": str(exc)[:500]}
            event.save(update_fields=["attempts", "processed_at", "payload"])
            processed += 1
    return processed


def outbox_pending_count() -> int:
    return OutboxEvent.objects.filter(processed_at=None).count()
