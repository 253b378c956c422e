"""One exception handler: every error body has a French ``detail``; field errors in
``errors``. DomainError codes map to 400/403/404/409; a write that lost a race for the
database (``guichet.concurrency``) to 409."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler
from rest_framework.views import set_rollback

from engine.errors import DomainError
from guichet import concurrency

FRENCH = {
    exceptions.NotAuthenticated: "Authentification requise.",
    exceptions.AuthenticationFailed: "Identifiants ou jeton invalides.",
    exceptions.PermissionDenied: "Action non autorisée pour votre rôle.",
    exceptions.NotFound: "Introuvable.",
    exceptions.MethodNotAllowed: "Méthode non autorisée.",
    exceptions.UnsupportedMediaType: "Type de contenu non pris en charge.",
    exceptions.Throttled: "Trop de requêtes : réessayez plus tard.",
    exceptions.ParseError: "Requête illisible : JSON mal formé.",
    exceptions.NotAcceptable: "Format de réponse non disponible.",
}


def _flatten(detail):
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) if isinstance(v, dict | list) else str(v) for v in detail]
    return [str(detail)]


def _first_message(errors, path=()):
    """The first leaf message of nested field errors, with the path of its field."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            found = _first_message(value, (*path, str(key)))
            if found:
                return found
        return None
    if isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, dict | list):
                found = _first_message(value, (*path, str(index)))
                if found:
                    return found
            elif value:
                return path, str(value)
        return None
    return path, str(errors)


def exception_handler(exc, context):
    if concurrency.is_write_conflict(exc):
        # A lost race for the database (SQLite busy, PostgreSQL deadlock): nothing was
        # written, the same request may be sent again.
        set_rollback()
        return Response(
            {"detail": concurrency.MESSAGE, "code": concurrency.CODE},
            status=status.HTTP_409_CONFLICT,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.errors:
            body["errors"] = exc.errors
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, DataError):
        # Last line of defence: a value the database refuses is bad input, not a crash.
        return Response(
            {"detail": "Saisie invalide : une valeur est hors des limites acceptées."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors}
        found = _first_message(errors) or ((), "données invalides")
        path = [p for p in found[0] if p != "non_field_errors"]
        field = f"{'.'.join(path)} : " if path else ""
        msg = found[1]
        response.data = {"detail": f"Saisie invalide — {field}{msg}", "errors": errors}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    message = FRENCH.get(type(exc))
    if isinstance(exc, exceptions.ParseError) and str(exc.detail).startswith("Requête illisible"):
        message = str(exc.detail)
    if message is None:
        message = str(getattr(exc, "detail", "Erreur."))
    response.data = {"detail": message}
    return response
