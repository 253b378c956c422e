"""Reference data: schemes, communes, organisations."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from cases import selectors, services
from cases.permissions import require
from schemes.models import Commune, Scheme

from .serializers import reference as ser
from .views import ApiView, paginated, responses


class SchemeListView(ApiView):
    @extend_schema(responses=responses({200: ser.SchemeSerializer(many=True)}))
    def get(self, request):
        schemes = Scheme.objects.filter(active=True).select_related("funder")
        return Response(ser.SchemeSerializer(schemes, many=True).data)


class CommuneListView(ApiView):
    @extend_schema(
        parameters=[OpenApiParameter("epci", str, description="SIREN de l'EPCI")],
        responses=responses({200: ser.CommuneSerializer(many=True)}),
    )
    def get(self, request):
        communes = Commune.objects.select_related("epci")
        epci = self.param("epci", 9)
        if epci:
            communes = communes.filter(epci__siren=epci)
        return Response(ser.CommuneSerializer(communes, many=True).data)


class OrganisationListView(ApiView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Nom ou SIREN")],
        responses=responses({200: paginated(ser.OrganisationSerializer, "PaginatedOrganisations")}),
    )
    def get(self, request):
        qs = selectors.organisation_list(user=request.user)
        q = self.param("q")
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(siren=q))
        return self.paginate(qs, ser.OrganisationSerializer)

    @extend_schema(
        request=ser.OrganisationInputSerializer,
        responses=responses({201: ser.OrganisationSerializer}),
    )
    def post(self, request):
        require(request.user, "organisation_create")
        org = services.organisation_create(
            actor=request.user, data=self.valid(ser.OrganisationInputSerializer)
        )
        return Response(ser.OrganisationSerializer(org).data, status=status.HTTP_201_CREATED)
