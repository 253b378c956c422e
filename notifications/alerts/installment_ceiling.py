"""Advance and installments at their ceiling: the rest waits for the balance."""

from __future__ import annotations

from cases.models import CaseState, FundingRequest, RequestState
from cases.rules import ZERO, euros, percent

from .common import Finding, K, S, options
from .receivables import GrantFigures


def installment_ceiling(fr: FundingRequest, figures: GrantFigures) -> Finding | None:
    if fr.has_balance or fr.state not in (RequestState.COMMITTED, RequestState.PAYING):
        return None
    if (
        figures.room.before_balance_cap <= 0
        or figures.room.before_balance < figures.room.before_balance_cap
    ):
        return None
    granted = fr.amount_granted
    rest = max(granted - figures.room.before_balance, ZERO)
    completed = fr.case.state == CaseState.COMPLETED
    reference = fr.case.reference or str(fr.case_id)
    message = (
        f"Plafond des acomptes atteint sur l'aide {fr.scheme.code} du dossier {reference} : "
        f"avance et acomptes demandés {euros(figures.room.before_balance)}, soit "
        f"{percent(fr.scheme.installments_max_rate)} de l'aide accordée de {euros(granted)}. "
        f"Le reste ({euros(rest)}) ne sera versé qu'au solde, après l'achèvement de "
        f"l'opération{' (déclaré)' if completed else ''}. " + options(balance=True)
    )
    data = {
        "funding_request_id": fr.pk,
        "case_id": fr.case_id,
        "reference": reference,
        "scheme": fr.scheme.code,
        "amount": str(figures.room.before_balance),
        "granted": str(granted),
        "ceiling": str(figures.room.before_balance_cap),
        "rate": str(fr.scheme.installments_max_rate),
        "remaining": str(rest),
    }
    severity = S.WARNING if completed else S.INFO
    return Finding(
        K.INSTALLMENT_CEILING,
        fr,
        fr.case.organisation_id,
        fr.case_id,
        severity,
        message,
        data,
    )
