"""A LEADER committee session (``CommitteeSession``): planned, then closed with its
outcomes (``cases.committee``)."""

from __future__ import annotations

from django.utils import timezone

from engine.errors import DomainError
from engine.lifecycle import State
from engine.transitions import TransitionContext, TransitionSpec, register

from ..committee import committee_size, session_apply_outcomes, session_outcomes
from ..models import CommitteeSession, SessionState
from .common import A, roles

STATES = (State(SessionState.PLANNED), State(SessionState.CLOSED, badge="ok", terminal=True))


def close_guard(ctx: TransitionContext) -> None:
    outcomes = session_outcomes(ctx.instance)
    if outcomes.problems:
        raise DomainError(
            "Le comité ne peut pas délibérer valablement : " + " ".join(outcomes.problems),
            code="guard",
            errors={"committee": outcomes.problems},
        )
    ctx.data["outcomes"] = outcomes


def close_effect(ctx: TransitionContext) -> None:
    session: CommitteeSession = ctx.instance
    session.closed_at = timezone.now()
    session.committee_size = committee_size(session)
    CommitteeSession.objects.filter(pk=session.pk).update(
        closed_at=session.closed_at, committee_size=session.committee_size
    )
    session_apply_outcomes(session, ctx.data.pop("outcomes"))


register(
    CommitteeSession,
    aggregate=lambda session: None,
    specs=(
        TransitionSpec(
            "close",
            roles(A),
            "Clore la séance",
            close_guard,
            close_effect,
            event="séance close",
        ),
    ),
    states=STATES,
)
