"""Reads of the outside experts' invitations: by the link's token (the expert's page) and
per dossier (the agent's page)."""

from __future__ import annotations

from .models import Case, Document, ExpertInvitation
from .services.experts import token_hash

MAX_TOKEN_LENGTH = 100  # a longer "token" is not one of ours: no hashing of a megabyte


def invitation_by_token(token) -> ExpertInvitation | None:
    """The invitation of a link's token (spent or expired included: the page says so), or
    None for anything that is not one."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return (
        ExpertInvitation.objects.select_related("case__organisation", "invited_by")
        .filter(token_hash=token_hash(token))
        .first()
    )


def case_invitations(case: Case) -> list[ExpertInvitation]:
    """The dossier's invitations, oldest first; read once per ``case`` instance (the page's
    block and its history both ask)."""
    cached = getattr(case, "_expert_invitations", None)
    if cached is None:
        cached = list(
            ExpertInvitation.objects.filter(case=case).select_related("invited_by").order_by("id")
        )
        case._expert_invitations = cached
    return cached


def invitation_documents(invitation: ExpertInvitation):
    """The pieces the expert may read: the documents of that dossier, and none other."""
    return Document.objects.filter(case_id=invitation.case_id).order_by("uploaded_at", "id")
