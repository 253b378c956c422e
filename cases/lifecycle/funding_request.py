"""The funding request (``FundingRequest``, one per scheme): states and transitions."""

from __future__ import annotations

from decimal import Decimal

from engine.errors import DomainError
from engine.lifecycle import Field, Notice, State
from engine.transitions import SYSTEM, TransitionContext, TransitionSpec, register

from .. import rules
from ..models import Case, FundingRequest, RequestState
from ..programming_year import year_refresh
from ..works_deadlines import lapse_allowed
from .case import follow_up_batch, follow_up_effect
from .common import A, F, P, authorize_request, event_date, not_before_receipt, reason_field, roles
from .receipt import (
    acknowledge_guard,
    declare_complete_guard,
    funders_may_act,
    start_instruction_guard,
)

S = RequestState

STATES = (
    State(
        S.REQUESTED,
        porteur="Votre demande est transmise à son financeur : ses délais courent de sa "
        "réception par ce financeur, puis de sa complétude.",
    ),
    State(S.INSTRUCTING, porteur="Le financeur instruit votre demande."),
    State(
        S.AWAITING_COMMITTEE,
        porteur="Votre projet sera examiné par le comité de programmation LEADER.",
    ),
    State(
        S.SELECTED,
        badge="ok",
        porteur="Le comité a sélectionné votre projet ; la décision d'attribution suit.",
    ),
    State(
        S.ADJOURNED,
        badge="warn",
        porteur="Le comité a ajourné votre projet ; l'instruction reprend.",
    ),
    State(S.REJECTED, badge="danger", terminal=True, porteur="Le comité n'a pas retenu le projet."),
    State(S.GRANTED, badge="ok", porteur="L'aide est accordée ; la convention ou l'arrêté suit."),
    State(S.REFUSED, badge="danger", terminal=True, porteur="L'aide est refusée."),
    State(
        S.COMMITTED,
        badge="ok",
        porteur="L'aide est engagée : vous pouvez demander avance et acomptes.",
    ),
    State(S.PAYING, badge="ok", porteur="Des versements ont eu lieu ; d'autres sont attendus."),
    State(S.PAID, badge="ok", terminal=True, porteur="L'aide est entièrement versée."),
    State(S.WITHDRAWN, badge="danger", terminal=True, porteur="La demande est retirée."),
    State(S.LAPSED, badge="danger", terminal=True, porteur="L'aide est caduque."),
)


def submit_to_committee_guard(ctx: TransitionContext) -> None:
    fr: FundingRequest = ctx.instance
    funders_may_act(fr, "Le dossier doit d'abord avoir été déclaré complet (mis en instruction).")
    score = ctx.data["pre_score"]
    maximum = fr.scheme.grid_max_score
    if maximum and score > maximum:
        raise DomainError(
            f"La pré-notation doit être comprise entre 0 et {maximum}.",
            errors={"pre_score": ["Hors de la grille."]},
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
    funders_may_act(fr, "Le dossier doit d'abord avoir été déclaré complet (mis en instruction).")
    amount = ctx.data["amount_granted"]
    if amount > fr.amount_requested:
        raise DomainError(
            f"Le montant accordé ({rules.euros(amount)}) dépasse le montant demandé "
            f"({rules.euros(fr.amount_requested)}).",
            errors={"amount_granted": ["Supérieur au montant demandé."]},
        )
    not_before_receipt(fr.case, ctx.data["date"], "date de notification")
    fr.amount_granted = amount
    fr.granted_on = ctx.data["date"]
    year_refresh(fr)  # the engine's batch mode writes the columns changed, not ``save``


def refuse_guard(ctx: TransitionContext) -> None:
    ctx.instance.motivation = ctx.data["motivation"]


def commit_guard(ctx: TransitionContext) -> None:
    fr: FundingRequest = ctx.instance
    day = ctx.data["date"]
    if fr.granted_on and day < fr.granted_on:
        raise DomainError(
            f"La signature ({day:%d/%m/%Y}) ne peut précéder la décision "
            f"({fr.granted_on:%d/%m/%Y}).",
            errors={"date": ["Avant la décision."]},
        )
    fr.committed_on = day


def lapse_guard(ctx: TransitionContext) -> None:
    """Revised rule 5: the funder records the lapse once a works deadline is missed."""
    lapse_allowed(ctx.instance, ctx.data["date"])
    ctx.instance.motivation = ctx.data["motivation"]


TRANSITIONS = (
    TransitionSpec(
        "acknowledge",
        roles(A, F),
        "Accuser réception",
        acknowledge_guard,
        event="demande reçue par le financeur",
        fields=(event_date("Date de réception par le financeur"),),
        notice=Notice(
            ("porteurs", "referent"),
            "{fr.scheme.code} : demande reçue par le financeur le {fr.received_on:%d/%m/%Y} "
            "pour {case.reference} ; ses délais légaux courent de cette date.",
        ),
    ),
    TransitionSpec(
        "declare_complete",
        roles(A, F, SYSTEM),
        "Déclarer la demande complète",
        declare_complete_guard,
        event="demande complète pour son financeur",
        fields=(event_date("Date de complétude"),),
        notice=Notice(
            ("porteurs", "referent"),
            "{fr.scheme.code} : demande complète pour {case.reference} ; l'instruction commence.",
        ),
    ),
    TransitionSpec(
        "start_instruction",
        roles(A, F),
        "Engager l'instruction",
        start_instruction_guard,
        event="instruction engagée",
        fields=(event_date("Date d'engagement de l'instruction"),),
    ),
    TransitionSpec(
        "submit_to_committee",
        roles(A),
        "Présenter au comité",
        submit_to_committee_guard,
        event="présentée au comité de programmation LEADER",
        fields=(
            Field(
                "pre_score",
                "Pré-notation (points sur la grille de sélection)",
                "number",
                required=True,
                maximum=Decimal("1000"),
            ),
        ),
    ),
    TransitionSpec(
        "select",
        roles(SYSTEM),
        "Sélectionné par le comité",
        event="sélectionnée par le comité",
        notice=Notice(
            ("porteurs",), "Le comité de programmation LEADER a sélectionné {case.reference}."
        ),
    ),
    TransitionSpec(
        "adjourn",
        roles(SYSTEM),
        "Ajourné par le comité",
        event="ajournée par le comité",
        notice=Notice(("porteurs", "referent"), "Le comité LEADER a ajourné {case.reference}."),
    ),
    TransitionSpec(
        "reject",
        roles(SYSTEM),
        "Rejeté par le comité",
        effect=follow_up_effect,
        batch_effect=follow_up_batch,
        event="rejetée par le comité",
        notice=Notice(
            ("porteurs", "referent"), "Le comité LEADER a rejeté {case.reference}.", email=True
        ),
    ),
    TransitionSpec(
        "resume_instruction", roles(A), "Reprendre l'instruction", event="instruction reprise"
    ),
    TransitionSpec(
        "grant",
        roles(F),
        "Accorder",
        grant_guard,
        follow_up_effect,
        batch_effect=follow_up_batch,
        event="aide accordée",
        fields=(
            Field(
                "amount_granted",
                "Montant accordé",
                "amount",
                required=True,
                hint="En euros, par exemple 12 500,00.",
            ),
            event_date("Date de notification de la décision"),
        ),
        notice=Notice(
            ("porteurs", "referent"),
            "{fr.scheme.code} : aide de {granted} accordée pour {case.reference}.",
            email=True,
        ),
    ),
    TransitionSpec(
        "refuse",
        roles(F),
        "Refuser",
        refuse_guard,
        follow_up_effect,
        batch_effect=follow_up_batch,
        event="aide refusée",
        fields=(
            reason_field("motivation", "Motivation du refus", "Indiquez la motivation du refus."),
            event_date("Date de la décision"),
        ),
        danger=True,
        notice=Notice(
            ("porteurs", "referent"),
            "{fr.scheme.code} : aide refusée pour {case.reference}. Motif : {fr.motivation}",
            email=True,
        ),
    ),
    TransitionSpec(
        "commit",
        roles(F),
        "Engager (convention signée)",
        commit_guard,
        event="convention ou arrêté signé",
        fields=(
            event_date(
                "Date de signature de la convention ou de l'arrêté",
                required=True,
                missing="Indiquez la date de signature.",
            ),
        ),
    ),
    TransitionSpec(
        "start_paying", roles(SYSTEM), "Premier paiement", event="premier versement reçu"
    ),
    TransitionSpec(
        "mark_paid",
        roles(SYSTEM),
        "Aide soldée",
        effect=follow_up_effect,
        batch_effect=follow_up_batch,
        event="aide entièrement versée",
    ),
    TransitionSpec(
        "withdraw",
        roles(P, A, SYSTEM),
        "Retirer la demande",
        effect=follow_up_effect,
        batch_effect=follow_up_batch,
        event="demande retirée",
        fields=(reason_field("reason", "Motif du retrait", "Indiquez le motif du retrait."),),
        danger=True,
    ),
    TransitionSpec(
        "lapse",
        roles(F),
        "Constater la caducité",
        lapse_guard,
        follow_up_effect,
        batch_effect=follow_up_batch,
        event="caducité de l'aide constatée par le financeur",
        fields=(
            event_date(
                "Date à laquelle la caducité est constatée",
                required=True,
                missing="Indiquez la date de la décision.",
            ),
            reason_field("motivation", "Motivation", "Indiquez la motivation de la caducité."),
        ),
        danger=True,
        notice=Notice(
            ("porteurs", "referent"),
            "{fr.scheme.code} : le financeur a constaté la caducité de l'aide pour "
            "{case.reference}. Motif : {fr.motivation}",
            email=True,
        ),
    ),
)

register(
    FundingRequest,
    aggregate=lambda fr: fr.case_id,
    authorize=authorize_request,
    root=Case,
    specs=TRANSITIONS,
    states=STATES,
)
