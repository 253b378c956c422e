"""Which role may do what, in one table (writes, and the reads and pages a role opens). Services enforce it; the API checks it
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
    "expert_invite": ({R.AGENT, R.ADMIN}, "inviter un expert extérieur à donner son avis"),
    "share_exception": ({R.AGENT, R.ADMIN}, "enregistrer une dérogation"),
    "claim_create": ({R.PORTEUR, R.ADMIN}, "déposer une demande de paiement"),
    "extension_request": ({R.PORTEUR, R.AGENT, R.ADMIN}, "demander une prorogation"),
    "organisation_create": ({R.AGENT, R.ADMIN}, "créer une organisation"),
    "user_create": ({R.ADMIN}, "créer un compte"),
    "session_create": ({R.AGENT, R.ADMIN}, "planifier une séance du comité"),
    "vote_record": ({R.COMMITTEE_MEMBER, R.AGENT, R.ADMIN}, "enregistrer un vote"),
    "correction_request": (
        {R.AGENT, R.ADMIN, R.FUNDER_INSTRUCTOR},
        "demander une correction au porteur",
    ),
    "message_post": (
        {R.PORTEUR, R.AGENT, R.ADMIN, R.EPCI_PARTNER, R.DIRECTOR},
        "écrire sur ce dossier",
    ),
    # What a role may read or use, beside the writes above (ADR 004: one table).
    "territory_read": ({R.AGENT, R.ADMIN, R.DIRECTOR}, "voir tous les dossiers du territoire"),
    "notes_read": ({R.AGENT, R.ADMIN, R.DIRECTOR, R.EPCI_PARTNER}, "lire les notes internes"),
    "message_to_porteur": ({R.AGENT, R.ADMIN, R.DIRECTOR}, "écrire au porteur"),
    "session_read": (
        {R.AGENT, R.ADMIN, R.DIRECTOR, R.COMMITTEE_MEMBER},
        "voir les séances du comité",
    ),
    "vote_for_member": ({R.AGENT, R.ADMIN}, "enregistrer le vote d'un membre"),
    "observatory_read": (
        {R.AGENT, R.DIRECTOR, R.ADMIN, R.EPCI_PARTNER, R.COMMITTEE_MEMBER},
        "consulter l'observatoire",
    ),
    "workspace": (
        {R.AGENT, R.ADMIN, R.DIRECTOR, R.EPCI_PARTNER},
        "utiliser l'espace des agents",
    ),
    "task_take": ({R.AGENT, R.ADMIN}, "prendre et traiter les tâches"),
    "funders_page": (
        {R.FUNDER_INSTRUCTOR, R.AGENT, R.DIRECTOR, R.ADMIN},
        "consulter la conférence des financeurs",
    ),
    "funder_act": ({R.FUNDER_INSTRUCTOR, R.ADMIN}, "agir pour un financeur"),
    "audit_read": ({R.ADMIN, R.DIRECTOR}, "lire le journal des accès"),
    # issue 14: the funders' conference sessions (an instructor: its funder's requests)
    "conference_read": (
        {R.AGENT, R.ADMIN, R.DIRECTOR, R.FUNDER_INSTRUCTOR},
        "consulter les conférences des financeurs",
    ),
    "conference_manage": ({R.AGENT, R.ADMIN}, "préparer une conférence des financeurs"),
    "conference_position": (
        {R.AGENT, R.ADMIN, R.FUNDER_INSTRUCTOR},
        "enregistrer la position d'un financeur",
    ),
    "alert_acknowledge": ({R.AGENT, R.DIRECTOR, R.ADMIN}, "prendre en compte une alerte"),
    # issue 15 point 3: the convention and notification letter of a grant, signed copies
    "signed_documents_read": (
        {R.AGENT, R.ADMIN, R.DIRECTOR, R.FUNDER_INSTRUCTOR},
        "éditer la convention et la lettre de notification",
    ),
    "signed_copy_upload": (
        {R.AGENT, R.ADMIN, R.FUNDER_INSTRUCTOR},
        "déposer la copie signée d'une convention",
    ),
}


def roles_for(action: str) -> frozenset[str]:
    """The roles that may do ``action`` (a name of the table above)."""
    return frozenset(ACTIONS[action][0])


def allowed(actor, action: str) -> bool:
    return actor.effective_role in ACTIONS[action][0]


def require(actor, action: str) -> None:
    roles, what = ACTIONS[action]
    if actor.effective_role not in roles:
        raise DomainError(f"Votre rôle ne permet pas de {what}.", code="forbidden")
