"""Treasury risk: what an organisation waits for, against its population or its declared
cash limit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from cases.models import Organisation
from cases.rules import euros, money

from .common import Finding, K, S, fr_date, options
from .receivables import Receivables

DEFAULT_EUR_PER_INHABITANT = 150


def ratio_severity(ratio: Decimal) -> int:
    if ratio >= 2:
        return S.CRITICAL
    if ratio >= Decimal("1.5"):
        return S.WARNING
    return S.INFO


def treasury_risk(organisation: Organisation, rec: Receivables) -> Finding | None:
    """Raised when what the organisation waits for exceeds a threshold: so many euros per
    inhabitant of a commune, or the cash limit the organisation declared."""
    total = rec.total
    if total <= 0:
        return None
    per_inhabitant = _eur_per_inhabitant()
    population = _population(organisation)
    thresholds = [
        t
        for t in (
            _population_threshold(total, population, per_inhabitant),
            _cash_threshold(total, organisation),
        )
        if t is not None
    ]
    exceeded = [(r, text) for r, text in thresholds if r > 1]
    if not exceeded:
        return None
    ratio = max(r for r, _t in exceeded)
    message = _message(organisation, rec, exceeded)
    data = _data(organisation, rec, ratio, population, per_inhabitant)
    return Finding(
        K.TREASURY_RISK, organisation, organisation.pk, None, ratio_severity(ratio), message, data
    )


# ---------------------------------------------------------------- thresholds


def _eur_per_inhabitant() -> Decimal:
    return Decimal(
        str(getattr(settings, "GUICHET_TREASURY_EUR_PER_INHABITANT", DEFAULT_EUR_PER_INHABITANT))
    )


def _population(organisation: Organisation) -> int | None:
    if organisation.kind == Organisation.Kind.COMMUNE and organisation.commune_id:
        return organisation.commune.population
    return None


def _population_threshold(
    total: Decimal, population: int | None, per_inhabitant: Decimal
) -> tuple[Decimal, str] | None:
    """(ratio, French sentence) against so many euros per inhabitant of a commune."""
    if not population:
        return None
    limit = money(per_inhabitant * population)
    if limit <= 0:
        return None
    return (
        total / limit,
        f"{euros(total / population)} par habitant ({population} habitants), "
        f"au-delà du seuil de {euros(per_inhabitant)} par habitant "
        f"({euros(limit)})",
    )


def _cash_threshold(total: Decimal, organisation: Organisation) -> tuple[Decimal, str] | None:
    """(ratio, French sentence) against the cash limit the organisation declared."""
    if organisation.cash_limit is None or organisation.cash_limit <= 0:
        return None
    return (
        total / organisation.cash_limit,
        f"au-delà du seuil de trésorerie déclaré de {euros(organisation.cash_limit)}",
    )


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


def _message(organisation: Organisation, rec: Receivables, exceeded: list) -> str:
    funders = ", ".join(sorted({c.funder for c in rec.claims}))
    return (
        f"Risque de trésorerie pour {organisation.name} : {euros(rec.total)} de subventions "
        f"attendues ({_what_is_awaited(rec)}), " + " ; ".join(text for _r, text in exceeded) + ". "
        "Détail : "
        + " ; ".join(_detail_lines(rec))
        + ". "
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


def _data(
    organisation: Organisation,
    rec: Receivables,
    ratio: Decimal,
    population: int | None,
    per_inhabitant: Decimal,
) -> dict:
    last = rec.last_projected
    first_filed = min((c.projection.filed_on for c in rec.claims), default=None)
    return {
        "amount": str(money(rec.total)),
        "claimed": str(money(rec.claimed)),
        "balances_due": str(money(rec.balances_due)),
        "population": population,
        "eur_per_inhabitant": str(per_inhabitant),
        "cash_limit": None if organisation.cash_limit is None else str(organisation.cash_limit),
        "ratio": str(ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
        "filed_on": first_filed.isoformat() if first_filed else None,
        "projected_date": last.isoformat() if last else None,
        "claims": [c.as_data() for c in rec.claims],
        "balances": [b.as_data() for b in rec.balances],
    }
