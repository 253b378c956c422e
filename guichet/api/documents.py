"""A dossier's documents and the opinions given on it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from cases import selectors, services
from cases.models import Opinion
from cases.permissions import require
from engine.audit import access_record

from . import views
from .serializers import documents as ser
from .views import ApiView, responses


class CaseDocumentsView(ApiView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=responses({200: ser.DocumentSerializer(many=True)}))
    def get(self, request, pk: int):
        case = views.get_case(request.user, pk)
        docs = selectors.document_list(user=request.user, case=case).select_related("uploaded_by")
        access_record(
            user=request.user, action="read", subject=case, aggregate_id=case.pk, request=request
        )
        return Response(ser.DocumentSerializer(docs, many=True).data)

    @extend_schema(
        request={"multipart/form-data": ser.DocumentInputSerializer},
        responses=responses({201: ser.DocumentSerializer}),
        summary="Joindre une pièce (PDF, image, bureautique)",
    )
    def post(self, request, pk: int):
        case = views.get_case(request.user, pk)
        require(request.user, "document_upload")
        data = self.valid(ser.DocumentInputSerializer)
        doc = services.document_upload(
            actor=request.user,
            case=case,
            kind=data["kind"],
            upload=data["file"],
            label=data.get("label", ""),
        )
        return Response(ser.DocumentSerializer(doc).data, status=status.HTTP_201_CREATED)


class CaseOpinionsView(ApiView):
    @extend_schema(responses=responses({200: ser.OpinionSerializer(many=True)}))
    def get(self, request, pk: int):
        case = views.get_case(request.user, pk)
        opinions = Opinion.objects.filter(case=case).select_related("author").order_by("id")
        return Response(ser.OpinionSerializer(opinions, many=True).data)

    @extend_schema(
        request=ser.OpinionInputSerializer,
        responses=responses({201: ser.OpinionSerializer}),
        summary="Donner un avis (agent, partenaire EPCI)",
    )
    def post(self, request, pk: int):
        case = views.get_case(request.user, pk)
        require(request.user, "opinion_create")
        data = self.valid(ser.OpinionInputSerializer)
        opinion = services.opinion_create(
            actor=request.user,
            case=case,
            kind=data["kind"],
            value=data["value"],
            text=data.get("text", ""),
        )
        return Response(ser.OpinionSerializer(opinion).data, status=status.HTTP_201_CREATED)
