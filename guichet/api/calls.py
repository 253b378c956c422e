"""Calls for projects (issue 14 point 5, api.md « Additions »): ``GET /api/v1/calls/``
public (the published calls, ``?state=open|coming``); ``POST`` by the PETR's agents (and
an administrator), others 403. The window rule is ``cases.calls``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from cases.calls import call_agenda, call_create, calls_public
from engine.errors import DomainError

from .serializers.fields import Money
from .views import ApiView, body_dict, responses


class CallSerializer(s.Serializer):
    id = s.IntegerField()
    scheme = s.CharField(source="scheme.code", help_text="Code du dispositif")
    title = s.CharField()
    description = s.CharField(help_text="Présentation et critères")
    opens_on = s.DateField()
    closes_on = s.DateField()
    envelope = Money(allow_null=True)
    selection = s.ChoiceField(choices=["rolling", "ranking"])


class CallInputSerializer(s.Serializer):
    """For the schema only: the service parses the body (French messages)."""

    scheme = s.CharField(max_length=20)
    title = s.CharField(max_length=200)
    description = s.CharField(max_length=20000, required=False, allow_blank=True)
    opens_on = s.DateField()
    closes_on = s.DateField()
    envelope = Money(required=False, allow_null=True)
    selection = s.ChoiceField(choices=["rolling", "ranking"], required=False)


class CallListView(ApiView):
    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny()]
        return super().get_permissions()

    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=["open", "coming"])],
        responses=responses({200: CallSerializer(many=True)}),
        summary="Appels à projets publiés",
        auth=[],
    )
    def get(self, request):
        state = self.param("state", 40)
        if state not in ("", "open", "coming"):
            raise DomainError(
                "« state » : open (ouverts) ou coming (à venir).",
                errors={"state": ["Valeur invalide."]},
            )
        return Response(CallSerializer(calls_public(state=state)[:500], many=True).data)

    @extend_schema(
        request=CallInputSerializer,
        responses=responses({201: CallSerializer}),
        summary="Publier un appel à projets (agents)",
    )
    def post(self, request):
        call = call_create(actor=request.user, data=body_dict(request))
        return Response(CallSerializer(call).data, status=201)


class CallAgendaItemSerializer(s.Serializer):
    rank = s.IntegerField()
    funding_request = s.IntegerField(source="fr.pk")
    case = s.IntegerField(source="fr.case_id")
    reference = s.CharField(source="fr.case.reference")
    title = s.CharField(source="fr.case.title")
    organisation = s.CharField(source="fr.case.organisation.name")
    amount_requested = Money(source="fr.amount_requested")
    pre_score = s.DecimalField(
        source="fr.pre_score", max_digits=6, decimal_places=2, allow_null=True
    )


class CallAgendaView(ApiView):
    @extend_schema(
        responses=responses({200: CallAgendaItemSerializer(many=True)}),
        summary="Ordre du jour d'un appel : ses demandes en attente du comité, par pré-notation",
    )
    def get(self, request, pk: int):
        _call, ranked = call_agenda(user=request.user, call_id=pk)
        rows = [{"rank": i, "fr": fr} for i, fr in enumerate(ranked, start=1)]
        return Response(CallAgendaItemSerializer(rows, many=True).data)
