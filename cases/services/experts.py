"""Inviting an outside expert to give an opinion on one dossier, and recording it.

The expert has no account: the invitation mails a one-time link whose random token is
never stored, only its SHA-256 (``token_hash``). The link opens one dossier read-only and
takes one answer; then it is spent. Expired, spent and unknown links give nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from engine.errors import DomainError
from engine.outbox import event_emit

from ..models import Case, ExpertInvitation
from ..permissions import require
from .common import clean_text

VALIDITY_DAYS = 30
TOKEN_BYTES = 32  # 256 random bits, 43 URL-safe characters


def token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode("utf-8", "replace")).hexdigest()


def expert_invite(
    *, actor, case: Case, name, email, question, days: int = VALIDITY_DAYS
) -> tuple[ExpertInvitation, str]:
    """Create the invitation; returns it with the clear token, to be mailed at once and
    never kept. The caller has read the dossier through ``case_get`` (its scope)."""
    require(actor, "expert_invite")
    if case.is_terminal:
        raise DomainError(
            "Ce dossier est clos : on n'y invite plus d'expert.", code="invalid_state"
        )
    name = clean_text(name, field="name", label="le nom de l'expert", max_length=200, required=True)
    email = clean_text(
        email, field="email", label="l'adresse électronique", max_length=254, required=True
    )
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(
            "Adresse électronique invalide (ex. prenom.nom@exemple.fr).",
            errors={"email": ["Adresse électronique invalide."]},
        ) from None
    question = clean_text(
        question, field="question", label="la question", max_length=5000, required=True
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    invitation = ExpertInvitation.objects.create(
        case=case,
        name=name,
        email=email,
        question=question,
        token_hash=token_hash(token),
        invited_by=actor,
        invited_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    event_emit(
        topic="expert.invited",
        subject=invitation,
        aggregate_id=case.pk,
        actor_id=actor.pk,
        payload={"name": name},  # never the token
    )
    return invitation, token


def expert_answer(*, token: str, answer, value: str = "") -> ExpertInvitation:
    """Record the expert's opinion through the link, once: under the invitation's row
    lock, so two posts of the same link record one answer and the second is told."""
    answer = clean_text(answer, field="answer", label="l'avis", max_length=10000, required=True)
    value = value or ""
    if value not in ("", *ExpertInvitation.Value.values):
        raise DomainError("Sens de l'avis inconnu.", errors={"answer_value": ["Inconnu."]})
    with transaction.atomic():
        invitation = (
            ExpertInvitation.objects.select_for_update()
            .filter(token_hash=token_hash(token))
            .first()
        )
        if invitation is None:
            raise DomainError("Lien introuvable.", code="not_found")
        refusal = link_refusal(invitation)
        if refusal:
            raise DomainError(refusal, code="gone")
        invitation.answer = answer
        invitation.answer_value = value
        invitation.answered_at = timezone.now()
        invitation.save(update_fields=["answer", "answer_value", "answered_at"])
        event_emit(
            topic="expert.answered",
            subject=invitation,
            aggregate_id=invitation.case_id,
            actor_id=None,
            payload={"name": invitation.name, "value": value},
        )
    return invitation


def link_refusal(invitation: ExpertInvitation, now=None) -> str:
    """Why the link no longer opens the dossier (French), or "" while it does."""
    if invitation.answered_at is not None:
        return "Ce lien a déjà été utilisé : votre avis a été transmis. Merci."
    if (now or timezone.now()) >= invitation.expires_at:
        return (
            f"Ce lien a expiré le {timezone.localtime(invitation.expires_at):%d/%m/%Y}. "
            "Demandez une nouvelle invitation à l'agent qui vous a sollicité."
        )
    return ""
