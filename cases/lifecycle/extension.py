"""Extensions of a works deadline (``Extension``, revised rule 5): granted or refused by
the funder's instructor. A granted extension moves the request's deadline: the live one
is re-planned, a missed one is open again when its new date is not past; the reminders
follow the new due date (their key holds it)."""

from __future__ import annotations

from engine.deadlines import deadline_extend
from engine.errors import DomainError
from engine.lifecycle import Field, Notice, State
from engine.models import Deadline
from engine.transitions import TransitionContext, TransitionSpec, register

from .. import works_deadlines as rules
from ..models import LIVE_GRANTS, Case, Extension, ExtensionState
from .common import F, authorize_request, event_date, reason_field, roles

S = ExtensionState

STATES = (
    State(S.REQUESTED, porteur="Votre demande de prorogation attend la décision du financeur."),
    State(S.GRANTED, badge="ok", terminal=True, porteur="La prorogation est accordée."),
    State(S.REFUSED, badge="danger", terminal=True, porteur="La prorogation est refusée."),
)

OPEN_OR_MISSED = (Deadline.State.OPEN, Deadline.State.SUSPENDED, Deadline.State.MISSED)


def authorize_extension(user, extension: Extension, spec: TransitionSpec) -> bool:
    return authorize_request(user, extension.funding_request, spec)


def _decided(ctx: TransitionContext) -> Extension:
    extension: Extension = ctx.instance
    extension.decided_by = ctx.actor
    extension.decided_on = ctx.data["date"]
    extension.motivation = ctx.data.get("motivation") or ""
    if extension.decided_on < extension.requested_at.date():
        raise DomainError(
            "La décision ne peut précéder la demande de prorogation.",
            errors={"date": ["Avant la demande."]},
        )
    return extension


def grant_guard(ctx: TransitionContext) -> None:
    """Under the dossier's lock: the request still runs, its deadline is still there (open
    or missed since the demand) and the scheme's limit still holds."""
    extension = _decided(ctx)
    fr = extension.funding_request
    if fr.state not in LIVE_GRANTS:
        raise DomainError(
            f"L'aide n'est plus en cours ({fr.get_state_display().lower()}) : rien à proroger.",
            code="guard",
        )
    deadline = rules.works_deadline(fr, extension.deadline, states=OPEN_OR_MISSED)
    if deadline is None:
        raise DomainError(
            "L'échéance à proroger n'existe plus (déjà respectée ou annulée).", code="guard"
        )
    rules.extension_check(
        fr, extension.deadline, deadline.due_on, extension.until, exclude_pk=extension.pk
    )


def grant_effect(ctx: TransitionContext) -> None:
    extension: Extension = ctx.instance
    deadline_extend(
        subject=extension.funding_request,
        kind=extension.deadline,
        due_on=extension.until,
        today=ctx.today,
    )


def refuse_guard(ctx: TransitionContext) -> None:
    _decided(ctx)


TRANSITIONS = (
    TransitionSpec(
        "grant",
        roles(F),
        "Accorder la prorogation",
        grant_guard,
        grant_effect,
        event="prorogation accordée",
        fields=(
            event_date("Date de la décision"),
            Field("motivation", "Motivation", "textarea"),
        ),
        notice=Notice(
            ("porteurs", "referent"),
            "{fr.scheme.code} : prorogation accordée pour {case.reference}.",
            email=True,
        ),
    ),
    TransitionSpec(
        "refuse",
        roles(F),
        "Refuser la prorogation",
        refuse_guard,
        event="prorogation refusée",
        fields=(
            event_date("Date de la décision"),
            reason_field("motivation", "Motivation du refus", "Indiquez la motivation du refus."),
        ),
        danger=True,
        notice=Notice(
            ("porteurs", "referent"),
            "{fr.scheme.code} : prorogation refusée pour {case.reference}.",
            email=True,
        ),
    ),
)

register(
    Extension,
    aggregate=lambda extension: extension.funding_request.case_id,
    authorize=authorize_extension,
    root=Case,
    specs=TRANSITIONS,
    states=STATES,
)
