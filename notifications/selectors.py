"""Reads of a user's in-app notifications (the API and the « Mes notifications » page)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Notification

UNREAD_CAP = 99  # the badge says « 99+ » beyond


def notification_list(*, user, unread: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    qs = Notification.objects.filter(user=user).order_by("-created_at", "-id")
    return qs.filter(read_at=None) if unread else qs


def unread_count(*, user, cap: int | None = None) -> int:
    """How many are unread; with ``cap``, counted up to ``cap + 1`` only (one query on
    the ``(user, read_at)`` index, however many there are)."""
    qs = Notification.objects.filter(user=user, read_at=None)
    if cap is None:
        return qs.count()
    return qs.values("pk")[: cap + 1].count()
