"""Bulk work: one transition applied to many funding requests (api.md « Additions »).

Parse → ``cases.services.bulk`` → report. Each item's refusal carries the status and the
French detail that ``POST /funding-requests/{id}/transitions/{name}/`` would answer: the
service asks this API's exception handler for it.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework.response import Response

from cases.models import FundingRequest, PaymentClaim
from cases.services.bulk import (
    MAX_ITEMS,
    cases_bulk_message,
    claims_bulk_transition,
    requests_bulk_transition,
)
from engine.transitions import registration_for

from .exceptions import exception_handler
from .parsers import StrictJSONParser
from .serializers.bulk import BulkInputSerializer, BulkReportSerializer
from .serializers.fields import Id
from .views import ApiView, body_dict, responses


def item_refusal(exc: Exception) -> tuple[int, str] | None:
    """What the single route answers for ``exc`` (None: not an answer, a real error)."""
    answer = exception_handler(exc, {})
    if answer is None or answer.status_code < 400:
        return None
    return answer.status_code, str(answer.data.get("detail", ""))


def _names(model=FundingRequest) -> str:
    specs = registration_for(model).specs.values()
    return ", ".join(sorted(spec.name for spec in specs if set(spec.roles) - {"system"}))


def _bulk_schema(model, summary: str, description: str):
    """The OpenAPI description of one bulk route (its transitions named from the model)."""
    return extend_schema(
        parameters=[
            OpenApiParameter(
                "name",
                str,
                OpenApiParameter.PATH,
                description=f"La transition à appliquer : {_names(model)}.",
            )
        ],
        request=BulkInputSerializer,
        responses=responses({200: BulkReportSerializer}),
        summary=summary,
        description=description,
    )


class _BulkView(ApiView):
    """Parse → the bulk service of ``apply`` → the per-item report."""

    parser_classes = [StrictJSONParser]  # a list of objects: JSON only
    apply = staticmethod(requests_bulk_transition)

    def post(self, request, name: str):
        report = self.apply(
            actor=request.user, name=name, body=body_dict(request), refusal=item_refusal
        )
        return Response(BulkReportSerializer(report.as_dict()).data)


class FundingRequestBulkView(_BulkView):
    apply = staticmethod(requests_bulk_transition)

    @_bulk_schema(
        FundingRequest,
        "Appliquer une transition à plusieurs demandes de financement",
        "Chaque demande est traitée seule, avec les mêmes règles, la même trace, les "
        "mêmes échéances et les mêmes événements qu'une par une ; une demande refusée "
        "figure dans « refused » avec le statut et le message qu'elle aurait reçus seule.",
    )
    def post(self, request, name: str):
        return super().post(request, name)


class PaymentClaimBulkView(_BulkView):
    apply = staticmethod(claims_bulk_transition)

    @_bulk_schema(
        PaymentClaim,
        "Appliquer une transition à plusieurs demandes de paiement",
        "Par exemple « pay » avec le montant payé de chacune : chaque demande de paiement "
        "est traitée seule, avec les mêmes règles (plafond de l'aide, FEADER après ses "
        "cofinanceurs), la même trace et les mêmes événements qu'une par une.",
    )
    def post(self, request, name: str):
        return super().post(request, name)


class _CaseItemSerializer(s.Serializer):
    id = Id(help_text="Identifiant du dossier.")


class BulkMessageInputSerializer(s.Serializer):
    items = _CaseItemSerializer(
        many=True, max_length=MAX_ITEMS, help_text=f"Les dossiers, {MAX_ITEMS} au plus."
    )
    body = s.CharField(max_length=10000, help_text="Le message, le même pour chaque dossier.")
    internal = s.BooleanField(
        required=False, default=False, help_text="Une note interne (jamais lue du porteur)."
    )


class CaseBulkMessageView(ApiView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=BulkMessageInputSerializer,
        responses=responses({200: BulkReportSerializer}),
        summary="Envoyer un même message sur plusieurs dossiers",
        description=(
            "Le message est posté sur chaque dossier comme un par un (mêmes droits, même "
            "événement) ; un dossier refusé figure dans « refused » avec son statut et son "
            "message."
        ),
    )
    def post(self, request):
        report = cases_bulk_message(actor=request.user, body=body_dict(request))
        return Response(BulkReportSerializer(report.as_dict()).data)
