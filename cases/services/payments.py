"""Payment claims on a funding request."""

from __future__ import annotations

from engine import inputs
from engine.errors import DomainError
from engine.outbox import event_emit

from ..models import FundingRequest, PaymentClaim, RequestState
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
    amount = inputs.parse_money(data.get("amount"), field="amount", label="montant demandé")
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
