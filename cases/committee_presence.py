"""Who sits in a meeting, as the session's secretary records it during the meeting: a
member of the territory's committee marked present or absent, under the session's lock
(the aggregate of its votes, declarations and agenda). A member who already voted at the
session is not marked absent: their votes would be dropped silently."""

from __future__ import annotations

from django.db import transaction

from engine import inputs
from engine.errors import DomainError

from .committee import committee_members
from .committee_seats import session_locked
from .models import CommitteeSession, User
from .permissions import require


def presence_set(*, actor, session: CommitteeSession, member_id, present: bool) -> User:
    """Mark one member of the committee present (or absent) at a planned meeting."""
    require(actor, "vote_for_member")
    member_id = inputs.read_id(member_id)
    with transaction.atomic():
        session = session_locked(session.pk)
        if session.written:
            raise DomainError(
                "Une consultation écrite n'a pas de membres présents : chacun répond par écrit.",
                code="guard",
            )
        member = committee_members(session.territory_id).filter(pk=member_id).first()
        if member is None:
            raise DomainError(
                "Ce membre n'appartient pas au comité du territoire de la séance.",
                errors={"member": ["Membre du comité inconnu."]},
            )
        if present:
            session.members.add(member)
            return member
        voted = session.votes.filter(member=member).count()
        if voted:
            name = member.get_full_name() or member.username
            raise DomainError(
                f"{name} a {voted} vote(s) enregistré(s) à cette séance : ce membre ne peut "
                "pas être noté absent. Rien n'a été modifié.",
                code="conflict",
                errors={"member": ["Votes enregistrés."]},
            )
        session.members.remove(member)
    return member
