"""Account security and personal data: token revocation, RGPD export, the access log.

- ``POST /api/v1/auth/token/revoke/`` revokes the caller's token (204); an administrator may
  name another account (``{"user": id}``). A revoked token is then refused (401).
- ``GET /api/v1/me/export/`` the caller's own data as a JSON file (RGPD art. 15 and 20).
- ``GET /api/v1/audit/?case=&user=&action=`` the access log (administrator, direction).
"""

from __future__ import annotations

import re

from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework.authtoken.models import Token
from rest_framework.response import Response

from cases import selectors
from cases.gdpr import personal_data_export
from cases.models import User
from cases.permissions import roles_for
from engine.errors import DomainError
from engine.models import AccessLog
from notifications.models import Notification

from .serializers.fields import ErrorSerializer, Id
from .views import ApiView, paginated, responses

R = User.Role
AUDIT_READERS = roles_for("audit_read")


# ---------------------------------------------------------------- services


def token_revoke(*, actor, user_id=None) -> User:
    """Delete the API token of ``actor``, or of another account when an admin asks."""
    if user_id is None or user_id == actor.pk:
        Token.objects.filter(user_id=actor.pk).delete()
        return actor
    if actor.effective_role != R.ADMIN:
        raise DomainError(
            "Seul un administrateur révoque le jeton d'un autre compte.", code="forbidden"
        )
    target = selectors.account_list(user=actor).filter(pk=user_id).first()
    if target is None:
        raise DomainError("Compte introuvable.", code="not_found")
    Token.objects.filter(user_id=target.pk).delete()
    return target


def notifications_export(*, user) -> list[dict]:
    return [
        {
            "id": n.pk,
            "kind": n.kind,
            "message": n.message,
            "created_at": n.created_at.isoformat(),
            "read_at": n.read_at.isoformat() if n.read_at else None,
        }
        for n in Notification.objects.filter(user=user).order_by("created_at", "id")
    ]


# ---------------------------------------------------------------- views


class TokenRevokeInputSerializer(s.Serializer):
    user = Id(required=False, help_text="Autre compte (administrateur seulement)")


class TokenRevokeView(ApiView):
    @extend_schema(
        request=TokenRevokeInputSerializer,
        responses=responses({204: None}),
        summary="Révoquer un jeton d'authentification (le sien, ou un autre pour l'admin)",
    )
    def post(self, request):
        data = self.valid(TokenRevokeInputSerializer)
        token_revoke(actor=request.user, user_id=data.get("user"))
        return Response(status=204)


class MeExportView(ApiView):
    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, 401: ErrorSerializer},
        summary="Exporter mes données (RGPD : droit d'accès et portabilité)",
    )
    def get(self, request):
        data = personal_data_export(user=request.user)
        data["notifications"] = notifications_export(user=request.user)
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", request.user.username).strip("-") or "compte"
        filename = f"guichet-mes-donnees-{slug}-{timezone.localdate():%Y-%m-%d}.json"
        response = JsonResponse(
            data, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False, "indent": 2}
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class AccessLogSerializer(s.ModelSerializer):
    subject = s.CharField(source="subject_type.model")
    case = s.IntegerField(source="aggregate_id")

    class Meta:
        model = AccessLog
        fields = ["id", "at", "username", "role", "action", "subject", "subject_id", "case", "ip"]


class AuditListView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter("case", int, description="Identifiant du dossier"),
            OpenApiParameter("user", int, description="Identifiant du compte"),
            OpenApiParameter("action", str, enum=AccessLog.Action.values),
        ],
        responses=responses({200: paginated(AccessLogSerializer, "PaginatedAccessLog")}),
        summary="Journal des accès aux dossiers (administration, direction)",
    )
    def get(self, request):
        if request.user.effective_role not in AUDIT_READERS:
            raise DomainError(
                "Le journal des accès est réservé à l'administration et à la direction.",
                code="forbidden",
            )
        qs = selectors.access_log_list(user=request.user).order_by("-at", "-id")
        for name, field in (("case", "aggregate_id"), ("user", "user_id")):
            value = self.id_param(name)
            if value:
                qs = qs.filter(**{field: value})
        action = self.param("action", 10)
        if action:
            if action not in AccessLog.Action.values:
                raise DomainError(
                    f"Action inconnue : « {action} ».", errors={"action": ["Inconnue."]}
                )
            qs = qs.filter(action=action)
        return self.paginate(qs, AccessLogSerializer)
