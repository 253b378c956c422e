"""What an organisation waits for: claims filed and unpaid, balances due on completed works,
and the room left on its live grants (``cases.rules.claim_room``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.db.models import Case as SqlCase
from django.db.models import Exists, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from cases.models import (
    CLAIM_UNPAID,
    LIVE_GRANTS,
    CaseState,
    ClaimState,
    FundingRequest,
    Organisation,
    PaymentClaim,
)
from cases.payments import ACTIVE_CLAIMS, DelayBook, Projection, project_claim
from cases.rules import ZERO, ClaimRoom, claim_room

from .common import CHUNK, local_today

# Claims that count as "claimed" (a draft is not claimed yet; rejected/withdrawn no more).
CLAIMED = ACTIVE_CLAIMS


@dataclass(frozen=True)
class ClaimReceivable:
    claim_id: int
    funding_request_id: int
    case_id: int
    reference: str
    scheme: str
    funder: str
    kind: str
    label: str  # « Acompte LEADER »
    amount: Decimal
    state: str
    projection: Projection

    def as_data(self) -> dict:
        return {
            "claim_id": self.claim_id,
            "case_id": self.case_id,
            "reference": self.reference,
            "scheme": self.scheme,
            "kind": self.kind,
            "amount": str(self.amount),
            "filed_on": self.projection.filed_on.isoformat(),
            "expected_delay": self.projection.expected_delay,
            "projected_date": self.projection.projected_on.isoformat(),
        }


@dataclass(frozen=True)
class BalanceReceivable:
    funding_request_id: int
    case_id: int
    reference: str
    scheme: str
    amount: Decimal
    expected_delay: int

    def as_data(self) -> dict:
        return {
            "funding_request_id": self.funding_request_id,
            "case_id": self.case_id,
            "reference": self.reference,
            "scheme": self.scheme,
            "amount": str(self.amount),
            "expected_delay": self.expected_delay,
        }


@dataclass
class Receivables:
    """What an organisation waits for: claims filed and unpaid, balances of completed works
    not yet claimed. ``advance_possible`` / ``installment_possible``: a live grant still
    allows an advance / an installment (for the options shown to the porteur)."""

    claims: list[ClaimReceivable] = field(default_factory=list)
    balances: list[BalanceReceivable] = field(default_factory=list)
    advance_possible: bool = False
    installment_possible: bool = False

    @property
    def claimed(self) -> Decimal:
        return sum((c.amount for c in self.claims), ZERO)

    @property
    def balances_due(self) -> Decimal:
        return sum((b.amount for b in self.balances), ZERO)

    @property
    def total(self) -> Decimal:
        return self.claimed + self.balances_due

    @property
    def last_projected(self) -> dt.date | None:
        return max((c.projection.projected_on for c in self.claims), default=None)


def unpaid_claims() -> models.QuerySet[PaymentClaim]:
    return (
        PaymentClaim.objects.filter(state__in=CLAIM_UNPAID)
        .select_related(
            "funding_request__scheme__funder",
            "funding_request__case__organisation",
        )
        .order_by("pk")
    )


def _paid_or_claimed(kinds: list[str]):
    """Sum of a request's claims of these kinds: paid amount once paid, else the amount."""
    return Coalesce(
        Sum(
            SqlCase(
                When(claims__state=ClaimState.PAID, then="claims__paid_amount"),
                default="claims__amount",
            ),
            filter=Q(claims__kind__in=kinds, claims__state__in=CLAIMED),
        ),
        Value(ZERO),
    )


def live_requests() -> models.QuerySet[FundingRequest]:
    """Live grants with the figures the alerts need, one row per request."""
    balance_claim = PaymentClaim.objects.filter(
        funding_request=OuterRef("pk"), kind=PaymentClaim.Kind.BALANCE, state__in=CLAIMED
    )
    return (
        FundingRequest.objects.filter(state__in=LIVE_GRANTS, amount_granted__gt=0)
        .select_related("scheme__funder", "case__organisation")
        .annotate(
            under_claim=Coalesce(
                Sum("claims__amount", filter=Q(claims__state__in=CLAIM_UNPAID)), Value(ZERO)
            ),
            advances=_paid_or_claimed([PaymentClaim.Kind.ADVANCE]),
            before_balance=_paid_or_claimed(
                [PaymentClaim.Kind.ADVANCE, PaymentClaim.Kind.INSTALLMENT]
            ),
            has_balance=Exists(balance_claim),
        )
        .order_by("pk")
    )


def claim_receivable(claim: PaymentClaim, projection: Projection) -> ClaimReceivable:
    fr = claim.funding_request
    return ClaimReceivable(
        claim_id=claim.pk,
        funding_request_id=fr.pk,
        case_id=fr.case_id,
        reference=fr.case.reference or str(fr.case_id),
        scheme=fr.scheme.code,
        funder=fr.scheme.funder.name,
        kind=claim.kind,
        label=f"{claim.get_kind_display()} {fr.scheme.code}",
        amount=claim.amount,
        state=claim.state,
        projection=projection,
    )


@dataclass(frozen=True)
class GrantFigures:
    room: ClaimRoom
    balance_due: Decimal  # completed works only, else 0


def grant_figures(fr: FundingRequest) -> GrantFigures:
    """What is left to claim on a live grant (``rules.claim_room``, the filing guard's
    rule), from the sums annotated by ``live_requests``."""
    granted = fr.amount_granted or ZERO
    room = claim_room(
        granted=granted,
        advance_max_rate=None if fr.has_balance else fr.scheme.advance_max_rate,
        installments_max_rate=fr.scheme.installments_max_rate,
        claimed=fr.amount_paid + fr.under_claim,
        advances=fr.advances,
        before_balance=fr.before_balance,
    )
    balance_due = ZERO
    if fr.case.state == CaseState.COMPLETED:
        balance_due = max(granted - fr.amount_paid - fr.under_claim, ZERO)
    return GrantFigures(room=room, balance_due=balance_due)


def add_grant(rec: Receivables, fr: FundingRequest, figures: GrantFigures, delays) -> None:
    if figures.balance_due > 0:
        rec.balances.append(
            BalanceReceivable(
                funding_request_id=fr.pk,
                case_id=fr.case_id,
                reference=fr.case.reference or str(fr.case_id),
                scheme=fr.scheme.code,
                amount=figures.balance_due,
                expected_delay=delays(fr.scheme),
            )
        )
    if fr.has_balance:
        return
    if figures.room.advance > 0:
        rec.advance_possible = True
    if figures.room.installments > 0:
        rec.installment_possible = True


def receivables(organisation: Organisation, *, today: dt.date | None = None) -> Receivables:
    """An organisation's receivables: granted amounts claimed and unpaid, plus the balances
    due on completed works (granted − paid − amounts under claim)."""
    today = local_today(today)
    delays = DelayBook(today)
    rec = Receivables()
    claims = unpaid_claims().filter(funding_request__case__organisation_id=organisation.pk)
    for claim in claims.iterator(chunk_size=CHUNK):
        rec.claims.append(
            claim_receivable(
                claim, project_claim(claim, today, delays(claim.funding_request.scheme))
            )
        )
    requests = live_requests().filter(case__organisation_id=organisation.pk)
    for fr in requests.iterator(chunk_size=CHUNK):
        add_grant(rec, fr, grant_figures(fr), delays)
    return rec
