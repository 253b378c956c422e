"""One small definition per kind of scheme: which deadlines each transition opens, closes,
suspends or resumes. Periods are scheme parameters (``Scheme`` rows), read at run time.

A rule's key is ``"<model>.<transition>"`` (``case.submit``, ``fundingrequest.grant``).
Every period runs from the event's date (the date given with the transition, else today).
``per="case"`` rules open one deadline on the dossier with the shortest period among its
schemes; ``per="request"`` rules open one deadline on each funding request they concern.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.checks import DEADLINE_KIND, TRANSITION, Reference
from engine.deadlines import register_deadline_kinds
from engine.lifecycle import DeadlineKind

PORTEUR = "porteur"
AGENT = "agent"

#: The kinds of deadline (code names are the contract, domain.md) and what each asks.
DEADLINE_KINDS = (
    DeadlineKind(
        "completeness",
        "Vérifier la complétude (réputée acquise à l'échéance là où le dispositif le prévoit)",
    ),
    DeadlineKind("documents", "Fournir les pièces demandées"),
    DeadlineKind("implicit_decision", "Décider avant le rejet implicite (deux mois de silence)"),
    DeadlineKind(
        "works_start", "Commencer les travaux (sinon le financeur peut constater la caducité)"
    ),
    DeadlineKind("works_completion", "Achever les travaux"),
    DeadlineKind("balance_claim", "Déposer la demande de solde"),
    DeadlineKind("operation_end", "Fin de l'opération (convention LEADER)"),
    DeadlineKind(
        "programme_end",
        "Faire payer les dépenses avant la fin du programme FEADER (au-delà, la part FEADER "
        "est perdue)",
    ),
)
register_deadline_kinds(*DEADLINE_KINDS)


@dataclass(frozen=True)
class Open:
    on: str
    kind: str
    party: str
    per: str  # "case" | "request"
    months: str = ""  # Scheme attribute giving the period in months
    days: str = ""  # or in days
    expiry: str = ""  # transition applied by the sweep when the period has run out
    when: tuple[str, str] | None = None  # (Scheme attribute, required value)
    until: str = ""  # or a Scheme attribute giving the due date itself (programme_end)
    #: More (Scheme attribute, required value) conditions, all required.
    only: tuple[tuple[str, object], ...] = ()
    #: The request's date the period runs from (« received_on », « complete_on »);
    #: default the event's date.
    start: str = ""
    #: Never re-plan a live deadline of this kind (opened once, then moved by its clock).
    once: bool = False


@dataclass(frozen=True)
class Close:
    on: str
    kinds: tuple[str, ...]
    per: str  # "case" | "request" (every request of the dossier) | "self"


@dataclass(frozen=True)
class Clock:
    """Suspend (``stop=True``) or resume the clock of these kinds: on the whole dossier
    (``per="case"``: its own deadlines and its requests'), or only on the subject of the
    transition (``per="self"``: one funding request's clock)."""

    on: str
    kinds: tuple[str, ...]
    stop: bool
    per: str = "case"  # "case" | "self"


@dataclass(frozen=True)
class Definition:
    code: str
    label: str
    opens: tuple[Open, ...]
    closes: tuple[Close, ...] = ()
    clocks: tuple[Clock, ...] = ()


SUSPENDED_BY_DOCUMENTS = ("completeness", "implicit_decision")

# Each funder's own legal track (revised rules 1-3, ADR 009): the dossier's completeness
# is the desk's reminder (never « réputé complet »); each request's completeness runs from
# its funder's receipt where its scheme deems it complete by time, and its implicit
# decision from the event its scheme names.
DESK = ("desk_instructs", True)
FROM_COMPLETE = ("implicit_decision_from", "complete")
FROM_RECEIPT = ("implicit_decision_from", "receipt")


def _implicit(on: str, start: str, *conditions) -> Open:
    return Open(
        on,
        "implicit_decision",
        AGENT,
        "request",
        months="implicit_decision_months",
        only=conditions,
        start=start,
        once=True,
    )


def _deemed_complete(on: str, *conditions) -> Open:
    return Open(
        on,
        "completeness",
        AGENT,
        "request",
        months="completeness_months",
        expiry="declare_complete",
        only=(("deemed_complete", True), *conditions),
        start="received_on",
        once=True,
    )


LEGAL_TRACK_OPENS = (
    _deemed_complete("case.submit", DESK),
    _deemed_complete("fundingrequest.acknowledge"),
    _implicit("case.submit", "received_on", DESK, FROM_RECEIPT),
    _implicit("fundingrequest.acknowledge", "received_on", FROM_RECEIPT),
    _implicit("case.declare_complete", "complete_on", DESK, FROM_COMPLETE),
    _implicit("fundingrequest.declare_complete", "complete_on", FROM_COMPLETE),
    _implicit("fundingrequest.start_instruction", "complete_on", FROM_COMPLETE),
)
LEGAL_TRACK_CLOSES = (
    Close("fundingrequest.declare_complete", ("completeness",), "self"),
    Close("fundingrequest.start_instruction", ("completeness",), "self"),
)

COMMON = Definition(
    code="common",
    label="Étapes communes du dossier unique",
    opens=(
        Open("case.submit", "completeness", AGENT, "case", months="completeness_months"),
        *LEGAL_TRACK_OPENS,
        Open("case.request_documents", "documents", PORTEUR, "case", days="documents_days"),
        Open(
            "case.complete_works",
            "balance_claim",
            PORTEUR,
            "request",
            months="balance_claim_months",
        ),
    ),
    closes=(
        *LEGAL_TRACK_CLOSES,
        Close("case.declare_complete", ("completeness",), "case"),
        Close("case.provide_documents", ("documents",), "case"),
        Close("fundingrequest.grant", ("implicit_decision",), "self"),
        Close("fundingrequest.refuse", ("implicit_decision",), "self"),
        Close("fundingrequest.submit_to_committee", ("implicit_decision",), "self"),
        Close("case.start_works", ("works_start",), "request"),
        Close("case.complete_works", ("works_completion", "operation_end"), "request"),
        Close("paymentclaim.file", ("balance_claim",), "request"),
        Close("fundingrequest.mark_paid", ("programme_end",), "self"),
    ),
    clocks=(
        Clock("case.request_documents", SUSPENDED_BY_DOCUMENTS, stop=True),
        Clock("case.provide_documents", SUSPENDED_BY_DOCUMENTS, stop=False),
    ),
)

STANDARD = Definition(
    code="standard",
    label="Instruction par le financeur (DETR, DSIL, Fonds vert, Région, Département)",
    opens=(
        Open(
            "fundingrequest.grant",
            "works_start",
            PORTEUR,
            "request",
            months="works_start_months",
            when=("works_start_from", "grant"),
        ),
        Open(
            "fundingrequest.commit",
            "works_start",
            PORTEUR,
            "request",
            months="works_start_months",
            when=("works_start_from", "commit"),
        ),
        Open(
            "case.start_works",
            "works_completion",
            PORTEUR,
            "request",
            months="completion_months",
            when=("completion_from", "start"),
        ),
    ),
)

LEADER = Definition(
    code="leader",
    label="LEADER : instruction, comité de programmation, convention",
    opens=(
        # Revised rule 11: opened at the commitment (the convention), when the request has
        # aid to pay, at the programme's last date for paid expenditure.
        Open("fundingrequest.commit", "programme_end", PORTEUR, "request", until="programme_end"),
        Open(
            "fundingrequest.commit",
            "works_start",
            PORTEUR,
            "request",
            months="works_start_months",
            when=("works_start_from", "commit"),
        ),
        Open(
            "fundingrequest.commit",
            "operation_end",
            PORTEUR,
            "request",
            months="completion_months",
            when=("completion_from", "commit"),
        ),
        Open(
            "case.start_works",
            "works_completion",
            PORTEUR,
            "request",
            months="completion_months",
            when=("completion_from", "start"),
        ),
    ),
)

DEFINITIONS = {d.code: d for d in (STANDARD, LEADER)}


def definition_for(flow_kind: str) -> Definition:
    return DEFINITIONS.get(flow_kind, STANDARD)


def references() -> list[Reference]:
    """What the definitions name: transitions (« model.transition »), deadline kinds, the
    expiry transitions the sweep applies, and the scheme attributes they read."""
    refs = []
    for d in (COMMON, *DEFINITIONS.values()):
        where = f"workflows.definitions.{d.code}"
        for rule in (*d.opens, *d.closes, *d.clocks):
            model, _, name = rule.on.partition(".")
            refs.append(Reference(where, TRANSITION, name, model))
            kinds = rule.kinds if hasattr(rule, "kinds") else (rule.kind,)
            refs.extend(Reference(where, DEADLINE_KIND, kind) for kind in kinds)
        for rule in d.opens:
            if rule.expiry:
                subject = "case" if rule.per == "case" else "fundingrequest"
                refs.append(Reference(where, TRANSITION, rule.expiry, subject))
    refs.extend(
        Reference("workflows.definitions", DEADLINE_KIND, k) for k in SUSPENDED_BY_DOCUMENTS
    )
    return refs
