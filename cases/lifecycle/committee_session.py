"""A LEADER committee session (``CommitteeSession``, a meeting or a written consultation):
planned, then closed with the outcome of each item (``cases.committee``)."""

from __future__ import annotations

from django.utils import timezone

from engine.errors import DomainError
from engine.lifecycle import State
from engine.transitions import TransitionContext, TransitionSpec, register

from ..committee import agenda_of, committee_size, session_apply_outcomes, session_outcomes
from ..models import CommitteeSession, SessionState
from .common import A, roles

STATES = (State(SessionState.PLANNED), State(SessionState.CLOSED, badge="ok", terminal=True))


def close_guard(ctx: TransitionContext) -> None:
    """A written consultation closes after its closing date. Validity is per item
    (revised rule 12): an invalid item is adjourned with its reason at close, and never
    keeps the others from being decided."""
    session: CommitteeSession = ctx.instance
    if session.written and ctx.today <= session.closes_on:
        raise DomainError(
            f"La consultation écrite reçoit les réponses jusqu'au {session.closes_on:%d/%m/%Y} "
            "inclus : elle se clôt à partir du lendemain.",
            code="guard",
            errors={"closes_on": ["Consultation en cours."]},
        )
    if not agenda_of(session):
        raise DomainError(
            "Aucun dossier n'est à l'ordre du jour de la séance : il n'y a rien à décider "
            "(inscrivez des demandes en attente du comité, ou attendez-les).",
            code="guard",
        )


def close_effect(ctx: TransitionContext) -> None:
    session: CommitteeSession = ctx.instance
    session.closed_at = timezone.now()
    session.committee_size = committee_size(session)
    CommitteeSession.objects.filter(pk=session.pk).update(
        closed_at=session.closed_at, committee_size=session.committee_size
    )
    session_apply_outcomes(session, session_outcomes(session))


register(
    CommitteeSession,
    aggregate=lambda session: None,
    specs=(
        TransitionSpec(
            "close",
            roles(A),
            "Clore la séance",  # a written consultation: after its closing date
            close_guard,
            close_effect,
            event="séance close",
        ),
    ),
    states=STATES,
)
