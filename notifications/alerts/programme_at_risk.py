"""LEADER credits at risk of being lost (issue 14, domain.md « Programming »): per action
sheet, the money at risk (``cases.programme_health``: programmed but not payable before the
programme's end at the scheme's learned delays, plus the target still unprogrammed when
the last programming date is near) passes a share of the sheet's target.

The share is a *parameter*, settings ``GUICHET_PROGRAMME_RISK_SHARE`` (0.10: a tenth of
the target); twice the share is critical. A sheet with no target (no maquette amount and
no envelope) is alerted as soon as money is at risk. The alert is about the action sheet
(one live alert per sheet), for its territory's staff (no organisation); it is resolved
when the money at risk drops back under the share.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings

from cases.programme_health import SheetHealth, programme_health
from cases.rules import euros, percent
from schemes.models import ActionSheet

from .common import Finding, K, S, fr_date

DEFAULT_RISK_SHARE = Decimal("0.10")


def risk_share() -> Decimal:
    return Decimal(str(getattr(settings, "GUICHET_PROGRAMME_RISK_SHARE", DEFAULT_RISK_SHARE)))


def programmes_at_risk(today: dt.date) -> list[Finding]:
    """The findings of every territory's action sheets: one read of the territories that
    have active sheets, then a constant number of reads per such territory."""
    share = risk_share()
    out = []
    territories = (
        ActionSheet.objects.filter(active=True)
        .order_by("territory_id")
        .values_list("territory_id", flat=True)
        .distinct()
    )
    for territory_id in territories:
        for health in programme_health(territory_id, today=today):
            finding = programme_at_risk(health, share)
            if finding:
                out.append(finding)
    return out


def programme_at_risk(health: SheetHealth, share: Decimal) -> Finding | None:
    at_risk = health.at_risk
    if at_risk <= 0:
        return None
    if health.target > 0:
        ratio = at_risk / health.target
        if ratio <= share:
            return None
    else:
        ratio = Decimal(1)
    severity = S.CRITICAL if ratio >= 2 * share else S.WARNING
    sheet = health.sheet
    return Finding(
        K.PROGRAMME_AT_RISK,
        sheet,
        None,
        None,
        severity,
        _message(health, share),
        _data(health, share),
        territory_id=sheet.territory_id,
    )


def _message(health: SheetHealth, share: Decimal) -> str:
    sheet = health.sheet
    parts = []
    if health.late:
        refs = ", ".join(
            f"{r.reference} ({euros(r.unpaid)}, projeté le {fr_date(r.projected_on)})"
            for r in health.late[:5]
        )
        more = f" et {len(health.late) - 5} autre(s)" if len(health.late) > 5 else ""
        parts.append(
            f"{euros(health.late_amount)} programmés ne seraient pas payés avant la fin du "
            f"programme ({fr_date(health.programme_end)}) aux délais de paiement observés : "
            f"{refs}{more}"
        )
    if health.unprogrammed_at_risk > 0:
        parts.append(
            f"{euros(health.unprogrammed_at_risk)} de la maquette restent à programmer alors "
            f"que la dernière programmation utile est le {fr_date(health.last_programming)}"
        )
    target = f"{euros(health.target)}" if health.target > 0 else "non renseignée"
    return (
        f"Fiche-action {sheet.code} « {sheet.title} » ({sheet.scheme.code}) : "
        f"{euros(health.at_risk)} risquent d'être perdus (maquette : {target} ; "
        f"seuil d'alerte : {percent(share)} de la maquette). "
        + " ; ".join(parts)
        + ". Pistes : accélérer les demandes de solde et leur instruction, relancer "
        "l'autorité de gestion ; programmer les projets en attente ou réaffecter les "
        "crédits vers une fiche-action plus avancée."
    )


def _data(health: SheetHealth, share: Decimal) -> dict:
    def rate(value):
        return None if value is None else str(value)

    return {
        "action_sheet": health.sheet.code,
        "scheme": health.sheet.scheme.code,
        "target": str(health.target),
        "programmed": str(health.programmed),
        "paid": str(health.paid),
        "at_risk": str(health.at_risk),
        "late": str(health.late_amount),
        "unprogrammed_at_risk": str(health.unprogrammed_at_risk),
        "programming_rate": rate(health.programming_rate),
        "payment_rate": rate(health.payment_rate),
        "risk_share": str(share),
        "programme_end": health.programme_end.isoformat() if health.programme_end else None,
        "requests": [
            {"id": r.request_id, "unpaid": str(r.unpaid), "projected": r.projected_on.isoformat()}
            for r in health.late
        ],
    }
