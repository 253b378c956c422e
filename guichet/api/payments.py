"""Funding requests and their payment claims."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from cases import selectors, services
from cases.permissions import require
from engine.audit import access_record

from . import views
from .serializers.payments import PaymentClaimInputSerializer, PaymentClaimSerializer
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
