"""A LEADER payment projected after the FEADER programme's last date for paid expenditure
(revised rule 11: 31/12/2029 for 2023-2027, ``Scheme.programme_end``): past it, the FEADER
share is lost. The projection is ``cases.payments``' (the one the pages and alerts use)."""

from __future__ import annotations

from cases.models import PaymentClaim
from cases.rules import euros

from .common import Finding, K, S, fr_date, org_id
from .receivables import ClaimReceivable


def programme_end(item: ClaimReceivable, claim: PaymentClaim) -> Finding | None:
    end = claim.funding_request.scheme.programme_end
    projected = item.projection.projected_on
    if end is None or projected <= end:
        return None
    late = (projected - end).days
    message = (
        f"{item.label} de {euros(item.amount)} (dossier {item.reference}) : paiement projeté le "
        f"{fr_date(projected)}, {late} jours après la fin du programme FEADER "
        f"({fr_date(end)}, dernière date des dépenses payées). Au-delà, la part FEADER est "
        f"perdue. Pistes : relancer le service instructeur et l'autorité de gestion pour un "
        f"paiement avant le {fr_date(end)} ; vérifier les pièces pour éviter tout aller-retour."
    )
    data = item.as_data() | {"programme_end": end.isoformat(), "days_late": late}
    return Finding(K.PROGRAMME_END, claim, org_id(claim), item.case_id, S.CRITICAL, message, data)
