"""What the machines share: roles, object-level rights, date helpers of the guards."""

from __future__ import annotations

import datetime as dt

from engine.errors import DomainError
from engine.lifecycle import Field
from engine.transitions import TransitionSpec

from ..models import Case, FundingRequest, PaymentClaim, User

P, A, F = User.Role.PORTEUR, User.Role.AGENT, User.Role.FUNDER_INSTRUCTOR


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def event_date(label: str, *, required: bool = False, missing: str = "") -> Field:
    """The date of the event a transition records: today when left empty (unless
    required), never in the future."""
    return Field(
        "date",
        label,
        "date",
        required=required,
        default_today=not required,
        hint="La date de l'événement, jamais dans le futur.",
        missing=missing,
    )


def reason_field(name: str, label: str, missing: str) -> Field:
    """A required reason or motivation (the comment stands in for it when left empty)."""
    return Field(name, label, "textarea", required=True, comment_stands_in=True, missing=missing)


def not_before_receipt(case: Case, day: dt.date, label: str) -> None:
    if case.receipt_date and day < case.receipt_date:
        raise DomainError(
            f"La {label} ({day:%d/%m/%Y}) ne peut précéder la date de réception du dossier "
            f"({case.receipt_date:%d/%m/%Y}).",
            errors={"date": ["Antérieure à la réception."]},
        )


# ---------------------------------------------------------------- object-level rights


def owns(user, case: Case) -> bool:
    return user.organisation_id is not None and user.organisation_id == case.organisation_id


def authorize_case(user, case: Case, spec: TransitionSpec) -> bool:
    if user.effective_role == P:
        return owns(user, case)
    return True


def authorize_request(user, fr: FundingRequest, spec: TransitionSpec) -> bool:
    role = user.effective_role
    if role == P:
        return owns(user, fr.case)
    if role == F:
        return user.funder_id == fr.scheme.funder_id
    return True


def authorize_claim(user, claim: PaymentClaim, spec: TransitionSpec) -> bool:
    return authorize_request(user, claim.funding_request, spec)
