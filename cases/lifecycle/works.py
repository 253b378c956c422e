"""The start of works (revised rule 4, CGCT R2334-24): recorded from the deposit on,
checked against each live request's eligibility start; the requests it makes ineligible
are named, and withdrawn once the porteur confirms."""

from __future__ import annotations

from engine.errors import DomainError
from engine.transitions import TransitionContext, transition_apply

from .. import legal_track
from ..models import Case


def start_works_guard(ctx: TransitionContext) -> None:
    """Revised rule 4: from the deposit on; a start before a live request's eligibility
    start makes it ineligible: named in a 400 unless ``confirm``."""
    case: Case = ctx.instance
    day = ctx.data["date"]
    if case.receipt_date and day < case.receipt_date:
        raise DomainError(
            f"Les travaux ne peuvent commencer ({day:%d/%m/%Y}) avant la date de réception du "
            f"dossier ({case.receipt_date:%d/%m/%Y}) : l'opération deviendrait inéligible.",
            code="guard",
            errors={"date": ["Antérieure à la réception."]},
        )
    at_risk = legal_track.ineligible_requests(case, day)
    names = [legal_track.ineligibility_label(fr) for fr in at_risk]
    if at_risk and not ctx.data.get("confirm"):
        raise DomainError(
            f"Commencer les travaux le {day:%d/%m/%Y} rendrait inéligibles : "
            + " ; ".join(names)
            + ". Confirmez (« confirm ») pour retirer ces demandes, ou choisissez une date "
            "postérieure.",
            code="guard",
            errors={"confirm": names, "requests": [fr.pk for fr in at_risk]},
        )
    if at_risk and len(at_risk) == len(legal_track.live_requests(case)):
        raise DomainError(
            f"Aucune demande ne resterait éligible avec un début des travaux le {day:%d/%m/%Y} "
            f"({' ; '.join(names)}) : choisissez une date postérieure ou abandonnez le dossier.",
            code="guard",
            errors={"date": names},
        )
    case.works_start_date = day


def start_works_effect(ctx: TransitionContext) -> None:
    """The requests the porteur confirmed ineligible are withdrawn, with the reason."""
    case: Case = ctx.instance
    day = ctx.data["date"]
    for fr in legal_track.ineligible_requests(case, day):
        transition_apply(
            instance=fr,
            name="withdraw",
            comment=legal_track.ineligibility_reason(fr, day),
        )
