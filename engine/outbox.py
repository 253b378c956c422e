"""The outbox: domain events written in the transaction of the change they report."""

from __future__ import annotations

import datetime as dt
import decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models, router

from .models import OutboxEvent
from .prepared import insert_one


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def event_emit(
    *,
    topic: str,
    subject: models.Model,
    aggregate_id: int | None,
    actor_id: int | None = None,
    payload: dict | None = None,
) -> OutboxEvent:
    return OutboxEvent.objects.create(
        **event_fields(
            topic=topic,
            subject=subject,
            aggregate_id=aggregate_id,
            actor_id=actor_id,
            payload=payload,
        )
    )


def event_fields(
    *,
    topic: str,
    subject: models.Model,
    aggregate_id: int | None,
    actor_id: int | None = None,
    payload: dict | None = None,
) -> dict:
    """The columns of one event (``event_emit`` writes one, ``events_emit`` many)."""
    return {
        "topic": topic,
        "subject_type": ContentType.objects.get_for_model(subject, for_concrete_model=False),
        "subject_id": subject.pk,
        "aggregate_id": aggregate_id,
        "actor_id": actor_id,
        "payload": _json_safe(payload or {}),
    }


def events_emit(events: list[dict]) -> list[OutboxEvent]:
    """Write many events (each the keyword arguments of ``event_emit``), in this order: one
    ``INSERT`` (for one event, its SQL built once: ``engine.prepared``)."""
    rows = [OutboxEvent(**event_fields(**e)) for e in events]
    if len(rows) == 1:
        insert_one(rows[0], router.db_for_write(OutboxEvent))
        return rows
    return OutboxEvent.objects.bulk_create(rows)
