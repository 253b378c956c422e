"""The outbox relay: delivers the engine's domain events to their handlers, once.

An event is claimed with a PostgreSQL advisory lock (session level: it survives the
commits made while the event is handled and vanishes with the connection when a worker
dies), handled, then marked processed. Handlers commit **each recipient on its own**: the
in-app notification (unique key) and its e-mail in one transaction, so a worker killed in
the middle of an event with several recipients repeats nothing that was delivered before
the kill; only the recipient whose e-mail was on the wire when the process died may get
it again (no transaction spans an SMTP server). A failing event is retried a few times,
then parked with its error so that it never blocks the others.

On SQLite (the demo, one in-process scheduler) there is no concurrent relay and no lock.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.utils import timezone

from engine.models import OutboxEvent

from .handlers import handle_event

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
CANDIDATES = 50
# Advisory lock keys of the relay: this namespace in the high bits, the event id below.
LOCK_NAMESPACE = 0x4F42 << 48  # "OB"


def _locking() -> bool:
    return connection.vendor == "postgresql"


def _try_claim(event_id: int) -> bool:
    if not _locking():
        return True
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_NAMESPACE | event_id])
        return bool(cur.fetchone()[0])


def _release(event_id: int) -> None:
    if not _locking():
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_unlock(%s)", [LOCK_NAMESPACE | event_id])


def _claimed_events():
    """Pending events in id order, each claimed before it is yielded and released once the
    caller is done with it; those another relay holds are skipped. One pass over the
    backlog: an event that fails is retried on a later call."""
    pending = OutboxEvent.objects.filter(processed_at=None).order_by("id")
    after = 0
    while ids := list(pending.filter(pk__gt=after).values_list("pk", flat=True)[:CANDIDATES]):
        for event_id in ids:
            after = event_id
            if not _try_claim(event_id):
                continue  # another relay has it
            try:
                # Read after the claim: a relay that finished it just before is seen here.
                event = pending.filter(pk=event_id).first()
                if event is not None:
                    yield event
            finally:
                _release(event_id)


def _deliver(event: OutboxEvent) -> None:
    """Handle one claimed event: processed when delivered, or parked after its last try."""
    attempts = event.attempts + 1
    done_at, payload = None, event.payload
    try:
        handle_event(event)
        done_at = timezone.now()
    except Exception as exc:
        log.exception("outbox event %s failed", event.pk)
        if attempts >= MAX_ATTEMPTS:
            done_at = timezone.now()
            payload = {**event.payload, "error": str(exc)[:500]}
    OutboxEvent.objects.filter(pk=event.pk).update(
        attempts=attempts, processed_at=done_at, payload=payload
    )


def outbox_relay(*, batch: int = 200, today=None) -> int:
    """Deliver pending events, oldest first. A failed event is retried on a later call, not
    in a tight loop; a huge backlog continues on the next call."""
    processed = 0
    for event in _claimed_events():
        _deliver(event)
        processed += 1
        if processed >= batch * 50:
            break  # a huge backlog continues on the next call
    return processed
