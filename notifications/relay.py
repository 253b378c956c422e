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
    processed = 0
    while True:
        with transaction.atomic():
            events = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(processed_at=None)
                .order_by("id")[:batch]
            )
            if not events:
                return processed
            for event in events:
                event.attempts += 1
                try:
                    with transaction.atomic():
                        handle_event(event)
                    event.processed_at = timezone.now()
                except Exception as exc:
                    log.exception("outbox event %s failed", event.pk)
                    if event.attempts >= MAX_ATTEMPTS:
                        event.processed_at = timezone.now()
                        event.payload = {**event.payload, "error": str(exc)[:500]}
            OutboxEvent.objects.bulk_update(events, ["attempts", "processed_at", "payload"])
            processed += len(events)
            if len(events) < batch:
                return processed


def outbox_pending_count() -> int:
    return OutboxEvent.objects.filter(processed_at=None).count()
