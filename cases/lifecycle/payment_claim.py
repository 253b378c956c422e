"""Payment claims (``PaymentClaim``): states and transitions. The ceilings and the FEADER
« same fraction » are rules of ``cases.rules``, shared with the alerts and the pages."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from engine.deadlines import deadline_kinds
from engine.errors import DomainError
from engine.lifecycle import Field, Notice, State
from engine.transitions import SYSTEM, TransitionContext, TransitionSpec, register, transition_apply

from .. import payments, rules
from ..models import (
    Case,
    CaseState,
    ClaimState,
    FundingRequest,
    Payment,
    PaymentClaim,
    RecoveryOrder,
    RecoveryState,
    RequestState,
)
from .common import (
    F,
    P,
    authorize_claim,
    authorize_request,
    event_date,
    not_before_receipt,
    reason_field,
    roles,
)

S = ClaimState

STATES = (
    State(S.DRAFT, porteur="Brouillon : déposez la demande quand elle est prête."),
    State(S.FILED, porteur="Demande déposée : le financeur contrôle le service fait."),
    State(
        S.AWAITING_COFINANCERS,
        badge="warn",
        porteur="Le FEADER attend que les cofinanceurs nationaux versent la même part.",
    ),
    State(S.VERIFIED, badge="ok", porteur="Service fait contrôlé : le paiement suit."),
    State(S.PAID, badge="ok", terminal=True, porteur="Payée."),
    State(S.REJECTED, badge="danger", terminal=True, porteur="Demande rejetée."),
    State(S.WITHDRAWN, badge="danger", terminal=True, porteur="Demande retirée."),
)

#: Claims that count against the ceilings (their amount, or what was paid once paid).


def claimed_sums(fr: FundingRequest, *, exclude_pk=None) -> dict[str, Decimal]:
    """What the request's active claims add up to, by kind (paid amount once paid)."""
    sums = {kind: Decimal(0) for kind in PaymentClaim.Kind.values}
    qs = fr.claims.filter(state__in=payments.ACTIVE_CLAIMS)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    for claim in qs.only("kind", "amount", "paid_amount", "state"):
        sums[claim.kind] += claim.paid_amount if claim.state == S.PAID else claim.amount
    return sums


def room_for(fr: FundingRequest, *, exclude_pk=None) -> rules.ClaimRoom:
    sums = claimed_sums(fr, exclude_pk=exclude_pk)
    return rules.claim_room(
        granted=fr.amount_granted or Decimal(0),
        advance_max_rate=fr.scheme.advance_max_rate,
        installments_max_rate=fr.scheme.installments_max_rate,
        claimed=sum(sums.values(), Decimal(0)),
        advances=sums["advance"],
        before_balance=sums["advance"] + sums["installment"],
    )


def file_guard(ctx: TransitionContext) -> None:
    claim: PaymentClaim = ctx.instance
    fr = claim.funding_request
    if fr.state not in (RequestState.COMMITTED, RequestState.PAYING):
        raise DomainError(
            "L'aide doit être engagée (convention ou arrêté signé) avant toute "
            "demande de paiement.",
            code="guard",
        )
    day = ctx.data.get("date") or claim.filed_on or ctx.today
    ctx.data["date"] = day
    not_before_receipt(fr.case, day, "date de la demande de paiement")
    late = payments.claim_too_late(fr, claim.kind, day)
    if late:
        raise DomainError(
            f"Demande irrecevable : déposée le {day:%d/%m/%Y}, après la date limite "
            f"({late.due_on:%d/%m/%Y}, échéance « {deadline_kinds()[late.kind].label} »).",
            code="guard",
            errors={"date": ["Après la date limite."]},
        )
    _ceilings_guard(claim)
    claim.filed_on = day


def _ceilings_guard(claim: PaymentClaim) -> None:
    """The grant, the advances and advance plus installments before the balance
    (``room_for``); a balance closes the claims; the balance's own rule."""
    fr = claim.funding_request
    scheme = fr.scheme
    room = room_for(fr, exclude_pk=claim.pk)
    if claim.kind != PaymentClaim.Kind.BALANCE and claim.amount > room.total:
        raise _over(
            claim,
            "le total demandé atteindrait",
            room.claimed,
            f"au-delà de l'aide accordée ({rules.euros(room.granted)})",
            room.total,
        )
    if claim.kind == PaymentClaim.Kind.ADVANCE:
        if room.advance_cap is None:
            raise DomainError(
                f"Le dispositif {scheme.label} ne prévoit pas d'avance.", code="guard"
            )
        if room.advances + claim.amount > room.advance_cap:
            raise _over(
                claim,
                "les avances atteindraient",
                room.advances,
                f"au-delà du plafond de {rules.euros(room.advance_cap)} "
                f"({rules.percent(scheme.advance_max_rate)} de l'aide accordée)",
                room.advance_cap - room.advances,
            )
    if claim.kind in (PaymentClaim.Kind.ADVANCE, PaymentClaim.Kind.INSTALLMENT):
        if payments.balance_claim(fr, exclude_pk=claim.pk):
            raise DomainError(
                "Le solde de cette aide est déjà demandé : c'est la dernière demande de "
                "paiement, il n'y a plus d'avance ni d'acompte à demander.",
                code="guard",
            )
        if claim.amount > room.installments:
            raise _over(
                claim,
                "avance et acomptes atteindraient",
                room.before_balance,
                f"au-delà de {rules.percent(scheme.installments_max_rate)} de l'aide avant "
                f"le solde ({rules.euros(room.before_balance_cap)})",
                room.installments,
            )
    if claim.kind == PaymentClaim.Kind.BALANCE:
        _balance_guard(claim, room)


def _over(claim: PaymentClaim, reaching: str, already, beyond: str, left) -> DomainError:
    """A ceiling refused, said with the amount typed first, then the cumulative figure it
    would bring and what it adds to (« Avec cette avance de 30 000,00 €, les avances
    atteindraient 54 000,00 € (24 000,00 € déjà demandés), au-delà du plafond de … »)."""
    what = claim.get_kind_display().lower()
    this = {"advance": "cette", "installment": "cet"}.get(claim.kind, "ce")
    left = max(left, Decimal(0))
    if already:
        text = (
            f"Avec {this} {what} de {rules.euros(claim.amount)}, {reaching} "
            f"{rules.euros(already + claim.amount)} ({rules.euros(already)} déjà demandés), "
            f"{beyond}"
        )
    else:  # nothing claimed before: the amount typed is the whole figure
        text = f"{this.capitalize()} {what} de {rules.euros(claim.amount)} irait {beyond}"
    return DomainError(
        f"{text} : {rules.euros(left)} au plus.",
        code="guard",
        errors={"amount": [f"{rules.euros(left)} au plus."]},
    )


def _balance_guard(claim: PaymentClaim, room: rules.ClaimRoom) -> None:
    """One balance at a time, after the completion where the scheme asks it, within the
    amount finally due (on the actual eligible cost) less what was already claimed."""
    fr = claim.funding_request
    if payments.balance_claim(fr, exclude_pk=claim.pk):
        raise DomainError("Une demande de solde est déjà en cours.", code="guard")
    if fr.scheme.balance_requires_completion and fr.case.state != CaseState.COMPLETED:
        raise DomainError(
            "Le solde demande l'achèvement de l'opération (déclarez-le d'abord).", code="guard"
        )
    figures = payments.balance_figures(fr, claim.actual_cost, room.claimed)
    due, ceiling = figures.due, figures.balance
    if claim.amount == 0 and ceiling > 0:
        raise DomainError(
            f"Un solde nul solderait l'aide alors que {rules.euros(ceiling)} restent dus : "
            "demandez ce montant (au plus).",
            code="guard",
            errors={"amount": [f"{rules.euros(ceiling)} au plus, mais pas 0."]},
        )
    if claim.amount <= ceiling:
        return
    if due == room.granted:
        raise DomainError(
            f"Le total demandé ({rules.euros(room.claimed + claim.amount)}) dépasserait l'aide "
            f"accordée ({rules.euros(room.granted)}).",
            code="guard",
        )
    raise DomainError(
        f"Le solde ({rules.euros(claim.amount)}) dépasse ce qui reste dû : "
        f"{rules.euros(ceiling)}, soit le montant finalement dû ({rules.euros(due)} : l'aide "
        f"au prorata du coût éligible réalisé) moins ce qui a déjà été demandé "
        f"({rules.euros(room.claimed)}).",
        code="guard",
        errors={"amount": [f"{rules.euros(ceiling)} au plus."]},
    )


def cofinancers_caught_up(claim: PaymentClaim, amount: Decimal) -> bool:
    return not payments.feader_lagging(claim, amount)


def verify_guard(ctx: TransitionContext) -> None:
    claim: PaymentClaim = ctx.instance
    day = ctx.data["date"]
    if claim.filed_on and day < claim.filed_on:
        raise DomainError(
            "Le contrôle ne peut précéder la demande.", errors={"date": ["Trop tôt."]}
        )
    claim.verified_on = day
    if claim.kind == PaymentClaim.Kind.BALANCE and not claim.amount:
        # A balance of nothing (what was paid covers the amount finally due): settled now;
        # any excess is asked back by a recovery order.
        ctx.data["target"] = ClaimState.PAID
        claim.paid_amount = Decimal(0)
        claim.paid_on = day
    elif cofinancers_caught_up(claim, claim.amount):
        ctx.data["target"] = ClaimState.VERIFIED
    else:
        ctx.data["target"] = ClaimState.AWAITING_COFINANCERS
        claim.awaiting_since = day


def pay_guard(ctx: TransitionContext) -> None:
    claim: PaymentClaim = ctx.instance
    fr = claim.funding_request
    amount, day = ctx.data["amount"], ctx.data["date"]
    if claim.filed_on and day < claim.filed_on:
        raise DomainError(
            "Le paiement ne peut précéder la demande.", errors={"date": ["Trop tôt."]}
        )
    if amount > claim.amount:
        raise DomainError(
            f"Le paiement ({rules.euros(amount)}) dépasse le montant demandé "
            f"({rules.euros(claim.amount)}).",
            errors={"amount": ["Supérieur à la demande."]},
        )
    due = payments.request_amount_due(fr)
    if fr.amount_paid + amount > due:
        what = "l'aide accordée" if due == fr.amount_granted else "le montant finalement dû"
        raise DomainError(f"Le paiement dépasserait {what} ({rules.euros(due)}).", code="guard")
    if not cofinancers_caught_up(claim, amount):
        raise DomainError(
            "Paiement FEADER impossible : les cofinanceurs nationaux n'ont pas encore versé la "
            "même part de leur aide.",
            code="guard",
        )
    claim.paid_amount = amount
    claim.paid_on = day


def pay_effect(ctx: TransitionContext) -> None:
    claim: PaymentClaim = ctx.instance
    amount = claim.paid_amount
    fr = FundingRequest.objects.select_related("scheme").get(pk=claim.funding_request_id)
    Payment.objects.create(
        claim=claim,
        scheme=fr.scheme,
        amount=amount,
        paid_on=claim.paid_on,
        delay_days=(claim.paid_on - claim.filed_on).days if claim.filed_on else 0,
        recorded_by=ctx.actor,
    )
    # In SQL, under the dossier's lock: never a read-then-write of the total.
    FundingRequest.objects.filter(pk=fr.pk).update(amount_paid=models.F("amount_paid") + amount)
    fr.refresh_from_db(fields=["amount_paid"])
    if fr.state == RequestState.COMMITTED:
        transition_apply(
            instance=fr,
            name="start_paying",
            comment="Premier versement.",
            data={"date": claim.paid_on},
        )
    if claim.kind == PaymentClaim.Kind.BALANCE or fr.amount_paid >= fr.amount_granted:
        transition_apply(
            instance=fr,
            name="mark_paid",
            comment="Aide versée en totalité.",
            data={"date": claim.paid_on},
        )
    release_waiting(fr.case_id)


def release_waiting(case_id: int) -> None:
    """FEADER claims waiting for a co-financer that has now paid its share move on."""
    for waiting in PaymentClaim.objects.filter(
        funding_request__case_id=case_id, state=ClaimState.AWAITING_COFINANCERS
    ).select_related("funding_request__scheme"):
        if cofinancers_caught_up(waiting, waiting.amount):
            transition_apply(
                instance=waiting,
                name="release",
                comment="Automatique : les cofinanceurs ont versé leur part.",
            )


def verify_effect(ctx: TransitionContext) -> None:
    """A balance of nothing settles the request at once."""
    claim: PaymentClaim = ctx.instance
    if ctx.target != ClaimState.PAID:
        return
    fr = FundingRequest.objects.get(pk=claim.funding_request_id)
    if fr.state in (RequestState.COMMITTED, RequestState.PAYING):
        transition_apply(
            instance=fr,
            name="mark_paid",
            comment="Solde nul : ce qui a été versé couvre le montant finalement dû.",
            data={"date": claim.paid_on},
        )
    release_waiting(fr.case_id)


def reject_guard(ctx: TransitionContext) -> None:
    ctx.instance.motivation = ctx.data["motivation"]


TRANSITIONS = (
    TransitionSpec(
        "file",
        roles(P),
        "Déposer la demande de paiement",
        file_guard,
        event="demande de paiement déposée",
        fields=(
            Field(
                "date",
                "Date de la demande de paiement",
                "date",
                hint="La date de dépôt, jamais dans le futur.",
            ),
        ),
        notice=Notice(
            ("funder", "referent"),
            "Demande de paiement ({claim_kind}, {claim_amount}) déposée sur {case.reference}.",
        ),
    ),
    TransitionSpec(
        "verify",
        roles(F),
        "Contrôler le service fait",
        verify_guard,
        verify_effect,
        event="service fait contrôlé",
        fields=(event_date("Date du contrôle du service fait"),),
    ),
    TransitionSpec("release", roles(SYSTEM), "Cofinanceurs à jour", event="cofinanceurs à jour"),
    TransitionSpec(
        "pay",
        roles(F),
        "Payer",
        pay_guard,
        pay_effect,
        event="paiement effectué",
        fields=(
            Field(
                "amount",
                "Montant payé",
                "amount",
                required=True,
                hint="En euros, par exemple 12 500,00.",
            ),
            event_date("Date du paiement"),
        ),
        notice=Notice(
            ("porteurs",),
            "{fr.scheme.code} : paiement de {paid} reçu pour {case.reference}.",
            email=True,
        ),
    ),
    TransitionSpec(
        "reject",
        roles(F),
        "Rejeter",
        reject_guard,
        event="demande de paiement rejetée",
        fields=(
            reason_field("motivation", "Motivation du rejet", "Indiquez la motivation du rejet."),
        ),
        danger=True,
        notice=Notice(
            ("porteurs",), "Demande de paiement rejetée sur {case.reference} : {claim.motivation}"
        ),
    ),
    TransitionSpec("withdraw", roles(P, SYSTEM), "Retirer", event="demande de paiement retirée"),
)

register(
    PaymentClaim,
    aggregate=lambda claim: claim.funding_request.case_id,
    authorize=authorize_claim,
    root=Case,
    specs=TRANSITIONS,
    states=STATES,
)


# ---------------------------------------------------------------- recovery orders (rule 6)

R = RecoveryState
RECOVERY_STATES = (
    State(R.DRAFT, porteur="En préparation."),
    State(R.ISSUED, badge="warn", porteur="Ordre de reversement émis : le trop-perçu est dû."),
    State(R.RECOVERED, badge="ok", terminal=True, porteur="Trop-perçu reversé."),
    State(R.CANCELLED, terminal=True, porteur="Ordre de reversement annulé."),
)
#: Where a request may have been paid more than it finally owes.
RECOVERABLE = (RequestState.COMMITTED, RequestState.PAYING, RequestState.PAID)


def issue_guard(ctx: TransitionContext) -> None:
    """Under the dossier's lock: at most what was paid beyond the amount finally due and not
    yet ordered back (``cases.payments.overpaid``)."""
    order: RecoveryOrder = ctx.instance
    fr = FundingRequest.objects.select_related("scheme").get(pk=order.funding_request_id)
    if fr.state not in RECOVERABLE:
        raise DomainError("Aucun versement à reprendre sur cette demande.", code="guard")
    excess = payments.overpaid(fr)
    if order.amount > excess:
        raise DomainError(
            f"Le reversement ({rules.euros(order.amount)}) dépasse le trop-perçu "
            f"({rules.euros(excess)} : versé {rules.euros(fr.amount_paid)}, montant finalement "
            f"dû {rules.euros(payments.request_amount_due(fr))}, déjà demandé en reversement "
            f"{rules.euros(payments.recovery_ordered(fr))}).",
            code="guard",
            errors={"amount": [f"{rules.euros(excess)} au plus."]},
        )


def recover_guard(ctx: TransitionContext) -> None:
    order: RecoveryOrder = ctx.instance
    day = ctx.data["date"]
    if day < order.issued_on:
        raise DomainError(
            "Le reversement ne peut précéder l'ordre.", errors={"date": ["Trop tôt."]}
        )
    order.recovered_on = day


def cancel_guard(ctx: TransitionContext) -> None:
    ctx.instance.motivation = ctx.data["motivation"]


RECOVERY_TRANSITIONS = (
    TransitionSpec(
        "issue",
        roles(F),
        "Émettre l'ordre de reversement",
        issue_guard,
        event="ordre de reversement émis",
    ),
    TransitionSpec(
        "recover",
        roles(F),
        "Constater le reversement",
        recover_guard,
        event="trop-perçu reversé",
        fields=(event_date("Date du reversement"),),
    ),
    TransitionSpec(
        "cancel",
        roles(F),
        "Annuler l'ordre de reversement",
        cancel_guard,
        event="ordre de reversement annulé",
        fields=(reason_field("motivation", "Motif de l'annulation", "Indiquez le motif."),),
        danger=True,
    ),
)

register(
    RecoveryOrder,
    aggregate=lambda order: order.funding_request.case_id,
    authorize=lambda user, order, spec: authorize_request(user, order.funding_request, spec),
    root=Case,
    specs=RECOVERY_TRANSITIONS,
    states=RECOVERY_STATES,
)
