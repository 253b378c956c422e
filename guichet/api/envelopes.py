"""Envelopes and their figures (issue 14, api.md « Additions »): ``GET /api/v1/envelopes/
?year=&scheme=`` for the territory's staff (their territory) and the funders' instructors
(their funder's schemes); others 403. Typed in the admin; the figures are computed
(``cases.envelopes``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework.response import Response

from cases import selectors
from cases.envelopes import envelope_figures
from cases.selectors import ENVELOPE_STAFF, R
from engine.errors import DomainError

from .serializers.fields import Money
from .views import ApiView, responses


class EnvelopeSerializer(s.Serializer):
    id = s.IntegerField()
    scheme = s.CharField(help_text="Code du dispositif")
    year = s.IntegerField()
    territory = s.CharField(help_text="Identifiant court du territoire")
    action_sheet = s.CharField(allow_null=True, help_text="Fiche-action (LEADER)")
    amount = Money()
    requested = Money(help_text="Demandé, pas encore décidé")
    programmed = Money(help_text="Sélectionné en comité ou accordé")
    committed = Money()
    paid = Money()
    remaining = Money(help_text="Montant de l'enveloppe moins le programmé")


def envelope_list(user):
    role = user.effective_role
    if role not in ENVELOPE_STAFF + (R.FUNDER_INSTRUCTOR,) and not user.is_superuser:
        raise DomainError(
            "Les enveloppes sont réservées aux agents et aux financeurs.", code="forbidden"
        )
    return selectors.envelope_list(user=user)


class EnvelopeListView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="Année (ex. 2026)"),
            OpenApiParameter("scheme", str, description="Code du dispositif (ex. DETR)"),
        ],
        responses=responses({200: EnvelopeSerializer(many=True)}),
        summary="Enveloppes et leur consommation",
    )
    def get(self, request):
        qs = envelope_list(request.user)
        year = self.param("year", 4)
        if year:
            if not (year.isascii() and year.isdigit()):
                raise DomainError(
                    "« year » : une année, par exemple 2026.", errors={"year": ["Année invalide."]}
                )
            qs = qs.filter(year=int(year))
        scheme = self.param("scheme", 20)
        if scheme:
            qs = qs.filter(scheme__code=scheme.upper())
        rows = [
            {
                "id": f.envelope.pk,
                "scheme": f.envelope.scheme.code,
                "year": f.envelope.year,
                "territory": f.envelope.territory.slug,
                "action_sheet": f.envelope.action_sheet.code
                if f.envelope.action_sheet_id
                else None,
                "amount": f.amount,
                "requested": f.requested,
                "programmed": f.programmed,
                "committed": f.committed,
                "paid": f.paid,
                "remaining": f.remaining,
            }
            for f in envelope_figures(qs[:500])
        ]
        return Response(EnvelopeSerializer(rows, many=True).data)
