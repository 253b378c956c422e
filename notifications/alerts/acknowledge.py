"""An alert seen: it stays live, and opens again if it gets worse."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cases.models import User
from cases.permissions import roles_for
from engine.errors import DomainError
from engine.outbox import event_emit

from ..alert_selectors import alert_list
from ..models import Alert

ACKNOWLEDGING_ROLES = roles_for("alert_acknowledge")


def alert_acknowledge(*, actor, alert: Alert) -> Alert:
    """The actor has seen the alert: it stays live (and reopens if it gets worse)."""
    role = actor.effective_role
    if not alert_list(user=actor).filter(pk=alert.pk).exists():
        raise DomainError("Alerte introuvable.", code="not_found")
    allowed = role in ACKNOWLEDGING_ROLES or (
        role == User.Role.PORTEUR
        and actor.organisation_id is not None
        and actor.organisation_id == alert.organisation_id
    )
    if not allowed:
        raise DomainError(
            "Votre rôle ne permet pas de prendre en compte cette alerte.", code="forbidden"
        )
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.state == Alert.State.RESOLVED:
            raise DomainError("Cette alerte est déjà résolue.", code="unavailable")
        if locked.state == Alert.State.OPEN:
            now = timezone.now()
            locked.state = Alert.State.ACKNOWLEDGED
            locked.acknowledged_by = actor
            locked.acknowledged_at = now
            locked.updated_at = now
            locked.save(update_fields=["state", "acknowledged_by", "acknowledged_at", "updated_at"])
            event_emit(
                topic="alert.acknowledged",
                subject=locked,
                aggregate_id=locked.case_id,
                actor_id=actor.pk,
                payload={"kind": locked.kind, "severity": locked.severity},
            )
    return locked
