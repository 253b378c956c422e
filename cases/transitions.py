"""Roles, guards and effects of the dossier's state machines, registered with the engine.

Guards validate the transition's input (``ctx.data``), stage field values on the object
and raise ``DomainError`` with a French message. Effects run after the state is saved,
in the same transaction: child objects, automatic follow-up transitions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone

from engine import inputs
from engine.errors import DomainError
from engine.transitions import SYSTEM, TransitionContext, TransitionSpec, register, transition_apply

from . import rules
from .models import (
    REQUEST_GRANTED,
    REQUEST_UNDECIDED,
    Case,
    CaseState,
    ClaimState,
    CommitteeSession,
    FundingRequest,
    Payment,
    PaymentClaim,
    RequestState,
    User,
)
from .services import plan_check

P, A, F = User.Role.PORTEUR, User.Role.AGENT, User.Role.FUNDER_INSTRUCTOR


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


# ---------------------------------------------------------------- input helpers


def parse_date(
    ctx: TransitionContext,
    key: str = "date",
    *,
    required: bool = False,
    default: dt.date | None = None,
    label: str = "date",
) -> dt.date | None:
    """An event date (``engine.inputs``): never in the future. Stored back in ctx.data."""
    day = inputs.parse_date(
        ctx.data.get(key),
        field=key,
        label=label,
        required=required,
        default=default,
        not_future=True,
    )
    ctx.data[key] = day
    return day


def parse_amount(ctx: TransitionContext, key: str, *, label: str) -> Decimal:
    value = inputs.parse_money(ctx.data.get(key), field=key, label=label)
    ctx.data[key] = value
    return value


def require_text(ctx: TransitionContext, key: str, *, label: str) -> str:
    raw = ctx.data.get(key)
    if raw in (None, ""):
        raw = ctx.comment
    text = inputs.parse_text(raw, field=key, label=label, max_length=5000, required=True)
    ctx.data[key] = text
    return text


def not_before_receipt(case: Case, day: dt.date, label: str) -> None:
    if case.receipt_date and day < case.receipt_date:
        raise DomainError(
            f"La {label} ({day:%d/%m/%Y}) ne peut précéder la date de réception du dossier "
            f"({case.receipt_date:%d/%m/%Y}).",
            errors={"date": ["Antérieure à la réception."]},
        )


# ---------------------------------------------------------------- object-level rights


def owns(user, case: Case) -> bool:
    return user.organisation_id is not None and user.organisation_id == case.organisation_id


def authorize_case(user, case: Case, spec: TransitionSpec) -> bool:
    if user.effective_role == P:
        return owns(user, case)
    return True


def authorize_request(user, fr: FundingRequest, spec: TransitionSpec) -> bool:
    role = user.effective_role
    if role == P:
        return owns(user, fr.case)
    if role == F:
        return user.funder_id == fr.scheme.funder_id
    return True


def authorize_claim(user, claim: PaymentClaim, spec: TransitionSpec) -> bool:
    return authorize_request(user, claim.funding_request, spec)


# ---------------------------------------------------------------- dossier


def submit_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    day = parse_date(ctx, default=timezone.localdate(), label="date de réception")
    plan_check(case)
    attached = set(case.documents.values_list("kind", flat=True))
    missing = []
    for res in case.resources.select_related("scheme"):
        if res.scheme is None:
            continue
        for doc in res.scheme.required_documents or []:
            if doc["code"] not in attached:
                missing.append(f"{doc['label']} ({res.scheme.code})")
    if missing:
        raise DomainError(
            "Pièces obligatoires manquantes : " + ", ".join(missing) + ".",
            code="guard",
            errors={"documents": missing},
        )
    case.receipt_date = day


def submit_effect(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    for res in case.resources.filter(kind="scheme").select_related("scheme"):
        FundingRequest.objects.create(case=case, scheme=res.scheme, amount_requested=res.amount)


def request_documents_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    docs = ctx.data.get("documents")
    if isinstance(docs, str):
        docs = [docs]
    if not isinstance(docs, list) or not [d for d in docs if str(d).strip()]:
        raise DomainError(
            "Listez les pièces manquantes.", errors={"documents": ["Au moins une pièce."]}
        )
    day = parse_date(ctx, default=timezone.localdate(), label="date de la demande")
    not_before_receipt(case, day, "date de la demande")
    case.missing_documents = [str(d).strip()[:200] for d in docs if str(d).strip()][:50]
    case.documents_requested_at = timezone.now()


def provide_documents_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    parse_date(ctx, default=timezone.localdate(), label="date de production")
    since = case.documents_requested_at
    if since is None or not case.documents.filter(uploaded_at__gte=since).exists():
        raise DomainError(
            "Joignez au moins une pièce depuis la demande de l'agent avant de la transmettre.",
            code="guard",
            errors={"documents": ["Aucune pièce jointe depuis la demande."]},
        )
    case.missing_documents = []


def declare_complete_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    day = parse_date(ctx, default=timezone.localdate(), label="date de complétude")
    not_before_receipt(case, day, "date de complétude")
    case.complete_on = day


def record_decisions_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    states = list(case.funding_requests.values_list("state", flat=True))
    if not states or any(s in REQUEST_UNDECIDED for s in states):
        raise DomainError("Toutes les demandes ne sont pas encore décidées.", code="guard")
    granted = any(s in REQUEST_GRANTED or s == RequestState.LAPSED for s in states)
    ctx.data["target"] = CaseState.DECIDED if granted else CaseState.REJECTED


def start_works_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    day = parse_date(ctx, required=True, label="date de début des travaux")
    if case.receipt_date and day < case.receipt_date:
        raise DomainError(
            f"Les travaux ne peuvent commencer ({day:%d/%m/%Y}) avant la date de réception du "
            f"dossier ({case.receipt_date:%d/%m/%Y}) : l'opération deviendrait inéligible.",
            code="guard",
            errors={"date": ["Antérieure à la réception."]},
        )
    case.works_start_date = day


def complete_works_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    day = parse_date(ctx, required=True, label="date d'achèvement")
    if case.works_start_date and day < case.works_start_date:
        raise DomainError(
            f"L'achèvement ({day:%d/%m/%Y}) ne peut précéder le début des travaux "
            f"({case.works_start_date:%d/%m/%Y}).",
            errors={"date": ["Avant le début."]},
        )
    case.works_end_date = day


def close_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    if case.funding_requests.filter(
        state__in=[RequestState.GRANTED, RequestState.COMMITTED, RequestState.PAYING]
    ).exists():
        raise DomainError("Des aides accordées ne sont pas encore soldées.", code="guard")


def withdraw_guard(ctx: TransitionContext) -> None:
    ctx.instance.withdraw_reason = require_text(ctx, "reason", label="le motif de l'abandon")


def withdraw_effect(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    for fr in case.funding_requests.exclude(
        state__in=[
            RequestState.REJECTED,
            RequestState.REFUSED,
            RequestState.PAID,
            RequestState.WITHDRAWN,
            RequestState.LAPSED,
            RequestState.PAYING,
        ]
    ):
        transition_apply(instance=fr, name="withdraw", comment="Dossier abandonné.")
    for claim in PaymentClaim.objects.filter(
        funding_request__case=case, state__in=[ClaimState.DRAFT, ClaimState.FILED]
    ):
        transition_apply(instance=claim, name="withdraw", comment="Dossier abandonné.")


def lapse_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    if case.funding_requests.filter(
        state__in=[RequestState.GRANTED, RequestState.COMMITTED, RequestState.PAYING]
    ).exists():
        raise DomainError("Une aide accordée court encore.", code="guard")


register(
    Case,
    aggregate=lambda case: case.pk,
    authorize=authorize_case,
    specs=[
        TransitionSpec("start_scoping", roles(A), "Accompagner en amont"),
        TransitionSpec("open_application", roles(P, A), "Ouvrir la demande"),
        TransitionSpec("submit", roles(P), "Déposer le dossier", submit_guard, submit_effect),
        TransitionSpec(
            "request_documents", roles(A), "Demander des pièces", request_documents_guard
        ),
        TransitionSpec(
            "provide_documents", roles(P), "Transmettre les pièces", provide_documents_guard
        ),
        TransitionSpec(
            "declare_complete", roles(A, SYSTEM), "Déclarer complet", declare_complete_guard
        ),
        TransitionSpec(
            "record_decisions", roles(SYSTEM), "Enregistrer les décisions", record_decisions_guard
        ),
        TransitionSpec(
            "start_works", roles(P, A), "Déclarer le début des travaux", start_works_guard
        ),
        TransitionSpec(
            "complete_works", roles(P, A), "Déclarer l'achèvement", complete_works_guard
        ),
        TransitionSpec("close", roles(SYSTEM), "Solder", close_guard),
        TransitionSpec(
            "withdraw", roles(P, A), "Abandonner", withdraw_guard, withdraw_effect, terminal=True
        ),
        TransitionSpec("lapse", roles(SYSTEM), "Constater la caducité", lapse_guard, terminal=True),
    ],
)


# ---------------------------------------------------------------- derived dossier state


def case_follow_up(case_id: int, *, date=None) -> None:
    """Apply the dossier transitions that follow from its requests (one place only), dated
    like the event that caused them."""
    case = Case.objects.get(pk=case_id)
    data = {"date": date} if date else {}
    states = list(case.funding_requests.values_list("state", flat=True))
    if not states:
        return
    live_grants = [
        s
        for s in states
        if s in (RequestState.GRANTED, RequestState.COMMITTED, RequestState.PAYING)
    ]
    if case.state == CaseState.INSTRUCTION and not any(s in REQUEST_UNDECIDED for s in states):
        transition_apply(
            instance=case,
            name="record_decisions",
            data=data,
            comment="Automatique : toutes les demandes sont décidées.",
        )
    elif case.state == CaseState.COMPLETED and not live_grants:
        transition_apply(
            instance=case,
            name="close",
            data=data,
            comment="Automatique : toutes les aides accordées sont versées.",
        )
    elif (
        case.state == CaseState.DECIDED
        and not live_grants
        and RequestState.LAPSED in states
        and RequestState.PAID not in states
    ):
        transition_apply(
            instance=case,
            name="lapse",
            data=data,
            comment="Automatique : délai de commencement des travaux dépassé.",
        )


def follow_up_effect(ctx: TransitionContext) -> None:
    case_follow_up(ctx.instance.case_id, date=ctx.data.get("date"))


# ---------------------------------------------------------------- funding requests


def start_instruction_guard(ctx: TransitionContext) -> None:
    fr: FundingRequest = ctx.instance
    if fr.case.state != CaseState.INSTRUCTION:
        raise DomainError("Le dossier doit d'abord être déclaré complet.", code="guard")


def submit_to_committee_guard(ctx: TransitionContext) -> None:
    fr: FundingRequest = ctx.instance
    if fr.case.state != CaseState.INSTRUCTION:
        raise DomainError("Le dossier doit être en instruction (complet).", code="guard")
    maximum = fr.scheme.grid_max_score
    score = inputs.parse_decimal(
        ctx.data.get("pre_score"),
        field="pre_score",
        label="la pré-notation du projet",
        maximum=maximum or inputs.MONEY_MAX,
    )
    minimum = fr.scheme.grid_min_score or Decimal(0)
    if score < minimum:
        raise DomainError(
            f"Pré-notation insuffisante : {score} points pour un minimum de {minimum} sur la "
            f"grille de sélection ; le projet ne peut être présenté au comité.",
            code="guard",
            errors={"pre_score": ["Sous le minimum de la grille."]},
        )
    fr.pre_score = score


def grant_guard(ctx: TransitionContext) -> None:
    fr: FundingRequest = ctx.instance
    if fr.case.state != CaseState.INSTRUCTION:
        raise DomainError("Le dossier n'est pas en instruction.", code="guard")
    amount = parse_amount(ctx, "amount_granted", label="montant accordé")
    if amount > fr.amount_requested:
        raise DomainError(
            f"Le montant accordé ({rules.euros(amount)}) dépasse le montant demandé "
            f"({rules.euros(fr.amount_requested)}).",
            errors={"amount_granted": ["Supérieur au montant demandé."]},
        )
    day = parse_date(ctx, default=timezone.localdate(), label="date de notification")
    not_before_receipt(fr.case, day, "date de notification")
    fr.amount_granted = amount
    fr.granted_on = day


def refuse_guard(ctx: TransitionContext) -> None:
    fr: FundingRequest = ctx.instance
    fr.motivation = require_text(ctx, "motivation", label="la motivation du refus")
    parse_date(ctx, default=timezone.localdate(), label="date de la décision")


def commit_guard(ctx: TransitionContext) -> None:
    fr: FundingRequest = ctx.instance
    day = parse_date(ctx, required=True, label="date de signature")
    if fr.granted_on and day < fr.granted_on:
        raise DomainError(
            f"La signature ({day:%d/%m/%Y}) ne peut précéder la décision "
            f"({fr.granted_on:%d/%m/%Y}).",
            errors={"date": ["Avant la décision."]},
        )
    fr.committed_on = day


def fr_withdraw_guard(ctx: TransitionContext) -> None:
    if ctx.actor is not None:
        require_text(ctx, "reason", label="le motif du retrait")


register(
    FundingRequest,
    aggregate=lambda fr: fr.case_id,
    root=Case,
    authorize=authorize_request,
    specs=[
        TransitionSpec(
            "start_instruction", roles(A, F), "Engager l'instruction", start_instruction_guard
        ),
        TransitionSpec(
            "submit_to_committee", roles(A), "Présenter au comité", submit_to_committee_guard
        ),
        TransitionSpec("select", roles(SYSTEM), "Sélectionné par le comité"),
        TransitionSpec("adjourn", roles(SYSTEM), "Ajourné par le comité"),
        TransitionSpec("reject", roles(SYSTEM), "Rejeté par le comité", effect=follow_up_effect),
        TransitionSpec("resume_instruction", roles(A), "Reprendre l'instruction"),
        TransitionSpec("grant", roles(F), "Accorder", grant_guard, follow_up_effect),
        TransitionSpec("refuse", roles(F), "Refuser", refuse_guard, follow_up_effect),
        TransitionSpec("commit", roles(F), "Engager (convention signée)", commit_guard),
        TransitionSpec("start_paying", roles(SYSTEM), "Premier paiement"),
        TransitionSpec("mark_paid", roles(SYSTEM), "Aide soldée", effect=follow_up_effect),
        TransitionSpec(
            "withdraw",
            roles(P, A, SYSTEM),
            "Retirer la demande",
            fr_withdraw_guard,
            follow_up_effect,
        ),
        TransitionSpec("lapse", roles(SYSTEM), "Caducité", effect=follow_up_effect),
    ],
)


# ---------------------------------------------------------------- payment claims

ACTIVE_CLAIMS = [
    ClaimState.FILED,
    ClaimState.AWAITING_COFINANCERS,
    ClaimState.VERIFIED,
    ClaimState.PAID,
]


def _claimed(fr: FundingRequest, *, exclude_pk=None, kinds=None) -> Decimal:
    qs = fr.claims.filter(state__in=ACTIVE_CLAIMS)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    total = Decimal(0)
    for claim in qs.only("amount", "paid_amount", "state"):
        total += claim.paid_amount if claim.state == ClaimState.PAID else claim.amount
    return total


def file_guard(ctx: TransitionContext) -> None:
    claim: PaymentClaim = ctx.instance
    fr = claim.funding_request
    scheme = fr.scheme
    if fr.state not in (RequestState.COMMITTED, RequestState.PAYING):
        raise DomainError(
            "L'aide doit être engagée (convention ou arrêté signé) avant toute "
            "demande de paiement.",
            code="guard",
        )
    day = parse_date(
        ctx, default=claim.filed_on or timezone.localdate(), label="date de la demande de paiement"
    )
    not_before_receipt(fr.case, day, "date de la demande de paiement")
    granted = fr.amount_granted or Decimal(0)
    for late_kind in ("works_completion", "operation_end", "balance_claim"):
        limit = _deadline_due(fr, late_kind)
        if limit and day > limit and (late_kind != "balance_claim" or claim.kind == "balance"):
            raise DomainError(
                f"Demande irrecevable : déposée le {day:%d/%m/%Y}, après la date limite "
                f"({limit:%d/%m/%Y}, échéance « {late_kind} »).",
                code="guard",
                errors={"date": ["Après la date limite."]},
            )
    already = _claimed(fr, exclude_pk=claim.pk)
    if already + claim.amount > granted:
        raise DomainError(
            f"Le total demandé ({rules.euros(already + claim.amount)}) dépasserait l'aide "
            f"accordée ({rules.euros(granted)}).",
            code="guard",
        )
    if claim.kind == PaymentClaim.Kind.ADVANCE:
        if scheme.advance_max_rate is None:
            raise DomainError(f"Le dispositif {scheme.code} ne prévoit pas d'avance.", code="guard")
        advances = _claimed(fr, exclude_pk=claim.pk, kinds=["advance"]) + claim.amount
        cap = rules.money(granted * scheme.advance_max_rate)
        if advances > cap:
            raise DomainError(
                f"L'avance ({rules.euros(advances)}) dépasse {rules.percent(scheme.advance_max_rate)}"
                f" de l'aide accordée ({rules.euros(cap)} au plus).",
                code="guard",
            )
    if claim.kind in (PaymentClaim.Kind.ADVANCE, PaymentClaim.Kind.INSTALLMENT):
        before_balance = (
            _claimed(fr, exclude_pk=claim.pk, kinds=["advance", "installment"]) + claim.amount
        )
        cap = rules.money(granted * scheme.installments_max_rate)
        if before_balance > cap:
            raise DomainError(
                f"Avance et acomptes ({rules.euros(before_balance)}) dépasseraient "
                f"{rules.percent(scheme.installments_max_rate)} de l'aide avant le solde "
                f"({rules.euros(cap)} au plus).",
                code="guard",
            )
    if claim.kind == PaymentClaim.Kind.BALANCE:
        if fr.claims.filter(kind="balance", state__in=ACTIVE_CLAIMS).exclude(pk=claim.pk).exists():
            raise DomainError("Une demande de solde est déjà en cours.", code="guard")
        if scheme.balance_requires_completion and fr.case.state != CaseState.COMPLETED:
            raise DomainError(
                "Le solde demande l'achèvement de l'opération (déclarez-le d'abord).", code="guard"
            )
    claim.filed_on = day


def _deadline_due(fr: FundingRequest, kind: str):
    from django.contrib.contenttypes.models import ContentType

    from engine.models import Deadline

    return (
        Deadline.objects.filter(
            subject_type=ContentType.objects.get_for_model(FundingRequest),
            subject_id=fr.pk,
            kind=kind,
        )
        .exclude(state__in=[Deadline.State.CANCELLED, Deadline.State.MET])
        .order_by("-id")
        .values_list("due_on", flat=True)
        .first()
    )


def cofinancers_caught_up(claim: PaymentClaim, amount: Decimal) -> bool:
    """FEADER follows its national match: every other grant of the dossier must have been
    paid at least the fraction FEADER will have received after this payment."""
    fr = claim.funding_request
    if not fr.scheme.is_feader or not fr.amount_granted:
        return True
    fraction = (fr.amount_paid + amount) / fr.amount_granted
    others = (
        FundingRequest.objects.filter(case_id=fr.case_id, state__in=REQUEST_GRANTED)
        .exclude(pk=fr.pk)
        .select_related("scheme")
    )
    for other in others:
        if other.scheme.is_feader or not other.amount_granted:
            continue
        if other.amount_paid / other.amount_granted < fraction:
            return False
    return True


def verify_guard(ctx: TransitionContext) -> None:
    claim: PaymentClaim = ctx.instance
    day = parse_date(ctx, default=timezone.localdate(), label="date du contrôle")
    if claim.filed_on and day < claim.filed_on:
        raise DomainError(
            "Le contrôle ne peut précéder la demande.", errors={"date": ["Trop tôt."]}
        )
    claim.verified_on = day
    if cofinancers_caught_up(claim, claim.amount):
        ctx.data["target"] = ClaimState.VERIFIED
    else:
        ctx.data["target"] = ClaimState.AWAITING_COFINANCERS
        claim.awaiting_since = day


def pay_guard(ctx: TransitionContext) -> None:
    claim: PaymentClaim = ctx.instance
    fr = claim.funding_request
    amount = parse_amount(ctx, "amount", label="montant payé")
    day = parse_date(ctx, default=timezone.localdate(), label="date de paiement")
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
    if fr.amount_paid + amount > (fr.amount_granted or 0):
        raise DomainError("Le paiement dépasserait l'aide accordée.", code="guard")
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
    # FEADER claims waiting for this co-financer may move on now.
    for waiting in PaymentClaim.objects.filter(
        funding_request__case_id=fr.case_id, state=ClaimState.AWAITING_COFINANCERS
    ).select_related("funding_request__scheme"):
        if cofinancers_caught_up(waiting, waiting.amount):
            transition_apply(
                instance=waiting,
                name="release",
                comment="Automatique : les cofinanceurs ont versé leur part.",
            )


def reject_claim_guard(ctx: TransitionContext) -> None:
    ctx.instance.motivation = require_text(ctx, "motivation", label="la motivation du rejet")


register(
    PaymentClaim,
    aggregate=lambda claim: claim.funding_request.case_id,
    root=Case,
    authorize=authorize_claim,
    specs=[
        TransitionSpec("file", roles(P), "Déposer la demande de paiement", file_guard),
        TransitionSpec("verify", roles(F), "Contrôler le service fait", verify_guard),
        TransitionSpec("release", roles(SYSTEM), "Cofinanceurs à jour"),
        TransitionSpec("pay", roles(F), "Payer", pay_guard, pay_effect),
        TransitionSpec("reject", roles(F), "Rejeter", reject_claim_guard),
        TransitionSpec("withdraw", roles(P, SYSTEM), "Retirer"),
    ],
)


# ---------------------------------------------------------------- committee sessions


def session_close_guard(ctx: TransitionContext) -> None:
    from .committee import session_outcomes

    session: CommitteeSession = ctx.instance
    outcomes = session_outcomes(session)
    if outcomes.problems:
        raise DomainError(
            "Le comité ne peut pas délibérer valablement : " + " ".join(outcomes.problems),
            code="guard",
            errors={"committee": outcomes.problems},
        )
    ctx.data["outcomes"] = outcomes


def session_close_effect(ctx: TransitionContext) -> None:
    from .committee import session_apply_outcomes

    session: CommitteeSession = ctx.instance
    from .committee import committee_size

    session.closed_at = timezone.now()
    session.committee_size = committee_size(session)
    CommitteeSession.objects.filter(pk=session.pk).update(
        closed_at=session.closed_at, committee_size=session.committee_size
    )
    session_apply_outcomes(session, ctx.data.pop("outcomes"))


register(
    CommitteeSession,
    aggregate=lambda session: None,
    specs=[
        TransitionSpec(
            "close", roles(A), "Clore la séance", session_close_guard, session_close_effect
        ),
    ],
)

__all__ = ["case_follow_up", "cofinancers_caught_up", "Q"]
