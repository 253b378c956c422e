"""``GET /api/v1/company-lookup/?siret=`` — fill an organisation from the public company
register before ``POST /organisations/`` (issue 15 point 5). For the roles that create
organisations; a wrong number is a 400, the register's silence a 200 whose ``status`` is
``unavailable`` with the French message that asks for the organisation by hand."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework.response import Response

from cases import selectors
from cases.company_register import company_lookup
from cases.models import Organisation
from cases.permissions import require
from engine.errors import DomainError

from .views import ApiView, responses


class CompanySerializer(s.Serializer):
    siren = s.CharField()
    siret = s.CharField()
    name = s.CharField()
    kind = s.CharField(help_text="Type d'organisation déduit de la catégorie juridique")
    legal_category = s.CharField()
    activity = s.CharField()
    address = s.CharField()
    postcode = s.CharField()
    commune_name = s.CharField()
    commune_insee = s.CharField()
    commune_on_territory = s.BooleanField()
    active = s.BooleanField()
    already_registered = s.BooleanField(help_text="Une organisation du guichet porte ce SIREN")


class LookupSerializer(s.Serializer):
    status = s.ChoiceField(choices=["found", "not_found", "unavailable"])
    message = s.CharField()
    company = CompanySerializer(allow_null=True)


class CompanyLookupView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter("siret", str, description="SIREN (9 chiffres) ou SIRET (14)"),
        ],
        responses=responses({200: LookupSerializer}),
    )
    def get(self, request):
        require(request.user, "organisation_create")
        number = self.param("siret", 30) or self.param("siren", 30)
        if not number:
            raise DomainError(
                "Indiquez un SIREN ou un SIRET (paramètre « siret »).",
                errors={"siret": ["Obligatoire."]},
            )
        data = company_lookup(number).as_dict()
        company = data["company"]
        if company:
            company["commune_on_territory"] = bool(company["commune_insee"]) and (
                selectors.commune_list(user=request.user)
                .filter(insee=company["commune_insee"])
                .exists()
            )
            # the same rule as ``organisation_create``: one organisation per SIREN
            company["already_registered"] = Organisation.objects.filter(
                siren=company["siren"]
            ).exists()
        return Response(LookupSerializer(data).data)
