"""The dossier (``Case``): its states and transitions, declared once."""

# size: the dossier's one state machine: its states, transitions, guards, effects and the follow-up rule, one descriptor module (one place per state and transition)
from __future__ import annotations

from django.utils import timezone
from django_fsm import can_proceed

from engine.errors import DomainError
from engine.lifecycle import Field, Notice, State
from engine.transitions import SYSTEM, TransitionContext, TransitionSpec, register, transition_apply

from .. import legal_track, rules
from ..calls import call_window_problem
from ..models import (
    LIVE_GRANTS,
    REQUEST_GRANTED,
    REQUEST_UNDECIDED,
    Case,
    CaseState,
    ClaimState,
    FundingRequest,
    PaymentClaim,
    RequestState,
)
from ..services import plan_check
from .common import A, P, authorize_case, event_date, not_before_receipt, reason_field, roles
from .works import start_works_effect, start_works_guard

S = CaseState

STATES = (
    State(
        S.IDEA,
        porteur="Votre idée est enregistrée. Ouvrez la demande pour saisir le dossier, ou "
        "attendez le rendez-vous d'accompagnement avec le PETR.",
    ),
    State(
        S.SCOPING,
        porteur="Le PETR vous accompagne pour préciser le projet. Ouvrez la demande quand le "
        "projet est prêt.",
    ),
    State(
        S.DRAFT,
        porteur="Complétez le dossier (projet, plan de financement, dispositifs, pièces) puis "
        "déposez-le.",
    ),
    State(
        S.SUBMITTED,
        porteur="Le PETR vérifie que le dossier est complet et l'a transmis à chaque "
        "financeur : les délais de chaque financeur courent de sa propre réception.",
    ),
    State(
        S.INCOMPLETE,
        badge="warn",
        porteur="Des pièces vous sont demandées : joignez-les puis transmettez-les. Le délai "
        "d'instruction est suspendu en attendant.",
    ),
    State(
        S.INSTRUCTION,
        porteur="Le dossier est complet : chaque financeur instruit sa demande et vous "
        "notifiera sa décision.",
    ),
    State(
        S.DECIDED,
        badge="ok",
        porteur="Au moins une aide est accordée. Déclarez le début des travaux dès qu'ils "
        "commencent (jamais avant la date de réception).",
    ),
    State(
        S.IN_PROGRESS,
        badge="ok",
        porteur="Les travaux sont en cours. Demandez avance ou acomptes sur les aides "
        "engagées, puis déclarez l'achèvement.",
    ),
    State(
        S.COMPLETED,
        badge="ok",
        porteur="Les travaux sont achevés : déposez les demandes de solde avant les dates limites.",
    ),
    State(
        S.CLOSED,
        badge="ok",
        terminal=True,
        porteur="Toutes les aides accordées sont versées. Le dossier est soldé.",
    ),
    State(
        S.REJECTED,
        badge="danger",
        terminal=True,
        porteur="Aucune aide n'a été accordée. Votre agent référent peut vous orienter vers "
        "d'autres financements.",
    ),
    State(S.WITHDRAWN, badge="danger", terminal=True, porteur="Vous avez abandonné ce dossier."),
    State(
        S.LAPSED,
        badge="danger",
        terminal=True,
        porteur="Le financeur a constaté la caducité de l'aide (délai des travaux dépassé).",
    ),
)


# ---------------------------------------------------------------- guards and effects


def submit_guard(ctx: TransitionContext) -> None:
    """Every reason at once (issue 12, point 6): the plan's broken rules and the missing
    pieces in one refusal, ``errors`` keyed ``financing_plan`` and ``documents`` (the
    codes of the missing pieces in ``missing_documents``)."""
    case: Case = ctx.instance
    problems, messages = {}, []
    try:
        plan_check(case)
    except DomainError as exc:
        problems.update(exc.errors)
        messages.append(exc.message)
    required = rules.required_documents(
        [r.scheme for r in case.resources.select_related("scheme") if r.scheme],
        case.documents.only("kind"),
    )
    missing = [r for r in required if r.missing]
    if missing:
        names = [f"{r.label} ({', '.join(r.schemes)})" for r in missing]
        problems["documents"] = names
        problems["missing_documents"] = [r.code for r in missing]
        messages.append("Pièces obligatoires manquantes : " + ", ".join(names) + ".")
    call_problem = call_window_problem(case.call, ctx.data["date"])
    if call_problem:
        problems["call"] = [call_problem]
        messages.append(call_problem)
    if problems:
        raise DomainError(" ".join(messages), code="guard", errors=problems)
    case.receipt_date = ctx.data["date"]


def submit_effect(ctx: TransitionContext) -> None:
    """One request per scheme, sent to its funder on the desk's receipt (revised rule 1):
    for a scheme the desk instructs, the desk's receipt is the funder's."""
    case: Case = ctx.instance
    day = case.receipt_date
    for res in case.resources.filter(kind="scheme").select_related("scheme"):
        scheme = res.scheme
        desk = scheme.desk_instructs
        FundingRequest.objects.create(
            case=case,
            scheme=scheme,
            amount_requested=res.amount,
            sent_on=day,
            received_on=day if desk else None,
            eligibility_start=day if desk or scheme.eligibility_from == "filing" else None,
        )


def request_documents_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    if not ctx.data["documents"]:
        raise DomainError(
            "Listez les pièces manquantes.", errors={"documents": ["Au moins une pièce."]}
        )
    not_before_receipt(case, ctx.data["date"], "date de la demande")
    case.missing_documents = ctx.data["documents"]
    case.documents_requested_at = timezone.now()
    case.documents_requested_from = ctx.source


def provide_documents_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    since = case.documents_requested_at
    if since is None or not case.documents.filter(uploaded_at__gte=since).exists():
        raise DomainError(
            "Joignez au moins une pièce depuis la demande de l'agent avant de la transmettre.",
            code="guard",
            errors={"documents": ["Aucune pièce jointe depuis la demande."]},
        )
    case.missing_documents = []


def provide_documents_effect(ctx: TransitionContext) -> None:
    """Back in instruction, the decisions taken or withdrawals made meanwhile count."""
    if ctx.target == CaseState.INSTRUCTION:
        case_follow_up(ctx.instance.pk, date=ctx.data.get("date"))


def declare_complete_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    not_before_receipt(case, ctx.data["date"], "date de complétude")
    case.complete_on = ctx.data["date"]


def declare_complete_effect(ctx: TransitionContext) -> None:
    """The desk's check declares complete the requests the desk instructs (LEADER); the
    other funders declare their own (``fundingrequest.declare_complete``)."""
    ctx.instance.funding_requests.filter(
        state=RequestState.REQUESTED, scheme__desk_instructs=True, complete_on__isnull=True
    ).update(complete_on=ctx.data["date"])


def record_decisions_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    states = list(case.funding_requests.values_list("state", flat=True))
    if not states or any(s in REQUEST_UNDECIDED for s in states):
        raise DomainError("Toutes les demandes ne sont pas encore décidées.", code="guard")
    granted = any(s in REQUEST_GRANTED or s == RequestState.LAPSED for s in states)
    ctx.data["target"] = CaseState.DECIDED if granted else CaseState.REJECTED


def complete_works_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    day = ctx.data["date"]
    if case.works_start_date and day < case.works_start_date:
        raise DomainError(
            f"L'achèvement ({day:%d/%m/%Y}) ne peut précéder le début des travaux "
            f"({case.works_start_date:%d/%m/%Y}).",
            errors={"date": ["Avant le début."]},
        )
    case.works_end_date = day


#: A dossier in works whose requests all end without aid is refused (revised rule 4).
WORKS_STATES = (CaseState.IN_PROGRESS, CaseState.COMPLETED)


def close_guard(ctx: TransitionContext) -> None:
    case: Case = ctx.instance
    if case.funding_requests.filter(state__in=LIVE_GRANTS).exists():
        raise DomainError("Des aides accordées ne sont pas encore soldées.", code="guard")


def withdraw_guard(ctx: TransitionContext) -> None:
    ctx.instance.withdraw_reason = ctx.data["reason"]


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
    if case.funding_requests.filter(state__in=LIVE_GRANTS).exists():
        raise DomainError("Une aide accordée court encore.", code="guard")


TRANSITIONS = (
    TransitionSpec(
        "start_scoping",
        roles(A),
        "Accompagner en amont",
        event="Accompagnement amont engagé par le PETR",
    ),
    TransitionSpec(
        "open_application",
        roles(P, A),
        "Ouvrir la demande",
        event="Demande ouverte",
        porteur_action=True,
    ),
    TransitionSpec(
        "submit",
        roles(P),
        "Déposer le dossier",
        submit_guard,
        submit_effect,
        event="Dossier déposé (date de réception)",
        fields=(event_date("Date de réception"),),
        notice=Notice(
            ("porteurs", "referent"),
            "Dossier {case.reference} « {case.title} » déposé ; date de réception : {receipt}.",
            email=True,
        ),
    ),
    TransitionSpec(
        "request_documents",
        roles(A),
        "Demander des pièces",
        request_documents_guard,
        event="Pièces complémentaires demandées",
        fields=(
            Field(
                "documents",
                "Pièces manquantes",
                "documents",
                required=True,
                hint="Cochez les pièces obligatoires manquantes ou ajoutez-en, une par ligne.",
                missing="Listez les pièces manquantes.",
            ),
            event_date("Date de la demande"),
        ),
        notice=Notice(
            ("porteurs",),
            "Pièces demandées pour le dossier {case.reference} : {documents}.",
            email=True,
        ),
    ),
    TransitionSpec(
        "provide_documents",
        roles(P),
        "Transmettre les pièces",
        provide_documents_guard,
        provide_documents_effect,
        event="Pièces complémentaires transmises",
        fields=(event_date("Date de production des pièces"),),
        notice=Notice(
            ("referent",), "Le porteur a transmis des pièces pour le dossier {case.reference}."
        ),
    ),
    TransitionSpec(
        "declare_complete",
        roles(A),
        "Déclarer complet",
        declare_complete_guard,
        declare_complete_effect,
        event="Dossier déclaré complet",
        fields=(event_date("Date de complétude"),),
        notice=Notice(
            ("porteurs",), "Le dossier {case.reference} est complet ; l'instruction commence."
        ),
    ),
    TransitionSpec(
        "record_decisions",
        roles(SYSTEM),
        "Enregistrer les décisions",
        record_decisions_guard,
        event="Décisions des financeurs enregistrées",
        notice=Notice(
            ("porteurs", "referent"), "Toutes les décisions sont rendues sur {case.reference}."
        ),
    ),
    TransitionSpec(
        "start_works",
        roles(P, A),
        "Déclarer le début des travaux",
        start_works_guard,
        start_works_effect,
        event="Début des travaux déclaré",
        fields=(
            event_date("Date de début des travaux", required=True),
            Field(
                "confirm",
                "Je confirme : les demandes nommées deviennent inéligibles et sont retirées",
                "bool",
                hint="Le premier engagement juridique (devis signé, bon de commande), pas le "
                "chantier. Commencer avant une décision se fait à vos risques.",
            ),
        ),
        notice=Notice(
            ("porteurs", "referent"),
            "Début des travaux du dossier {case.reference} enregistré au "
            "{case.works_start_date:%d/%m/%Y}. Commencer avant la décision d'un financeur se "
            "fait à vos risques : l'aide peut encore être refusée.",
        ),
        porteur_action=True,
    ),
    TransitionSpec(
        "complete_works",
        roles(P, A),
        "Déclarer l'achèvement des travaux",
        complete_works_guard,
        event="Achèvement des travaux déclaré",
        fields=(event_date("Date d'achèvement des travaux", required=True),),
        porteur_action=True,
    ),
    TransitionSpec(
        "reject",
        roles(SYSTEM),
        "Constater qu'aucune aide ne reste",
        event="Aucune aide accordée : dossier refusé",
        notice=Notice(
            ("porteurs", "referent"),
            "Aucune aide ne reste sur le dossier {case.reference} : il est refusé.",
            email=True,
        ),
    ),
    TransitionSpec(
        "close",
        roles(SYSTEM),
        "Solder",
        close_guard,
        event="Dossier soldé",
        notice=Notice(("porteurs", "referent"), "Le dossier {case.reference} est soldé."),
    ),
    TransitionSpec(
        "withdraw",
        roles(P, A),
        "Abandonner le dossier",
        withdraw_guard,
        withdraw_effect,
        terminal=True,
        event="Dossier abandonné",
        fields=(reason_field("reason", "Motif de l'abandon", "Indiquez le motif de l'abandon."),),
        danger=True,
        porteur_action=True,
    ),
    TransitionSpec(
        "lapse",
        roles(SYSTEM),
        "Constater la caducité",
        lapse_guard,
        terminal=True,
        event="Dossier devenu caduc",
        notice=Notice(
            ("porteurs", "referent"),
            "Le dossier {case.reference} est caduc : plus aucune aide n'y est en cours.",
            email=True,
        ),
    ),
)

register(
    Case,
    aggregate=lambda case: case.pk,
    authorize=authorize_case,
    specs=TRANSITIONS,
    states=STATES,
)


# ---------------------------------------------------------------- derived dossier state


#: The automatic dossier transitions, with the comment their history carries.
FOLLOW_UPS = {
    "record_decisions": "Automatique : toutes les demandes sont décidées.",
    "reject": "Automatique : aucune demande ne reste en cours ni accordée.",
    "close": "Automatique : toutes les aides accordées sont versées.",
    "lapse": "Automatique : plus aucune aide en cours, caducité constatée par le financeur.",
}


def follow_up_name(case: Case, states: list[str]) -> str | None:
    """The dossier transition that follows from its requests' states, if any (one place
    for the rule: one dossier or a batch)."""
    if not states:
        return None
    live_grants = [s for s in states if s in LIVE_GRANTS]
    if case.state == CaseState.INSTRUCTION and not any(s in REQUEST_UNDECIDED for s in states):
        return "record_decisions"
    if case.state in WORKS_STATES and legal_track.no_aid_left(states):
        return "reject"
    if case.state == CaseState.COMPLETED and not live_grants:
        return "close"
    if lapses(case, states):
        return "lapse"
    return None


def case_follow_up(case_id: int, *, date=None) -> None:
    """Apply the dossier transition that follows from its requests (one place only), dated
    like the event that caused them."""
    cases_follow_up({case_id: date})


def cases_follow_up(dates: dict) -> None:
    """``case_follow_up`` of several dossiers (id → the date of the event), read in two
    queries and applied through the engine's batch mode, one batch per transition (each
    dossier at most once: the callers' waves hold one item per dossier)."""
    from collections import defaultdict

    from engine.batch import BatchItem, transitions_apply_batch

    cases = Case.objects.in_bulk(list(dates))
    states: dict[int, list[str]] = defaultdict(list)
    rows = FundingRequest.objects.filter(case_id__in=list(cases)).order_by("case_id", "id")
    for case_id, state in rows.values_list("case_id", "state"):
        states[case_id].append(state)
    todo: dict[str, list] = defaultdict(list)
    for case_id, date in dates.items():
        case = cases.get(case_id)
        name = None if case is None else follow_up_name(case, states[case_id])
        if name:
            data = {"date": date} if date else {}
            todo[name].append(BatchItem(instance=case, comment=FOLLOW_UPS[name], data=data))
    for name, items in todo.items():
        if len(items) == 1:
            item = items[0]
            transition_apply(
                instance=item.instance, name=name, comment=item.comment, data=item.data
            )
        else:
            transitions_apply_batch(model=Case, name=name, items=items, isolate=False)


#: Where a dossier may be when its funders record lapses (revised rules 4 and 5).
LAPSE_FROM = (CaseState.DECIDED, CaseState.IN_PROGRESS, CaseState.COMPLETED)


def lapses(case: Case, states: list[str]) -> bool:
    """Revised rule 5: the dossier lapses when no live request remains and one of them was
    declared lapsed by its funder (none paid)."""
    return (
        case.state in LAPSE_FROM
        and can_proceed(case.lapse)
        and not any(s in LIVE_GRANTS or s in REQUEST_UNDECIDED for s in states)
        and RequestState.LAPSED in states
        and RequestState.PAID not in states
    )


def follow_up_effect(ctx: TransitionContext) -> None:
    case_follow_up(ctx.instance.case_id, date=ctx.data.get("date"))


def follow_up_batch(ctxs: list[TransitionContext]) -> None:
    """``follow_up_effect`` for the items of a wave (``engine.batch``): their dossiers'
    follow-ups read and applied at once."""
    cases_follow_up({ctx.instance.case_id: ctx.data.get("date") for ctx in ctxs})
