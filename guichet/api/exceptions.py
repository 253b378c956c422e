"""One exception handler: every error body has a French ``detail``; field errors in
``errors``. DomainError codes map to 400/403/404/409."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from engine.errors import DomainError

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


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.errors:
            body["errors"] = exc.errors
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
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
        first = next(iter(errors.items()), ("", [""]))
        msg = first[1][0] if isinstance(first[1], list) and first[1] else str(first[1])
        if isinstance(msg, dict):
            msg = "données invalides"
        field = "" if first[0] == "non_field_errors" else f"{first[0]} : "
        response.data = {"detail": f"Saisie invalide — {field}{msg}", "errors": errors}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    message = FRENCH.get(type(exc))
    if message is None:
        message = str(getattr(exc, "detail", "Erreur."))
    response.data = {"detail": message}
    return response
