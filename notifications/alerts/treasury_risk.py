"""Treasury risk (issue 13): the organisation's treasury forecast (``cases.treasury``) goes
below zero — or below the cash limit it declared — at the 80th percentile of the schemes'
payment delays. The severity follows the trough's depth against the organisation's size:
so many euros per inhabitant of a commune (*parameter*), else its declared cash limit,
else what its live grants bring. Without declared cash the forecast starts from zero: only
a commune whose trough is deeper than its size is warned (the rule of the receivables
before the forecast)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from cases.models import Organisation
from cases.rules import euros, money
from cases.treasury import Forecast, forecast_risk

from .common import Finding, K, S, fr_date, options
from .receivables import Receivables

DEFAULT_EUR_PER_INHABITANT = 150


def depth_severity(ratio: Decimal) -> int:
    """The trough's depth against the organisation's size: a quarter of it is a warning,
    all of it critical."""
    if ratio >= 1:
        return S.CRITICAL
    if ratio >= Decimal("0.25"):
        return S.WARNING
    return S.INFO


def treasury_risk(
    organisation: Organisation, rec: Receivables, forecast: Forecast
) -> Finding | None:
    """Raised when the forecast's p80 trough goes below zero or the declared cash limit."""
    gap = forecast_risk(forecast, organisation.cash_limit)
    if gap is None:
        return None
    population = _population(organisation)
    per_inhabitant = _eur_per_inhabitant()
    size, size_text = _size(organisation, population, per_inhabitant, forecast)
    ratio = gap / size if size > 0 else Decimal(1)
    if forecast.cash_at_hand is None and (population is None or ratio < 1):
        # No cash declared: the balance only says how far the coming flows take the
        # organisation from what it holds today. A commune is warned when that exceeds
        # its size (so many euros per inhabitant); others are asked to declare their cash.
        return None
    message = _message(organisation, rec, forecast, gap, size_text)
    data = _data(organisation, rec, forecast, gap, ratio, population, per_inhabitant)
    return Finding(
        K.TREASURY_RISK, organisation, organisation.pk, None, depth_severity(ratio), message, data
    )


def _size(organisation, population, per_inhabitant, forecast) -> tuple[Decimal, str]:
    """What the depth is measured against, and how the message says it."""
    if population:
        size = money(per_inhabitant * population)
        return (
            size,
            f"{euros(per_inhabitant)} par habitant ({population} habitants : {euros(size)})",
        )
    if organisation.cash_limit and organisation.cash_limit > 0:
        return organisation.cash_limit, f"le seuil déclaré de {euros(organisation.cash_limit)}"
    grants = sum((i.amount for i in forecast.inflows if i.kind != "fctva"), Decimal(0))
    return money(grants), f"les aides attendues ({euros(grants)})"


# ---------------------------------------------------------------- thresholds


def _eur_per_inhabitant() -> Decimal:
    return Decimal(
        str(getattr(settings, "GUICHET_TREASURY_EUR_PER_INHABITANT", DEFAULT_EUR_PER_INHABITANT))
    )


def _population(organisation: Organisation) -> int | None:
    if organisation.kind == Organisation.Kind.COMMUNE and organisation.commune_id:
        return organisation.commune.population
    return None


# ---------------------------------------------------------------- message and data


def _what_is_awaited(rec: Receivables) -> str:
    return ", ".join(
        text
        for amount, text in (
            (rec.claimed, f"{euros(rec.claimed)} demandés et impayés"),
            (rec.balances_due, f"{euros(rec.balances_due)} de soldes dus sur travaux achevés"),
        )
        if amount > 0
    )


def _detail_lines(rec: Receivables) -> list[str]:
    """One line per claim (by projected date), then one per balance to claim."""
    lines = [
        f"{c.label} de {euros(c.amount)} déposé le {fr_date(c.projection.filed_on)} "
        f"(dossier {c.reference}), paiement projeté le {fr_date(c.projection.projected_on)}"
        + (" (date attendue dépassée)" if c.projection.expected_passed else "")
        for c in sorted(rec.claims, key=lambda c: (c.projection.projected_on, c.claim_id))
    ]
    lines += [
        f"solde {b.scheme} de {euros(b.amount)} à demander (dossier {b.reference}, travaux "
        f"achevés, versement environ {b.expected_delay} jours après la demande)"
        for b in rec.balances
    ]
    return lines


def _month(day) -> str:
    return f"{day:%m/%Y}"


def _message(organisation, rec: Receivables, forecast: Forecast, gap, size_text: str) -> str:
    t80, t50 = forecast.trough_p80, forecast.trough_p50
    limit = organisation.cash_limit
    below = f"sous le seuil déclaré de {euros(limit)}" if limit and limit > 0 else "sous zéro"
    text = (
        f"Risque de trésorerie pour {organisation.name} : si les financeurs paient avec les "
        f"délais les plus longs observés (80e centile), la trésorerie descendrait à "
        f"{euros(t80.balance)} en {_month(t80.month)}, {below} de {euros(gap)} "
        f"(délais médians : {euros(t50.balance)} en {_month(t50.month)}). "
        f"Écart rapporté à {size_text}."
    )
    if forecast.cash_at_hand is None:
        text += " Trésorerie disponible non déclarée : la prévision part de 0 €."
    if rec.claims or rec.balances:
        text += (
            f" Subventions attendues : {_what_is_awaited(rec)}. Détail : "
            + " ; ".join(_detail_lines(rec))
            + "."
        )
    loan = forecast.loan
    if loan is not None:
        text += (
            f" Prêt relais simulé : {euros(loan.amount)} sur {loan.months} mois à "
            f"{str(loan.rate).replace('.', ',')} %, soit {euros(loan.interest)} d'intérêts."
        )
    funders = ", ".join(sorted({c.funder for c in rec.claims}))
    return (
        text
        + " "
        + options(
            relaunch=(
                f"relancer les financeurs — {funders} — sur les paiements attendus"
                if rec.claims
                else None
            ),
            advance=rec.advance_possible,
            installment=rec.installment_possible,
            balance=bool(rec.balances),
        )
    )


def _point(trough) -> dict | None:
    if trough is None:
        return None
    return {"month": f"{trough.month:%Y-%m}", "balance": str(trough.balance)}


def _data(organisation, rec, forecast, gap, ratio, population, per_inhabitant) -> dict:
    last = rec.last_projected
    first_filed = min((c.projection.filed_on for c in rec.claims), default=None)
    loan = forecast.loan
    return {
        "depth": str(money(gap)),
        "trough_p50": _point(forecast.trough_p50),
        "trough_p80": _point(forecast.trough_p80),
        "cash_at_hand": None if forecast.cash_at_hand is None else str(forecast.cash_at_hand),
        "amount": str(money(rec.total)),
        "claimed": str(money(rec.claimed)),
        "balances_due": str(money(rec.balances_due)),
        "population": population,
        "eur_per_inhabitant": str(per_inhabitant),
        "cash_limit": None if organisation.cash_limit is None else str(organisation.cash_limit),
        "ratio": str(ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
        "filed_on": first_filed.isoformat() if first_filed else None,
        "projected_date": last.isoformat() if last else None,
        "bridging_loan": None
        if loan is None
        else {
            "amount": str(loan.amount),
            "months": loan.months,
            "rate": str(loan.rate),
            "interest": str(loan.interest),
        },
        "claims": [c.as_data() for c in rec.claims],
        "balances": [b.as_data() for b in rec.balances],
    }
