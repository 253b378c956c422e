"""Authentication and accounts: a token, the caller's account, creating an account."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from cases import services
from cases.models import User
from engine.errors import DomainError

from .serializers import users as ser
from .views import ApiView, responses

R = User.Role


class TokenView(ApiView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=ser.TokenInputSerializer,
        responses=responses({200: ser.TokenSerializer}),
        auth=[],
        summary="Obtenir un jeton d'authentification",
    )
    def post(self, request):
        data = self.valid(ser.TokenInputSerializer)
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise DomainError(
                "Identifiant ou mot de passe incorrect.",
                errors={"non_field_errors": ["Identifiants invalides."]},
            )
        # As django.contrib.auth.login does: last_login, and django-axes resets the failures.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(ApiView):
    @extend_schema(responses=responses({200: ser.MeSerializer}), summary="Mon compte")
    def get(self, request):
        return Response(ser.MeSerializer(request.user).data)


class UserCreateView(ApiView):
    @extend_schema(
        request=ser.UserInputSerializer,
        responses=responses({201: ser.UserSerializer}),
        summary="Créer un compte (administrateur)",
    )
    def post(self, request):
        if request.user.effective_role != R.ADMIN:
            raise DomainError("Seul un administrateur crée des comptes.", code="forbidden")
        user = services.user_create(actor=request.user, data=self.valid(ser.UserInputSerializer))
        return Response(ser.UserSerializer(user).data, status=status.HTTP_201_CREATED)
