"""The treasury forecast of an organisation (issue 13, api.md « Additions »):
``GET /api/v1/organisations/{id}/treasury/?months=24``, for the organisation itself and
its territory's staff (anyone else: 404). Parse → ``cases.treasury`` → serialize."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework.response import Response

from cases import selectors
from cases.treasury import MAX_MONTHS, treasury_forecast
from engine import inputs
from engine.errors import DomainError

from .serializers.fields import Money
from .views import ApiView, not_found, responses


class _MonthSerializer(s.Serializer):
    month = s.CharField(help_text="AAAA-MM")
    outflows = Money()
    inflows_p50 = Money()
    inflows_p80 = Money()
    balance_p50 = Money()
    balance_p80 = Money()


class _PointSerializer(s.Serializer):
    month = s.CharField()
    balance = Money()


class _TroughSerializer(s.Serializer):
    p50 = _PointSerializer(allow_null=True)
    p80 = _PointSerializer(allow_null=True)


class _LoanSerializer(s.Serializer):
    amount = Money()
    months = s.IntegerField()
    rate = s.DecimalField(max_digits=5, decimal_places=2, help_text="% par an")
    interest = Money()


class TreasurySerializer(s.Serializer):
    cash_at_hand = Money(allow_null=True)
    months = _MonthSerializer(many=True)
    trough = _TroughSerializer()
    bridging_loan = _LoanSerializer(allow_null=True)


def _ym(day) -> str:
    return f"{day:%Y-%m}"


def forecast_data(forecast) -> dict:
    def point(t):
        return None if t is None else {"month": _ym(t.month), "balance": t.balance}

    loan = forecast.loan
    return {
        "cash_at_hand": forecast.cash_at_hand,
        "months": [
            {
                "month": _ym(m.month),
                "outflows": m.outflows,
                "inflows_p50": m.inflows_p50,
                "inflows_p80": m.inflows_p80,
                "balance_p50": m.balance_p50,
                "balance_p80": m.balance_p80,
            }
            for m in forecast.months
        ],
        "trough": {"p50": point(forecast.trough_p50), "p80": point(forecast.trough_p80)},
        "bridging_loan": None
        if loan is None
        else {
            "amount": loan.amount,
            "months": loan.months,
            "rate": loan.rate,
            "interest": loan.interest,
        },
    }


class OrganisationTreasuryView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "months", int, description=f"Nombre de mois (1 à {MAX_MONTHS}, 24 par défaut)."
            ),
            OpenApiParameter(
                "rate", str, description="Taux du prêt relais en % par an (paramètre par défaut)."
            ),
        ],
        responses=responses({200: TreasurySerializer}),
        summary="Prévision de trésorerie d'une organisation",
        description=(
            "Mois par mois : dépenses des opérations en cours, encaissements des aides "
            "(délai médian et 80e centile de chaque dispositif) et du FCTVA, solde cumulé "
            "depuis la trésorerie déclarée, point bas et prêt relais qui le couvre."
        ),
    )
    def get(self, request, pk: int):
        organisation = selectors.treasury_organisation_list(user=request.user).filter(pk=pk).first()
        if organisation is None:
            raise not_found("Organisation")
        months = self._months()
        rate = self._rate()
        forecast = treasury_forecast(organisation, months=months, rate=rate)
        return Response(TreasurySerializer(forecast_data(forecast)).data)

    def _months(self) -> int:
        raw = self.param("months", 10)
        if not raw:
            return 24
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_MONTHS:
            raise DomainError(
                f"« months » : un nombre de mois entre 1 et {MAX_MONTHS}.",
                errors={"months": ["Valeur invalide."]},
            )
        return int(raw)

    def _rate(self):
        raw = self.param("rate", 20)
        if not raw:
            return None
        rate = inputs.parse_money(raw, field="rate", label="taux du prêt relais", allow_zero=True)
        if rate < 0 or rate > 100:
            raise DomainError(
                "« rate » : un taux annuel entre 0 et 100 %.", errors={"rate": ["Hors bornes."]}
            )
        return rate
