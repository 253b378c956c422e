"""Revised rule 12, the writes beside the votes: a member's declaration of interest on one
item of a session (that member then takes no part in it: EU Reg. 2021/1060 art. 33(3)(b)),
and the naming of a titular member's substitute (suppléant) of the same college."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from engine import inputs
from engine.errors import DomainError

from .committee import committee_members, session_territory_id
from .committee_seats import (
    agenda_item,
    consultation_still_open,
    session_locked,
    session_member,
)
from .models import CommitteeSession, CommitteeSubstitute, InterestDeclaration, User
from .permissions import require


def conflict_declare(
    *, actor, session: CommitteeSession, funding_request_id, member_id, reason=""
) -> InterestDeclaration:
    """A member declares an interest in one item (a member for itself, the PETR's staff
    for a member), under the session's lock: the member's vote on that item, and a
    substitute's vote in that member's seat, are withdrawn; no later vote is taken."""
    role = actor.effective_role
    if role == User.Role.COMMITTEE_MEMBER:
        if member_id not in (None, actor.pk):
            raise DomainError(
                "Un membre ne déclare un conflit d'intérêts que pour lui-même.", code="forbidden"
            )
        member_id = actor.pk
    else:
        require(actor, "vote_for_member")
    member_id = inputs.read_id(member_id)
    funding_request_id = inputs.read_id(funding_request_id)
    reason = inputs.parse_text(reason, field="reason", label="nature de l'intérêt", max_length=500)
    with transaction.atomic():
        session = session_locked(session.pk)
        consultation_still_open(session)
        member = session_member(session, member_id)
        fr = agenda_item(session, funding_request_id)
        session.votes.filter(funding_request=fr, member=member).delete()
        session.votes.filter(funding_request=fr, on_behalf_of=member).delete()
        declaration, _ = InterestDeclaration.objects.update_or_create(
            session=session,
            funding_request=fr,
            member=member,
            defaults={"reason": reason, "recorded_by": actor, "declared_at": timezone.now()},
        )
    return declaration


def substitute_name(*, actor, titular_id, substitute_id, territory=None) -> CommitteeSubstitute:
    """Name (or replace) a titular member's substitute: both members of the territory's
    committee, of the same college; a substitute holds no seat of their own and stands
    for one titular only."""
    require(actor, "session_create")
    territory_id = session_territory_id(actor, territory)
    ids = {"titular": inputs.read_id(titular_id), "substitute": inputs.read_id(substitute_id)}
    people = {u.pk: u for u in committee_members(territory_id).filter(pk__in=ids.values())}
    for key, pk in ids.items():
        if pk not in people:
            raise DomainError(
                "Le titulaire et le suppléant doivent être membres du comité du territoire.",
                errors={key: ["Membre du comité inconnu."]},
            )
    titular, substitute = people[ids["titular"]], people[ids["substitute"]]
    _check_pair(titular, substitute)
    try:
        with transaction.atomic():
            link, _ = CommitteeSubstitute.objects.update_or_create(
                titular=titular,
                defaults={"substitute": substitute, "named_by": actor, "named_at": timezone.now()},
            )
    except IntegrityError:
        raise DomainError(
            "Ce suppléant vient d'être désigné pour un autre titulaire : rechargez la page.",
            code="conflict",
        ) from None
    return link


def _check_pair(titular: User, substitute: User) -> None:
    if titular.pk == substitute.pk:
        raise DomainError(
            "Un membre ne peut pas être son propre suppléant.",
            errors={"substitute": ["Même personne."]},
        )
    if titular.college != substitute.college:
        raise DomainError(
            "Le suppléant doit appartenir au même collège que le titulaire "
            f"({titular.get_college_display() or 'collège non renseigné'}).",
            errors={"substitute": ["Autre collège."]},
        )
    if CommitteeSubstitute.objects.filter(substitute=titular).exists():
        raise DomainError(
            "Ce titulaire est lui-même suppléant d'un autre membre.",
            errors={"titular": ["Déjà suppléant."]},
        )
    if CommitteeSubstitute.objects.filter(titular=substitute).exists():
        raise DomainError(
            "Ce membre est titulaire et a son propre suppléant : il ne peut pas suppléer.",
            errors={"substitute": ["Titulaire avec suppléant."]},
        )
    taken = CommitteeSubstitute.objects.filter(substitute=substitute).exclude(titular=titular)
    if taken.exists():
        raise DomainError(
            "Ce membre est déjà le suppléant d'un autre titulaire.",
            errors={"substitute": ["Déjà suppléant."]},
        )
