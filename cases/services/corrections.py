"""Corrections asked of the porteur on one field or one document (issue 12).

An agent (or a funder's instructor, for its own request) asks; the request is closed when
the porteur corrects the target (``case_update`` and ``document_upload`` call
``corrections_resolve``) or when an agent or its author closes it. Each step is an event
on the dossier: ``correction.requested`` when asked, then the engine's transitions
(``correctionrequest.correct``, ``correctionrequest.close``, ``cases.lifecycle.correction``);
the porteur is notified, the history shows it.
"""

from __future__ import annotations

from django.db import transaction

from engine.batch import BatchItem, transitions_apply_batch
from engine.errors import DomainError
from engine.outbox import event_emit
from engine.transitions import transition_apply
from schemes.models import Scheme

from ..models import (
    CASE_EDITABLE,
    PLAN_FREE_STATES,
    Case,
    CorrectionRequest,
    CorrectionState,
    CorrectionTarget,
    FundingRequest,
)
from ..permissions import require
from .common import R, clean_text

#: The fields of the dossier and plan a correction may name, with their French label.
FIELDS = {
    "title": "Titre du projet",
    "description": "Description du projet",
    "theme": "Thème",
    "communes": "Communes concernées",
    "financing_plan": "Plan de financement",
}
#: Fields the porteur corrects in place, on the dossier page, while the dossier is
#: editable (a draft, or incomplete); the others in the steps of a draft.
INLINE_FIELDS = ("title", "description", "theme")


def _refused(message: str, code: str = "invalid") -> DomainError:
    return DomainError(message, code=code, errors={"target": [message]})


def target_label(kind: str, target: str) -> str:
    if kind == CorrectionTarget.FIELD:
        return FIELDS.get(target, target)
    labels = {"other": "Autre pièce"}
    for scheme in Scheme.objects.all():
        labels.update({d["code"]: d["label"] for d in scheme.required_documents or []})
    return f"Pièce « {labels.get(target, target)} »"


def _document_kinds() -> set[str]:
    known = {"other"}
    for scheme in Scheme.objects.all():
        known.update(scheme.required_document_codes())
    return known


def _check_target(case: Case, kind: str, target: str) -> None:
    if kind == CorrectionTarget.FIELD:
        if target not in FIELDS:
            raise _refused(f"Champ inconnu : « {target} ».")
        editable = CASE_EDITABLE if target in INLINE_FIELDS else PLAN_FREE_STATES
        if case.state not in editable:
            raise _refused(
                f"Le porteur ne peut pas modifier « {FIELDS[target]} » dans l'état "
                f"« {case.get_state_display()} » : demandez d'abord des compléments "
                "(le dossier redevient modifiable) ou demandez une pièce.",
                "unavailable",
            )
    elif kind == CorrectionTarget.DOCUMENT:
        if target not in _document_kinds():
            raise _refused(f"Pièce inconnue : « {target} ».")
    else:
        raise _refused("Choisissez un champ ou une pièce.")


def _funder_request(actor, case: Case, funding_request_id) -> FundingRequest | None:
    """A funder's instructor asks for its own request only."""
    if actor.effective_role != R.FUNDER_INSTRUCTOR:
        return None
    fr = (
        FundingRequest.objects.filter(
            case=case, pk=funding_request_id or 0, scheme__funder_id=actor.funder_id
        ).first()
        if funding_request_id
        else FundingRequest.objects.filter(case=case, scheme__funder_id=actor.funder_id).first()
    )
    if fr is None:
        raise DomainError("Aucune demande de votre financeur sur ce dossier.", code="forbidden")
    return fr


def correction_request(
    *, actor, case: Case, kind: str, target: str, body: str, funding_request_id=None
) -> CorrectionRequest:
    require(actor, "correction_request")
    if case.is_terminal:
        raise DomainError("Le dossier est clos.", code="unavailable")
    kind = str(kind or "")[:10]
    target = str(target or "")[:60]
    body = clean_text(body, field="body", label="le message", max_length=5000, required=True)
    _check_target(case, kind, target)
    fr = _funder_request(actor, case, funding_request_id)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()  # one open per target
        if CorrectionRequest.objects.filter(
            case=case, target_kind=kind, target=target, state=CorrectionState.OPEN
        ).exists():
            raise _refused(
                f"Une correction est déjà demandée sur « {target_label(kind, target)} » : "
                "attendez la correction du porteur ou fermez d'abord la demande.",
                "conflict",
            )
        correction = CorrectionRequest.objects.create(
            case=case,
            funding_request=fr,
            target_kind=kind,
            target=target,
            body=body,
            requested_by=actor,
        )
        event_emit(
            topic="correction.requested",
            subject=correction,
            aggregate_id=case.pk,
            actor_id=actor.pk,
            payload={"kind": kind, "target": target},
        )
    return correction


def correction_close(*, actor, correction: CorrectionRequest) -> CorrectionRequest:
    """An agent, or the instructor who asked, closes the request without a correction (the
    engine's ``close``: role, object right, the dossier's lock, audit, event)."""
    if correction.state != CorrectionState.OPEN:
        raise DomainError("Cette demande est déjà close.", code="conflict")
    return transition_apply(instance=correction, name="close", actor=actor)


def corrections_resolve(*, actor, case: Case, kind: str, targets) -> int:
    """The porteur corrected these targets: their open requests are marked corrected (the
    engine's ``correct``, in the caller's transaction). A request closed meanwhile by
    someone else is left as it is."""
    if actor is None or actor.effective_role != R.PORTEUR or not targets:
        return 0
    corrections = list(
        CorrectionRequest.objects.filter(
            case=case, target_kind=kind, target__in=list(targets), state=CorrectionState.OPEN
        ).select_related("case")
    )
    if not corrections:
        return 0
    outcome = transitions_apply_batch(
        model=CorrectionRequest,
        name="correct",
        actor=actor,
        items=[BatchItem(instance=c) for c in corrections],
    )
    return sum(1 for error in outcome if error is None)


def correction_apply(*, actor, correction: CorrectionRequest, value) -> CorrectionRequest:
    """The porteur corrects a text field in place (``INLINE_FIELDS``): saved through
    ``case_update``, which closes the request when the value changed."""
    from .case import case_update  # case_update calls corrections_resolve

    if correction.state != CorrectionState.OPEN:
        raise DomainError("Cette demande de correction est déjà close.", code="conflict")
    if correction.target_kind != CorrectionTarget.FIELD or correction.target not in INLINE_FIELDS:
        raise DomainError("Ce champ se corrige dans les étapes du dossier.", code="invalid")
    case = correction.case
    if str(value or "").strip() == str(getattr(case, correction.target) or "").strip():
        raise DomainError(
            f"« {FIELDS[correction.target]} » n'a pas changé : corrigez-le, ou répondez à "
            "l'agent par un message si vous pensez qu'il est juste.",
            errors={"value": ["Valeur inchangée."]},
        )
    case_update(actor=actor, case=case, data={correction.target: value})
    return CorrectionRequest.objects.get(pk=correction.pk)
