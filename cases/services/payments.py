"""Payment claims on a funding request."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from engine import inputs
from engine.errors import DomainError
from engine.outbox import event_emit
from engine.transitions import transition_apply

from ..models import FundingRequest, PaymentClaim, RecoveryOrder, RequestState
from ..permissions import require
from .common import R


def claim_create(*, actor, funding_request: FundingRequest, data: dict) -> PaymentClaim:
    require(actor, "claim_create")
    if actor.effective_role == R.PORTEUR and (
        funding_request.case.organisation_id != actor.organisation_id
    ):
        raise DomainError("Demande de financement introuvable.", code="not_found")
    kind = inputs.parse_choice(
        data.get("kind"), field="kind", label="le type de demande", choices=PaymentClaim.Kind.values
    )
    balance = kind == PaymentClaim.Kind.BALANCE
    # A balance may be nil: what was paid already covers the amount finally due.
    amount = inputs.parse_money(
        data.get("amount"), field="amount", label="montant demandé", allow_zero=balance
    )
    actual_cost = inputs.parse_money(
        data.get("actual_cost"), field="actual_cost", label="coût éligible réalisé", required=False
    )
    if actual_cost is not None and not balance:
        raise DomainError(
            "Le coût éligible réalisé se déclare avec la demande de solde.",
            errors={"actual_cost": ["Réservé au solde."]},
        )
    filed_on = inputs.parse_date(
        data.get("filed_on"), field="filed_on", label="date de dépôt", not_future=True
    )
    if funding_request.state not in (RequestState.COMMITTED, RequestState.PAYING):
        raise DomainError(
            "L'aide doit être engagée avant toute demande de paiement.", code="unavailable"
        )
    claim = PaymentClaim.objects.create(
        funding_request=funding_request,
        kind=kind,
        amount=amount,
        actual_cost=actual_cost,
        filed_on=filed_on,
        created_by=actor,
    )
    event_emit(
        topic="paymentclaim.created",
        subject=claim,
        aggregate_id=funding_request.case_id,
        actor_id=actor.pk,
    )
    return claim


def claim_create_filed(*, actor, funding_request: FundingRequest, data: dict) -> PaymentClaim:
    """A payment claim created and filed at once: if the filing is refused (a ceiling, a
    late claim…), nothing is kept — no draft is left behind — and the ``DomainError`` of
    the guard says why (the form is shown again as typed)."""
    with transaction.atomic():
        claim = claim_create(actor=actor, funding_request=funding_request, data=data)
        claim = PaymentClaim.objects.select_related(
            "funding_request__case", "funding_request__scheme"
        ).get(pk=claim.pk)
        return transition_apply(instance=claim, name="file", actor=actor)


def recovery_order_issue(*, actor, funding_request: FundingRequest, data: dict) -> RecoveryOrder:
    """A recovery order (reversement) for what the request was paid beyond its amount
    finally due: created and issued in one transaction by the funder's instructor (the
    engine checks the role, locks the dossier and checks the overpayment under the lock)."""
    amount = inputs.parse_money(data.get("amount"), field="amount", label="montant à reverser")
    issued_on = (
        inputs.parse_date(
            data.get("date"), field="date", label="date de l'ordre", not_future=True, required=False
        )
        or timezone.localdate()
    )
    reason = inputs.parse_text(
        data.get("reason"), field="reason", label="le motif", max_length=5000, required=True
    )
    with transaction.atomic():
        order = RecoveryOrder.objects.create(
            funding_request=funding_request,
            amount=amount,
            issued_on=issued_on,
            reason=reason,
            created_by=actor,
        )
        transition_apply(instance=order, name="issue", actor=actor, comment=reason)
    return order
