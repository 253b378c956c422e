"""Funding requests, their payment claims and recovery orders."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from cases import selectors, services
from cases.models import RecoveryOrder
from cases.permissions import require
from cases.services.payments import recovery_order_issue
from engine.audit import access_record

from . import views
from .serializers.payments import (
    PaymentClaimInputSerializer,
    PaymentClaimSerializer,
    RecoveryOrderInputSerializer,
    RecoveryOrderSerializer,
)
from .serializers.requests import FundingRequestSerializer
from .serializers.transitions import TransitionInputSerializer
from .views import ApiView, responses, transition_from_request


class FundingRequestDetailView(ApiView):
    @extend_schema(responses=responses({200: FundingRequestSerializer}))
    def get(self, request, pk: int):
        fr = views.get_request(request.user, pk)
        access_record(
            user=request.user, action="read", subject=fr, aggregate_id=fr.case_id, request=request
        )
        return Response(FundingRequestSerializer(fr, context=self.ctx()).data)


class FundingRequestTransitionView(ApiView):
    @extend_schema(
        request=TransitionInputSerializer,
        responses=responses({200: FundingRequestSerializer}),
        summary="Appliquer une transition à une demande de financement",
    )
    def post(self, request, pk: int, name: str):
        fr = views.get_request(request.user, pk)
        transition_from_request(request, fr, name)
        fr = views.get_request(request.user, pk)
        return Response(FundingRequestSerializer(fr, context=self.ctx()).data)


class FundingRequestClaimsView(ApiView):
    @extend_schema(responses=responses({200: PaymentClaimSerializer(many=True)}))
    def get(self, request, pk: int):
        fr = views.get_request(request.user, pk)
        claims = selectors.claim_list(user=request.user).filter(funding_request=fr)
        access_record(
            user=request.user, action="read", subject=fr, aggregate_id=fr.case_id, request=request
        )
        return Response(PaymentClaimSerializer(claims, many=True, context=self.ctx()).data)

    @extend_schema(
        request=PaymentClaimInputSerializer,
        responses=responses({201: PaymentClaimSerializer}),
        summary="Créer une demande de paiement (brouillon ; la déposer par « file »)",
    )
    def post(self, request, pk: int):
        fr = views.get_request(request.user, pk)
        require(request.user, "claim_create")
        data = self.valid(PaymentClaimInputSerializer)
        claim = services.claim_create(actor=request.user, funding_request=fr, data=data)
        claim = views.get_claim(request.user, claim.pk)
        return Response(
            PaymentClaimSerializer(claim, context=self.ctx()).data,
            status=status.HTTP_201_CREATED,
        )


class PaymentClaimDetailView(ApiView):
    @extend_schema(responses=responses({200: PaymentClaimSerializer}))
    def get(self, request, pk: int):
        claim = views.get_claim(request.user, pk)
        access_record(
            user=request.user,
            action="read",
            subject=claim,
            aggregate_id=claim.funding_request.case_id,
            request=request,
        )
        return Response(PaymentClaimSerializer(claim, context=self.ctx()).data)


class PaymentClaimTransitionView(ApiView):
    @extend_schema(
        request=TransitionInputSerializer,
        responses=responses({200: PaymentClaimSerializer}),
        summary="Appliquer une transition à une demande de paiement",
    )
    def post(self, request, pk: int, name: str):
        claim = views.get_claim(request.user, pk)
        transition_from_request(request, claim, name)
        claim = views.get_claim(request.user, pk)
        return Response(PaymentClaimSerializer(claim, context=self.ctx()).data)


# ---------------------------------------------------------------- recovery orders (rule 6)


def get_recovery_order(user, pk: int) -> RecoveryOrder:
    """A recovery order on a funding request the user may see (404 otherwise)."""
    order = (
        RecoveryOrder.objects.select_related("funding_request__scheme", "funding_request__case")
        .filter(pk=pk)
        .first()
    )
    if order is None:
        raise views.not_found("Ordre de reversement")
    views.get_request(user, order.funding_request_id)  # the same visibility as its request
    return order


class FundingRequestRecoveryOrdersView(ApiView):
    @extend_schema(responses=responses({200: RecoveryOrderSerializer(many=True)}))
    def get(self, request, pk: int):
        fr = views.get_request(request.user, pk)
        orders = fr.recovery_orders.select_related("funding_request__scheme").order_by("id")
        access_record(
            user=request.user, action="read", subject=fr, aggregate_id=fr.case_id, request=request
        )
        return Response(RecoveryOrderSerializer(orders, many=True, context=self.ctx()).data)

    @extend_schema(
        request=RecoveryOrderInputSerializer,
        responses=responses({201: RecoveryOrderSerializer}),
        summary="Émettre un ordre de reversement (trop-perçu sur le montant finalement dû)",
    )
    def post(self, request, pk: int):
        fr = views.get_request(request.user, pk)
        require(request.user, "funder_act")
        data = self.valid(RecoveryOrderInputSerializer)
        order = recovery_order_issue(actor=request.user, funding_request=fr, data=data)
        order = get_recovery_order(request.user, order.pk)
        return Response(
            RecoveryOrderSerializer(order, context=self.ctx()).data,
            status=status.HTTP_201_CREATED,
        )


class RecoveryOrderDetailView(ApiView):
    @extend_schema(responses=responses({200: RecoveryOrderSerializer}))
    def get(self, request, pk: int):
        order = get_recovery_order(request.user, pk)
        return Response(RecoveryOrderSerializer(order, context=self.ctx()).data)


class RecoveryOrderTransitionView(ApiView):
    @extend_schema(
        request=TransitionInputSerializer,
        responses=responses({200: RecoveryOrderSerializer}),
        summary="Appliquer une transition à un ordre de reversement",
    )
    def post(self, request, pk: int, name: str):
        order = get_recovery_order(request.user, pk)
        transition_from_request(request, order, name)
        order = get_recovery_order(request.user, pk)
        return Response(RecoveryOrderSerializer(order, context=self.ctx()).data)
