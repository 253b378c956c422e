"""A claim unpaid beyond its expected delay + 15 days."""

from __future__ import annotations

import datetime as dt

from cases.models import ClaimState, PaymentClaim
from cases.rules import euros

from .common import Finding, K, S, fr_date, options, org_id
from .receivables import ClaimReceivable

GRACE_DAYS = 15  # payment_overdue opens after the expected delay + 15 days


def overdue_severity(days: int, expected: int) -> int | None:
    """None while the claim is within its expected delay + 15 days."""
    if days <= expected + GRACE_DAYS:
        return None
    if days >= 2 * expected:
        return S.CRITICAL
    if 2 * days >= 3 * expected:
        return S.WARNING
    return S.INFO


def payment_overdue(
    item: ClaimReceivable, claim: PaymentClaim, today: dt.date, room
) -> Finding | None:
    p = item.projection
    severity = overdue_severity(p.days_waiting, p.expected_delay)
    if severity is None:
        return None
    waiting = ""
    if claim.state == ClaimState.AWAITING_COFINANCERS:
        waiting = " La demande attend le versement des cofinanceurs nationaux."
    message = (
        f"{item.label} de {euros(item.amount)} (dossier {item.reference}) déposé le "
        f"{fr_date(p.filed_on)}, impayé depuis {p.days_waiting} jours (délai attendu : "
        f"{p.expected_delay} jours, échéance du {fr_date(p.expected_on)}).{waiting} "
        f"{p.sentence()} " + options(funder=item.funder, advance=room[0], installment=room[1])
    )
    data = item.as_data() | {
        "days": p.days_waiting,
        "expected_on": p.expected_on.isoformat(),
        "overdue_since": (p.expected_on + dt.timedelta(days=GRACE_DAYS)).isoformat(),
        "expected_passed": p.expected_passed,
    }
    return Finding(K.PAYMENT_OVERDUE, claim, org_id(claim), item.case_id, severity, message, data)
