"""Which role may perform which write, in one table. Services enforce it; the API checks it
before validating input, so that a role without the right hears « 403 » rather than the
details of a form it may not submit."""

from __future__ import annotations

from engine.errors import DomainError

from .models import User

R = User.Role

ACTIONS: dict[str, tuple[set[str], str]] = {
    "case_create": ({R.PORTEUR, R.AGENT, R.ADMIN}, "créer un dossier"),
    "case_update": ({R.PORTEUR, R.AGENT, R.ADMIN}, "modifier ce dossier"),
    "document_upload": ({R.PORTEUR, R.AGENT, R.ADMIN}, "joindre des pièces"),
    "opinion_create": ({R.AGENT, R.EPCI_PARTNER, R.ADMIN}, "donner un avis"),
    "share_exception": ({R.AGENT, R.ADMIN}, "enregistrer une dérogation"),
    "claim_create": ({R.PORTEUR, R.ADMIN}, "déposer une demande de paiement"),
    "organisation_create": ({R.AGENT, R.ADMIN}, "créer une organisation"),
    "user_create": ({R.ADMIN}, "créer un compte"),
    "session_create": ({R.AGENT, R.ADMIN}, "planifier une séance du comité"),
    "vote_record": ({R.COMMITTEE_MEMBER, R.AGENT, R.ADMIN}, "enregistrer un vote"),
    "message_post": (
        {R.PORTEUR, R.AGENT, R.ADMIN, R.EPCI_PARTNER, R.DIRECTOR},
        "écrire sur ce dossier",
    ),
}


def allowed(actor, action: str) -> bool:
    return actor.effective_role in ACTIONS[action][0]


def require(actor, action: str) -> None:
    roles, what = ACTIONS[action]
    if actor.effective_role not in roles:
        raise DomainError(f"Votre rôle ne permet pas de {what}.", code="forbidden")
