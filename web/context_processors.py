"""The territory a page speaks for, in every template: ``territory_name``.

Whose territory: the public page's own (``request.territory``, set by ``web.public``), a
staff user's ``territory``, a porteur's organisation's; a page without any (login, an
anonymous visitor elsewhere) shows the installation's first territory. An account that
works across territories (superuser, funder instructor) gets "" when the installation has
several, so that the layout shows a neutral label, and the sole territory's name otherwise.

Names come from ``Territory.names()`` (cached): no query per page. A porteur's organisation's
territory is read once and cached for a few minutes too (an organisation does not move).
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils.functional import cached_property

from cases.models import Organisation, User
from notifications.selectors import UNREAD_CAP, unread_count
from schemes.models import NAMES_CACHE_SECONDS, Territory

_CROSS = object()  # an account that sees every territory


def _organisation_territory_id(user) -> int | None:
    if User.organisation.is_cached(user) and user.organisation is not None:
        return user.organisation.territory_id
    key = f"guichet:organisation-territory:{user.organisation_id}"
    territory_id = cache.get(key)
    if territory_id is None:
        territory_id = (
            Organisation.objects.filter(pk=user.organisation_id)
            .values_list("territory_id", flat=True)
            .first()
        )
        if territory_id is not None:
            cache.set(key, territory_id, NAMES_CACHE_SECONDS)
    return territory_id


def request_territory_id(request):
    """The id of the request's territory, None for "the first one", or ``_CROSS``."""
    public = getattr(request, "territory", None)
    if public is not None:
        return public.pk
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if user.territory_id is not None:
        return user.territory_id
    if user.organisation_id is not None and user.role == User.Role.PORTEUR:
        return _organisation_territory_id(user)
    if user.is_superuser or user.role == User.Role.FUNDER_INSTRUCTOR:
        return _CROSS
    return None


def territory(request) -> dict:
    territory_id = request_territory_id(request)
    if territory_id is _CROSS:
        names = Territory.names()
        name = next(iter(names.values())) if len(names) == 1 else ""
    else:
        name = Territory.name_of(territory_id)
    return {"territory_name": name}


class NotificationBadge:
    """The unread count of the page header: counted once, when the layout reads it (one
    query, capped at ``UNREAD_CAP``; « 99+ » beyond)."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def count(self) -> int:
        return unread_count(user=self.user, cap=UNREAD_CAP)

    @property
    def shown(self) -> str:
        return f"{UNREAD_CAP}+" if self.count > UNREAD_CAP else str(self.count)

    @property
    def text(self) -> str:
        if self.count > UNREAD_CAP:
            return f"plus de {UNREAD_CAP} notifications non lues"
        if self.count == 1:
            return "1 notification non lue"
        return f"{self.count} notifications non lues" if self.count else "aucune non lue"


def notification_badge(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_badge": NotificationBadge(user)}
