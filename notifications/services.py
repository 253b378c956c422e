"""Writes on a user's in-app notifications: read marks."""

from __future__ import annotations

from django.utils import timezone

from .models import Notification


def notification_mark_read(*, user, pk) -> Notification | None:
    """Mark one of the user's notifications read (once); None if it is not theirs."""
    try:
        notification = Notification.objects.filter(user=user, pk=int(pk)).first()
    except (TypeError, ValueError, OverflowError):
        return None
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at=None).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, user) -> int:
    """Mark all the user's unread notifications read; how many were."""
    return Notification.objects.filter(user=user, read_at=None).update(read_at=timezone.now())
