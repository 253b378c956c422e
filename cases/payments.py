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

from django.contrib.contenttypes.models import ContentType
from django.db.models import Sum
from django.utils import timezone

from engine.models import Deadline
from schemes.models import Scheme

from . import rules
from .models import (
    REQUEST_GRANTED,
    ClaimState,
    ExpenseLine,
    FundingRequest,
    Payment,
    PaymentClaim,
    RecoveryOrder,
    RecoveryState,
    RequestState,
)

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
    return delays_learned(delays, scheme.expected_payment_delay_days)[0]


#: Until a scheme has ``LEARNING_MIN_PAYMENTS`` observed payments, its 80th percentile
#: is its parameter times this factor (settings ``GUICHET_TREASURY_P80_FACTOR``).
DEFAULT_P80_FACTOR = Decimal("1.5")


def _half_up(value) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def delays_learned(delays: list[int], default: int) -> tuple[int, int]:
    """(median, 80th percentile) of observed delays in days — the scheme's parameter (and
    it times the factor) until ``LEARNING_MIN_PAYMENTS`` exist; the 80th percentile is
    never below the median."""
    from django.conf import settings

    if len(delays) < LEARNING_MIN_PAYMENTS:
        factor = Decimal(str(getattr(settings, "GUICHET_TREASURY_P80_FACTOR", DEFAULT_P80_FACTOR)))
        return int(default), max(int(default), _half_up(Decimal(default) * factor))
    ordered = sorted(delays)
    p50 = _half_up(statistics.median(ordered))
    p80 = _half_up(statistics.quantiles(ordered, n=10, method="inclusive")[7])
    return p50, max(p50, p80)


def delays_by_scheme(schemes, *, today: dt.date | None = None) -> dict[int, tuple[int, int]]:
    """``delays_learned`` of several schemes: scheme id → (median, 80th percentile). One
    indexed read per scheme (its last ``LEARNING_WINDOW`` payments, index ``scheme,
    -paid_on``): a few rows each, whatever the number of payments."""
    out = {}
    for scheme in schemes:
        qs = Payment.objects.filter(scheme_id=scheme.pk)
        if today is not None:
            qs = qs.filter(paid_on__lte=today)
        delays = list(
            qs.order_by("-paid_on", "-id").values_list("delay_days", flat=True)[:LEARNING_WINDOW]
        )
        out[scheme.pk] = delays_learned(delays, scheme.expected_payment_delay_days)
    return out


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


def project_payment(filed: dt.date, today: dt.date, delay: int) -> Projection:
    """The one payment-date projection (alerts, pages, the treasury forecast): a claim made
    on ``filed`` is expected ``delay`` days later, and projected no earlier than today."""
    expected_on = filed + dt.timedelta(days=delay)
    return Projection(
        filed_on=filed,
        expected_delay=delay,
        expected_on=expected_on,
        projected_on=max(expected_on, today),
        days_waiting=(today - filed).days,
    )


def project_claim(claim: PaymentClaim, today: dt.date, delay: int) -> Projection:
    return project_payment(_filed_on(claim), today, delay)


def claim_projection(claim: PaymentClaim, today: dt.date | None = None) -> Projection:
    today = _today(today)
    return project_claim(
        claim, today, expected_delay_days(claim.funding_request.scheme, today=today)
    )


def projected_payment_date(claim: PaymentClaim, today: dt.date | None = None) -> dt.date:
    """Filing date + the scheme's expected delay; never earlier than today (when that date
    has passed, ``claim_projection(...).expected_passed`` says so)."""
    return claim_projection(claim, today).projected_on


# ---------------------------------------------------------------- amounts finally due
# Revised rules 6 and 11: the balance is computed on the expenses actually paid; the FEADER
# « same fraction » is measured against each co-financer's amount finally due.

CENT = Decimal("0.01")
#: Claims that count against the ceilings (their amount, or what was paid once paid).
ACTIVE_CLAIMS = [
    ClaimState.FILED,
    ClaimState.AWAITING_COFINANCERS,
    ClaimState.VERIFIED,
    ClaimState.PAID,
]


def amount_finally_due(granted: Decimal, planned: Decimal, actual: Decimal | None) -> Decimal:
    """``min(grant, grant × actual / planned)`` to the cent (half up): the grant when the
    actual eligible cost is unknown or the planned one is nil."""
    granted = granted or Decimal(0)
    if actual is None or not planned:
        return granted
    prorata = (granted * actual / planned).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(granted, max(prorata, Decimal(0)))


def planned_eligible_cost(fr: FundingRequest) -> Decimal:
    """The plan's eligible total (the base the grant was computed on)."""
    return _planned_costs([fr.case_id]).get(fr.case_id, Decimal(0))


def _planned_costs(case_ids) -> dict[int, Decimal]:
    """``planned_eligible_cost`` of several dossiers in one query."""
    rows = (
        ExpenseLine.objects.filter(case_id__in=case_ids, eligible=True)
        .values("case_id")
        .annotate(total=Sum("amount"))
    )
    return {row["case_id"]: row["total"] or Decimal(0) for row in rows}


def balance_claim(fr: FundingRequest, *, exclude_pk=None) -> PaymentClaim | None:
    qs = fr.claims.filter(kind=PaymentClaim.Kind.BALANCE, state__in=ACTIVE_CLAIMS)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("-id").first()


def _amount_due(fr: FundingRequest, balance: PaymentClaim | None, planned: Decimal) -> Decimal:
    granted = fr.amount_granted or Decimal(0)
    if balance is not None and balance.actual_cost is not None:
        return amount_finally_due(granted, planned, balance.actual_cost)
    if fr.state == RequestState.PAID:
        return min(granted, fr.amount_paid)
    return granted


def request_amount_due(fr: FundingRequest, *, balance: PaymentClaim | None = None) -> Decimal:
    """What the request finally owes: with a balance (``balance``, else its active one) on
    an actual cost, the grant prorated to it; a request paid in full (``paid``) without one
    owes what it was paid (a grant closed at less counts as 100 % of its amount due); else
    the grant."""
    balance = balance or balance_claim(fr)
    planned = Decimal(0)
    if balance is not None and balance.actual_cost is not None:
        planned = planned_eligible_cost(fr)
    return _amount_due(fr, balance, planned)


@dataclass(frozen=True)
class BalanceFigures:
    """What an actual eligible cost gives (revised rule 6): the amount finally due
    (``amount_finally_due``) and the balance still to claim, ``due`` less ``claimed``."""

    granted: Decimal
    planned: Decimal
    actual: Decimal | None
    due: Decimal
    claimed: Decimal

    @property
    def balance(self) -> Decimal:
        return max(self.due - self.claimed, Decimal(0))


def balance_figures(fr: FundingRequest, actual_cost: Decimal | None, claimed: Decimal):
    """The balance an actual eligible cost leaves once ``claimed`` (advances and
    instalments) is counted: the one computation of the balance guard and the forms."""
    granted = fr.amount_granted or Decimal(0)
    planned = planned_eligible_cost(fr)
    due = amount_finally_due(granted, planned, actual_cost)
    return BalanceFigures(granted, planned, actual_cost, due, claimed)


def recovery_ordered(fr: FundingRequest) -> Decimal:
    """What recovery orders already ask back (issued or recovered, not cancelled)."""
    return _recovery_ordered([fr.pk]).get(fr.pk, Decimal(0))


def _recovery_ordered(request_ids) -> dict[int, Decimal]:
    states = [RecoveryState.ISSUED, RecoveryState.RECOVERED]
    rows = (
        RecoveryOrder.objects.filter(funding_request_id__in=request_ids, state__in=states)
        .values("funding_request_id")
        .annotate(total=Sum("amount"))
    )
    return {row["funding_request_id"]: row["total"] or Decimal(0) for row in rows}


def overpaid(fr: FundingRequest) -> Decimal:
    """What the request was paid beyond its amount finally due and not yet ordered back."""
    return overpaid_by_request([fr])[fr.pk]


def overpaid_by_request(requests) -> dict[int, Decimal]:
    """``overpaid`` of each request, read in three queries whatever their number (the
    pages list many)."""
    requests = list(requests)
    ids = [fr.pk for fr in requests]
    balances: dict[int, PaymentClaim] = {}
    for claim in PaymentClaim.objects.filter(
        funding_request_id__in=ids, kind=PaymentClaim.Kind.BALANCE, state__in=ACTIVE_CLAIMS
    ).order_by("id"):
        balances[claim.funding_request_id] = claim  # the latest wins, as ``balance_claim``
    planned = _planned_costs({fr.case_id for fr in requests if fr.pk in balances})
    ordered = _recovery_ordered(ids)
    out = {}
    for fr in requests:
        due = _amount_due(fr, balances.get(fr.pk), planned.get(fr.case_id, Decimal(0)))
        excess = fr.amount_paid - due - ordered.get(fr.pk, Decimal(0))
        out[fr.pk] = max(excess, Decimal(0))
    return out


# ---------------------------------------------------------------- time limits of a claim


@dataclass(frozen=True)
class TimeLimit:
    kind: str  # the deadline kind
    due_on: dt.date


def _deadline_dues(fr: FundingRequest) -> dict[str, tuple[dt.date, str]]:
    """The latest deadline of each kind on the request: (its current due date, its state)."""
    dues: dict[str, tuple[dt.date, str]] = {}
    rows = (
        Deadline.objects.filter(
            subject_type=ContentType.objects.get_for_model(FundingRequest), subject_id=fr.pk
        )
        .exclude(state=Deadline.State.CANCELLED)
        .order_by("id")
        .values_list("kind", "due_on", "state")
    )
    for kind, due_on, state in rows:
        dues[kind] = (due_on, state)
    return dues


def claim_time_limits(fr: FundingRequest, kind: str) -> list[TimeLimit]:
    """The dates after which a claim of this kind is inadmissible (revised rule 6). Where the
    scheme has no balance period (DETR/DSIL, R2334-29), the completion deadline — its current
    due date, extension included, met or not — bounds every claim. Elsewhere (LEADER) the
    live completion or operation end bounds the claims and the balance period the balance."""
    dues = _deadline_dues(fr)
    live = (Deadline.State.OPEN, Deadline.State.SUSPENDED, Deadline.State.MISSED)
    limits = []
    for deadline_kind in ("works_completion", "operation_end", "balance_claim"):
        if deadline_kind not in dues:
            continue
        due_on, state = dues[deadline_kind]
        if deadline_kind == "works_completion" and fr.scheme.balance_claim_months is None:
            limits.append(TimeLimit(deadline_kind, due_on))
        elif deadline_kind == "balance_claim":
            if kind == PaymentClaim.Kind.BALANCE and state in live:
                limits.append(TimeLimit(deadline_kind, due_on))
        elif state in live:
            limits.append(TimeLimit(deadline_kind, due_on))
    return limits


def claim_too_late(fr: FundingRequest, kind: str, day: dt.date) -> TimeLimit | None:
    """The first time limit ``day`` is after, if any."""
    return next((lim for lim in claim_time_limits(fr, kind) if day > lim.due_on), None)


# ---------------------------------------------------------------- FEADER in step


def feader_cofinancers(fr: FundingRequest) -> list[tuple[FundingRequest, Decimal, Decimal]]:
    """The dossier's other grants as ``(request, paid, amount finally due)``."""
    others = (
        FundingRequest.objects.filter(case_id=fr.case_id, state__in=REQUEST_GRANTED)
        .exclude(pk=fr.pk)
        .select_related("scheme__funder")
        .order_by("scheme__code")
    )
    return [
        (other, other.amount_paid, request_amount_due(other))
        for other in others
        if not other.scheme.is_feader
    ]


def feader_lagging(claim: PaymentClaim, amount: Decimal) -> list[FundingRequest]:
    """The co-financers paid less of their amount finally due than the fraction of its own
    amount due FEADER will have received after paying ``amount`` on ``claim`` (revised rule
    11: a co-financer whose balance was reduced is measured against what it finally owes, so
    it never blocks FEADER for ever). None for a claim that is not FEADER's. The one rule of
    the claim guards, the ``feader_blocked`` alert and the pages."""
    fr = claim.funding_request
    if not fr.scheme.is_feader or not fr.amount_granted:
        return []
    balance = claim if claim.kind == PaymentClaim.Kind.BALANCE else None
    due = request_amount_due(fr, balance=balance)
    if not due:
        return []
    fraction = (fr.amount_paid + amount) / due
    return rules.feader_lagging(fraction, feader_cofinancers(fr))
