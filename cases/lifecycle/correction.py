"""Correction requests (``CorrectionRequest``, issue 12): asked of the porteur on one field
or one document, corrected by the porteur (``correct``: the service that saved the field or
the document applies it) or closed without a correction by an agent or the funder's
instructor who asked (``close``). Both go through the engine: audit, outbox event, hooks."""

from __future__ import annotations

from django.utils import timezone

from engine.lifecycle import State
from engine.transitions import TransitionContext, TransitionSpec, register

from ..models import Case, CorrectionRequest, CorrectionState
from .common import A, F, P, owns, roles

S = CorrectionState

STATES = (
    State(S.OPEN, badge="warn", porteur="Une correction vous est demandée."),
    State(S.CORRECTED, badge="ok", terminal=True, porteur="Vous avez fait la correction."),
    State(S.CLOSED, terminal=True, porteur="La demande a été close."),
)


def authorize_correction(user, correction: CorrectionRequest, spec: TransitionSpec) -> bool:
    """The porteur corrects its own dossier; an agent closes any request, a funder's
    instructor only the ones it asked."""
    role = user.effective_role
    if spec.name == "correct":
        return role == P and owns(user, correction.case)
    if role == F:
        return correction.requested_by_id == user.pk
    return True


def _closed_by(ctx: TransitionContext) -> None:
    """Who closed it and when: set before the row is saved (a guard, as the other
    machines record their decisions)."""
    correction: CorrectionRequest = ctx.instance
    correction.closed_by = ctx.actor
    correction.closed_at = timezone.now()


TRANSITIONS = (
    TransitionSpec(
        "correct",
        roles(P),
        "Corriger",
        guard=_closed_by,
        event="correction faite par le porteur",
    ),
    TransitionSpec(
        "close",
        roles(A, F),
        "Fermer la demande",
        guard=_closed_by,
        event="demande de correction close",
    ),
)

register(
    CorrectionRequest,
    aggregate=lambda correction: correction.case_id,
    authorize=authorize_correction,
    root=Case,
    specs=TRANSITIONS,
    states=STATES,
)
