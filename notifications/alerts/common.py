"""What the kinds of alert share: a finding, dates in French, the options offered to the
porteur (« pistes »), severities by days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils import timezone

from cases.models import PaymentClaim

from ..models import Alert

K = Alert.Kind
S = Alert.Severity
CHUNK = 500


def fr_date(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def local_today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: models.Model
    organisation_id: int | None  # None: an alert about the programme (territory_id)
    case_id: int | None
    severity: int
    message: str
    data: dict
    territory_id: int | None = None  # an alert about the programme, not an organisation


def org_id(claim: PaymentClaim) -> int:
    return claim.funding_request.case.organisation_id


# ---------------------------------------------------------------- options (« pistes »)


def options(
    *,
    funder: str | None = None,
    relaunch: str | None = None,
    advance: bool = False,
    installment: bool = False,
    balance: bool = False,
    bridging: bool = True,
) -> str:
    items = []
    if funder:
        items.append(f"relancer le financeur — {funder} — sur ce paiement")
    if relaunch:
        items.append(relaunch)
    if advance:
        items.append("demander une avance sur les aides accordées")
    if installment:
        items.append("déposer un acompte sur les dépenses déjà payées")
    if balance:
        items.append("déposer la demande de solde dès l'achèvement déclaré")
    if bridging:
        items.append("ouvrir une ligne de trésorerie ou un prêt relais en attendant le versement")
    return "Pistes : " + " ; ".join(items) + "."


def days_severity(days: int, *, warning: int, critical: int) -> int:
    if days >= critical:
        return S.CRITICAL
    if days >= warning:
        return S.WARNING
    return S.INFO
