"""Access log (GDPR accountability): who read or exported a dossier's data, when, from where.

    access_record(user=request.user, action="read", subject=case, aggregate_id=case.pk,
                  request=request)

One INSERT per call (``ON CONFLICT DO NOTHING``): a read is kept at most once per user,
dossier and hour, an export every time. The roles in ``GUICHET_AUDIT_EXEMPT_ROLES``
(default: porteurs, who only ever see their own organisation's dossiers) and anonymous
callers are not recorded. Writing the log never breaks the page: a failure is logged.

For a view whose URL names the object, the ``audited`` decorator records the access once
the view has answered with a success.
"""

from __future__ import annotations

import functools
import logging

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import AccessLog

log = logging.getLogger(__name__)
ACTIONS = set(AccessLog.Action.values)


def _exempt_roles() -> set[str]:
    return set(getattr(settings, "GUICHET_AUDIT_EXEMPT_ROLES", ("porteur",)))


def _role(user) -> str:
    return str(getattr(user, "effective_role", "") or getattr(user, "role", "") or "")


def client_ip(request) -> str | None:
    """The caller's address, through the same proxy settings as the login lockouts."""
    if request is None:
        return None
    resolver = getattr(settings, "AXES_CLIENT_IP_CALLABLE", None)
    if isinstance(resolver, str):
        return import_string(resolver)(request)
    return request.META.get("REMOTE_ADDR") or None


def access_record(
    *, user, action: str, subject, aggregate_id: int, request=None, ip: str | None = None
) -> bool:
    """Record one access; True if a row was written or absorbed, False if not recorded."""
    if action not in ACTIONS:
        raise ValueError(f"action inconnue : {action!r}")
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    role = _role(user)
    if role in _exempt_roles():
        return False
    now = timezone.now()
    entry = AccessLog(
        user_id=user.pk,
        username=user.get_username()[:150],
        role=role[:30],
        action=action,
        subject_type=ContentType.objects.get_for_model(type(subject)),
        subject_id=subject.pk,
        aggregate_id=int(aggregate_id),
        at=now,
        hour=now.replace(minute=0, second=0, microsecond=0),
        ip=ip or client_ip(request),
    )
    try:
        with transaction.atomic():
            AccessLog.objects.bulk_create([entry], ignore_conflicts=True)
    except (DatabaseError, ValueError):
        log.exception("journal des accès : écriture impossible (%s)", entry)
        return False
    return True


def audited(action: str, *, model: str, pk_kwarg: str = "pk", aggregate_field: str | None = None):
    """Decorator for a function view ``view(request, pk, ...)`` on ``model`` ("app.Model").

    After a 2xx answer, records ``action`` on that object; the dossier is the object itself,
    or the value of ``aggregate_field`` (e.g. ``"case_id"`` for a document)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if 200 <= getattr(response, "status_code", 500) < 300 and pk_kwarg in kwargs:
                model_class = apps.get_model(model)
                pk = kwargs[pk_kwarg]
                if aggregate_field:
                    aggregate = (
                        model_class.objects.filter(pk=pk)
                        .values_list(aggregate_field, flat=True)
                        .first()
                    )
                else:
                    aggregate = pk
                if aggregate is not None:
                    access_record(
                        user=request.user,
                        action=action,
                        subject=model_class(pk=pk),
                        aggregate_id=aggregate,
                        request=request,
                    )
            return response

        return wrapper

    return decorator
