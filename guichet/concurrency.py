"""A write that lost a race for the database answers 409 (« réessayez »), never 500.

SQLite (the demo) serialises writers: a transaction that waited longer than the busy
timeout fails with « database is locked ». PostgreSQL aborts one side of a deadlock
(SQLSTATE 40P01) or of a serialization conflict (40001). Either way nothing was written
and the same request, sent again, will most likely pass. The API's exception handler
(``guichet.api.exceptions``) and ``WriteConflictMiddleware`` (web pages, and anything
raised outside a DRF view) both ask ``is_write_conflict``.
"""

from __future__ import annotations

import logging

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

MESSAGE = "Le dossier est en cours de modification ailleurs : réessayez dans un instant."
CODE = "write_conflict"
# PostgreSQL: deadlock_detected, serialization_failure, lock_not_available (NOWAIT)
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, exc.__cause__):
        if candidate is None:
            continue
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return None


def is_write_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a lost race for a lock (retryable), not a broken database."""
    if not isinstance(exc, OperationalError):
        return False
    if _sqlstate(exc) in RETRYABLE_SQLSTATES:
        return True
    text = str(exc).lower()
    return any(marker in text for marker in SQLITE_BUSY)


def conflict_response(request) -> HttpResponse:
    """409 with the French message: JSON under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE, "code": CODE}, status=409)
        response["Retry-After"] = "1"
        return response
    try:
        body = render_to_string("409.html", {"message": MESSAGE}, request=request)
    except Exception:  # the page must not fail in turn (e.g. the database still busy)
        logger.exception("409 page could not be rendered")
        body = f"<!DOCTYPE html><html lang=fr><title>Réessayez</title><p>{MESSAGE}</p></html>"
    response = HttpResponse(body, status=409)
    response["Retry-After"] = "1"
    return response


class WriteConflictMiddleware:
    """``process_exception``: a write conflict raised by a view (or by the commit of its
    transaction) becomes a 409 answer instead of a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_write_conflict(exception):
            return None
        logger.warning("write conflict on %s %s: %s", request.method, request.path, exception)
        return conflict_response(request)


def server_error(request, *args, **kwargs):
    """``handler500``. Django turns an exception raised by a middleware's response step
    (the session saved after a login, say) into a server error before any middleware's
    ``process_exception`` sees it; this handler still runs inside that ``except`` block,
    so a write conflict there is answered 409 like everywhere else."""
    import sys

    from django.views.defaults import server_error as default_server_error

    exc = sys.exc_info()[1]
    if exc is not None and is_write_conflict(exc):
        logger.warning("write conflict on %s %s: %s", request.method, request.path, exc)
        return conflict_response(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Erreur interne : l'équipe est prévenue."}, status=500)
    return default_server_error(request, *args, **kwargs)
