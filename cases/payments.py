"""Payment delays and projected payment dates: one place for the alerts, the porteur's
page, the public page and the treasury forecast.

The expected delay from claim to payment is the scheme's parameter, replaced by the
median of its last 20 observed payments once 5 exist (domain.md « Payment delays »).
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from schemes.models import Scheme

from .models import Payment, PaymentClaim

LEARNING_MIN_PAYMENTS = 5
LEARNING_WINDOW = 20


def _fr(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def expected_delay_days(scheme: Scheme, *, today: dt.date | None = None) -> int:
    """Days from claim to payment expected for this scheme: its parameter, replaced by the
    median delay of its last 20 payments once 5 exist (payments after ``today`` ignored)."""
    qs = Payment.objects.filter(scheme_id=scheme.pk)
    if today is not None:
        qs = qs.filter(paid_on__lte=today)
    delays = list(
        qs.order_by("-paid_on", "-id").values_list("delay_days", flat=True)[:LEARNING_WINDOW]
    )
    if len(delays) < LEARNING_MIN_PAYMENTS:
        return int(scheme.expected_payment_delay_days)
    median = Decimal(str(statistics.median(delays)))
    return int(median.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class DelayBook:
    """Expected delay per scheme, computed once per pass."""

    def __init__(self, today: dt.date):
        self.today = today
        self._by_scheme: dict[int, int] = {}

    def __call__(self, scheme: Scheme) -> int:
        if scheme.pk not in self._by_scheme:
            self._by_scheme[scheme.pk] = expected_delay_days(scheme, today=self.today)
        return self._by_scheme[scheme.pk]


@dataclass(frozen=True)
class Projection:
    filed_on: dt.date
    expected_delay: int
    expected_on: dt.date  # filing date + expected delay
    projected_on: dt.date  # no earlier than today
    days_waiting: int

    @property
    def expected_passed(self) -> bool:
        return self.expected_on < self.projected_on

    def sentence(self) -> str:
        if self.expected_passed:
            return (
                f"Paiement projeté : au plus tôt le {_fr(self.projected_on)}, la date attendue "
                f"({_fr(self.expected_on)}) étant déjà dépassée."
            )
        return f"Paiement projeté : le {_fr(self.projected_on)}."


def _filed_on(claim: PaymentClaim) -> dt.date:
    return claim.filed_on or timezone.localdate(claim.created_at)


def project_claim(claim: PaymentClaim, today: dt.date, delay: int) -> Projection:
    filed = _filed_on(claim)
    expected_on = filed + dt.timedelta(days=delay)
    return Projection(
        filed_on=filed,
        expected_delay=delay,
        expected_on=expected_on,
        projected_on=max(expected_on, today),
        days_waiting=(today - filed).days,
    )


def claim_projection(claim: PaymentClaim, today: dt.date | None = None) -> Projection:
    today = _today(today)
    return project_claim(
        claim, today, expected_delay_days(claim.funding_request.scheme, today=today)
    )


def projected_payment_date(claim: PaymentClaim, today: dt.date | None = None) -> dt.date:
    """Filing date + the scheme's expected delay; never earlier than today (when that date
    has passed, ``claim_projection(...).expected_passed`` says so)."""
    return claim_projection(claim, today).projected_on
