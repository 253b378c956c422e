"""``GET /api/v1/``: the index of the API — its name, its version, where its schema and
documentation are, and the main collections. Public (a program discovers the API before
it has a token) and without any data: only addresses."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers as s
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .views import ApiView

NAME = "API du Guichet unique des aides publiques"
VERSION = "v1"

#: (key, route name, what it is): the collections a client starts from.
COLLECTIONS = [
    ("auth_token", "api-token", "Obtenir un jeton (POST username, password)."),
    ("me", "api-me", "L'utilisateur connecté et son rôle."),
    ("schemes", "api-schemes", "Les dispositifs d'aide et leurs pièces requises."),
    ("communes", "api-communes", "Les communes du territoire (filtre epci)."),
    ("envelopes", "api-envelopes", "Les enveloppes par dispositif et année, et leur consommation."),
    ("calls", "api-calls", "Les appels à projets publiés (filtre state=open|coming)."),
    ("organisations", "api-organisations", "Les organisations porteuses de projets."),
    ("cases", "api-cases", "Les dossiers visibles par l'utilisateur."),
    ("committee_sessions", "api-committee-sessions", "Les séances du comité LEADER."),
    ("deadlines", "api-deadlines", "Les échéances : qui agit, avant quand."),
    ("notifications", "notification-list", "Les notifications de l'utilisateur."),
]

_Link = inline_serializer("ApiIndexLink", {"href": s.CharField(), "description": s.CharField()})


class ApiIndexView(ApiView):
    """The entry point of the API (no authentication needed, no data given)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Index de l'API",
        description="Le nom et la version de l'API, les adresses de son schéma, de sa "
        "documentation et de ses principales collections. Public, sans aucune donnée.",
        auth=[],
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "ApiIndex",
                    {
                        "name": s.CharField(),
                        "version": s.CharField(),
                        "schema": s.CharField(),
                        "documentation": s.CharField(),
                        "collections": s.DictField(child=_Link),
                    },
                )
            )
        },
    )
    def get(self, request):
        return Response(
            {
                "name": NAME,
                "version": VERSION,
                "schema": request.build_absolute_uri(reverse("schema")),
                "documentation": request.build_absolute_uri(reverse("api-docs")),
                "collections": {
                    key: {"href": request.build_absolute_uri(reverse(route)), "description": text}
                    for key, route, text in COLLECTIONS
                },
            }
        )
