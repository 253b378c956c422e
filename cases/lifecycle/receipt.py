"""A funding request's own legal track (revised rules 1-3, ADR 009): its funder's
receipt (``acknowledge``), its completeness (``declare_complete``, or ``start_instruction``
where the desk instructs), the cases where its funder may act on it."""

from __future__ import annotations

import datetime as dt

from engine.errors import DomainError
from engine.transitions import TransitionContext

from .. import legal_track
from ..models import CaseState, FundingRequest

#: The dossier states in which its funders instruct and decide: after the desk's check,
#: and while works run (a dossier may be in works for one funder and under instruction for
#: another, revised rule 4).
FUNDERS_ACT_IN = (CaseState.INSTRUCTION, CaseState.IN_PROGRESS, CaseState.COMPLETED)


def funders_may_act(fr: FundingRequest, message: str) -> None:
    if fr.case.state not in FUNDERS_ACT_IN:
        raise DomainError(message, code="guard")


def _not_before(day: dt.date, earlier: dt.date | None, what: str, since: str) -> None:
    if earlier and day < earlier:
        raise DomainError(
            f"La {what} ({day:%d/%m/%Y}) ne peut précéder {since} ({earlier:%d/%m/%Y}).",
            errors={"date": [f"Antérieure à {since}."]},
        )


def _receive(fr: FundingRequest, day: dt.date) -> None:
    _not_before(day, fr.sent_on, "date de réception", "l'envoi au financeur")
    fr.received_on = day
    fr.eligibility_start = legal_track.eligibility_start_for(fr, day)


def _complete(fr: FundingRequest, day: dt.date) -> None:
    if fr.complete_on is None:
        _not_before(day, fr.received_on, "date de complétude", "la réception")
        fr.complete_on = day


def acknowledge_guard(ctx: TransitionContext) -> None:
    """The funder's receipt: its legal periods and the eligibility of expenses run from it."""
    fr: FundingRequest = ctx.instance
    if fr.scheme.desk_instructs:
        raise DomainError(
            f"{fr.scheme.code} est instruit par le guichet : sa réception est celle du dépôt "
            f"({fr.received_on:%d/%m/%Y}), sans accusé de réception séparé.",
            code="guard",
        )
    if fr.received_on is not None:
        raise DomainError(
            f"La réception de la demande {fr.scheme.code} est déjà enregistrée "
            f"({fr.received_on:%d/%m/%Y}).",
            code="guard",
        )
    _receive(fr, ctx.data["date"])


def declare_complete_guard(ctx: TransitionContext) -> None:
    """That funder's completeness (or « réputé complet » by the sweep)."""
    fr: FundingRequest = ctx.instance
    if fr.received_on is None:
        raise DomainError(
            f"Enregistrez d'abord la réception de la demande {fr.scheme.code} par son "
            "financeur (accusé de réception) : sa complétude ne peut la précéder.",
            code="guard",
            errors={"date": ["Réception non enregistrée."]},
        )
    _complete(fr, ctx.data["date"])


def start_instruction_guard(ctx: TransitionContext) -> None:
    """The instruction engaged once the desk has declared the dossier complete: the
    request's completeness (the desk's date for the schemes it instructs); for a funder
    whose receipt was not recorded apart, its receipt is the day it engages instruction."""
    fr: FundingRequest = ctx.instance
    funders_may_act(fr, "Le dossier doit d'abord être déclaré complet.")
    day = ctx.data["date"]
    if fr.received_on is None:
        _receive(fr, day)
    _complete(fr, day)
