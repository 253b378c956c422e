"""A payment projected after the date the organisation needs the money by."""

from __future__ import annotations

from cases.models import PaymentClaim
from cases.rules import euros

from .common import Finding, K, days_severity, fr_date, options
from .receivables import ClaimReceivable


def late_forecast(item: ClaimReceivable, claim: PaymentClaim, organisation, room) -> Finding | None:
    needed_by = organisation.money_needed_by
    if needed_by is None or item.projection.projected_on <= needed_by:
        return None
    p = item.projection
    late = (p.projected_on - needed_by).days
    message = (
        f"{item.label} de {euros(item.amount)} (dossier {item.reference}) déposé le "
        f"{fr_date(p.filed_on)} : paiement projeté le {fr_date(p.projected_on)}, {late} jours après "
        f"la date à laquelle {organisation.name} a besoin des fonds ({fr_date(needed_by)}) "
        f"(délai attendu : {p.expected_delay} jours). "
        + options(funder=item.funder, advance=room[0], installment=room[1])
    )
    data = item.as_data() | {
        "days": p.days_waiting,
        "money_needed_by": needed_by.isoformat(),
        "days_late": late,
    }
    severity = days_severity(late, warning=30, critical=90)
    return Finding(K.LATE_FORECAST, claim, organisation.pk, item.case_id, severity, message, data)
