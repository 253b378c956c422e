"""A FEADER claim waiting for its national co-financers (FEADER pays after the same share
of each of them)."""

from __future__ import annotations

import datetime as dt

from cases.models import ClaimState, PaymentClaim
from cases.payments import feader_lagging
from cases.rules import euros

from .common import Finding, K, days_severity, fr_date, options, org_id
from .receivables import ClaimReceivable

FEADER_WAIT_DAYS = 30


def feader_blocked(item: ClaimReceivable, claim: PaymentClaim, today: dt.date) -> Finding | None:
    fr = claim.funding_request
    if not fr.scheme.is_feader or claim.state != ClaimState.AWAITING_COFINANCERS:
        return None
    since = claim.awaiting_since or claim.verified_on or item.projection.filed_on
    days = (today - since).days
    if days <= FEADER_WAIT_DAYS:
        return None
    lagging = _lagging_cofinancers(claim)
    who = ", ".join(f"{code} ({name})" for code, name in lagging) or "les cofinanceurs nationaux"
    funders = sorted({name for _code, name in lagging})
    message = (
        f"Part FEADER bloquée : {item.label.lower()} de {euros(item.amount)} (dossier "
        f"{item.reference}) contrôlé et en attente depuis le {fr_date(since)}, soit {days} jours, "
        f"du versement de {who}. Le FEADER ne peut être payé qu'après la même part de "
        f"chaque cofinancement national, mesurée sur son montant finalement dû (après son "
        f"solde, réduit ou non). {item.projection.sentence()} "
        + options(
            relaunch="relancer "
            + (", ".join(funders) if funders else "les cofinanceurs nationaux")
            + " pour le versement de sa part",
        )
    )
    data = item.as_data() | {
        "days": days,
        "awaiting_since": since.isoformat(),
        "cofinancers": [code for code, _name in lagging],
    }
    severity = days_severity(days, warning=2 * FEADER_WAIT_DAYS, critical=3 * FEADER_WAIT_DAYS)
    return Finding(K.FEADER_BLOCKED, claim, org_id(claim), item.case_id, severity, message, data)


def _lagging_cofinancers(claim: PaymentClaim) -> list[tuple[str, str]]:
    """(scheme code, funder) of the co-financers FEADER waits for (the guard's rule,
    ``cases.payments.feader_lagging``)."""
    return [
        (other.scheme.code, other.scheme.funder.name)
        for other in feader_lagging(claim, claim.amount)
    ]
