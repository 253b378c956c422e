"""Extension requests on a funding request's works deadlines (revised rule 5). The
decision (grant, refuse) is a transition of ``cases.lifecycle.extension``."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from engine.errors import DomainError
from engine.models import Deadline
from engine.outbox import event_emit
from engine.transitions import root_lock

from .. import works_deadlines as rules
from ..models import LIVE_GRANTS, Case, Extension, ExtensionState, FundingRequest
from ..permissions import require
from .common import R

OPEN = (Deadline.State.OPEN, Deadline.State.SUSPENDED)


def _open_deadline(fr: FundingRequest, kind: str, today: dt.date) -> Deadline:
    """The deadline to extend: open, and its last day not past (asked before it)."""
    label = Extension.Deadline(kind).label.lower()
    deadline = rules.works_deadline(fr, kind, states=OPEN)
    if deadline is None:
        missed = rules.works_deadline(fr, kind, states=[Deadline.State.MISSED])
        if missed is None:
            raise DomainError(
                f"Aucune échéance de {label} n'est en cours sur cette demande.",
                code="guard",
                errors={"deadline": ["Pas d'échéance en cours."]},
            )
        deadline = missed
    if deadline.state == Deadline.State.MISSED or today > deadline.due_on:
        raise DomainError(
            f"L'échéance de {label} ({deadline.due_on:%d/%m/%Y}) est dépassée : la "
            "prorogation devait être demandée avant. Le financeur décide de la suite.",
            code="guard",
            errors={"deadline": ["Échéance dépassée."]},
        )
    return deadline


def extension_request(
    *,
    actor,
    funding_request: FundingRequest,
    deadline: str,
    until: dt.date,
    reason: str,
    today: dt.date | None = None,
) -> Extension:
    """The porteur (of the dossier) or an agent asks to move a works deadline, before it
    passes, within the scheme's limit; under the dossier's lock (one pending request per
    deadline, « once » counted on rows nobody else changes)."""
    require(actor, "extension_request")
    fr = funding_request
    if actor.effective_role == R.PORTEUR and fr.case.organisation_id != actor.organisation_id:
        raise DomainError("Demande de financement introuvable.", code="not_found")
    today = today or timezone.localdate()
    with transaction.atomic():
        root_lock(Case, fr.case_id)
        fr = FundingRequest.objects.select_related("scheme", "case").get(pk=fr.pk)
        if fr.state not in LIVE_GRANTS:
            raise DomainError(
                f"L'aide n'est pas en cours ({fr.get_state_display().lower()}) : il n'y a pas "
                "d'échéance à proroger.",
                code="guard",
            )
        due = _open_deadline(fr, deadline, today)
        if fr.extensions.filter(deadline=deadline, state=ExtensionState.REQUESTED).exists():
            raise DomainError(
                "Une demande de prorogation de cette échéance attend déjà la décision du "
                "financeur.",
                code="guard",
                errors={"deadline": ["Demande déjà en cours."]},
            )
        rules.extension_check(fr, deadline, due.due_on, until)
        extension = Extension.objects.create(
            funding_request=fr,
            deadline=deadline,
            due_on=due.due_on,
            until=until,
            reason=reason,
            requested_by=actor,
        )
        event_emit(
            topic="extension.requested",
            subject=extension,
            aggregate_id=fr.case_id,
            actor_id=actor.pk,
            payload={"deadline": deadline, "until": until.isoformat()},
        )
    return extension
