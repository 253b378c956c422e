"""Extensions (prorogations) of a funding request's works deadlines: asked by the porteur
or an agent, granted or refused by the funder's instructor (revised rule 5)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from cases import selectors, services
from cases.models import Extension
from cases.permissions import require
from engine import inputs

from . import views
from .serializers.extensions import ExtensionInputSerializer, ExtensionSerializer
from .serializers.transitions import TransitionInputSerializer
from .views import ApiView, body_dict, responses, transition_from_request


def get_extension(user, pk: int) -> Extension:
    extension = selectors.extension_list(user=user).filter(pk=pk).first()
    if extension is None:
        raise views.not_found("Prorogation")
    return extension


def _read(body: dict) -> dict:
    """The body, parsed once into typed values (French messages naming each field)."""
    until = inputs.parse_date(
        body.get("until"), field="until", label="nouvelle échéance", required=True
    )
    return {
        "deadline": inputs.parse_choice(
            body.get("deadline"),
            field="deadline",
            label="l'échéance",
            choices=Extension.Deadline.values,
        ),
        "until": until,
        "reason": inputs.parse_text(
            body.get("reason"), field="reason", label="le motif", max_length=5000, required=True
        ),
    }


class FundingRequestExtensionsView(ApiView):
    @extend_schema(responses=responses({200: ExtensionSerializer(many=True)}))
    def get(self, request, pk: int):
        fr = views.get_request(request.user, pk)
        extensions = selectors.extension_list(user=request.user).filter(funding_request=fr)
        return Response(ExtensionSerializer(extensions, many=True, context=self.ctx()).data)

    @extend_schema(
        request=ExtensionInputSerializer,
        responses=responses({201: ExtensionSerializer}),
        summary="Demander la prorogation d'une échéance des travaux",
    )
    def post(self, request, pk: int):
        fr = views.get_request(request.user, pk)
        require(request.user, "extension_request")
        extension = services.extension_request(
            actor=request.user, funding_request=fr, **_read(body_dict(request))
        )
        extension = get_extension(request.user, extension.pk)
        return Response(
            ExtensionSerializer(extension, context=self.ctx()).data,
            status=status.HTTP_201_CREATED,
        )


class ExtensionDetailView(ApiView):
    @extend_schema(responses=responses({200: ExtensionSerializer}))
    def get(self, request, pk: int):
        extension = get_extension(request.user, pk)
        return Response(ExtensionSerializer(extension, context=self.ctx()).data)


class ExtensionTransitionView(ApiView):
    @extend_schema(
        request=TransitionInputSerializer,
        responses=responses({200: ExtensionSerializer}),
        summary="Accorder ou refuser une prorogation",
    )
    def post(self, request, pk: int, name: str):
        extension = get_extension(request.user, pk)
        transition_from_request(request, extension, name)
        extension = get_extension(request.user, pk)
        return Response(ExtensionSerializer(extension, context=self.ctx()).data)
