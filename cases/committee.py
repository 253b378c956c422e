"""LEADER committee: agenda, votes and scores, validity (quorum, 49 % rule), outcomes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from engine import inputs
from engine.errors import DomainError
from engine.transitions import transition_apply
from schemes.models import Territory

from .models import (
    CommitteeDecision,
    CommitteeSession,
    FundingRequest,
    RequestState,
    SessionState,
    User,
    Vote,
)
from .permissions import require

PUBLIC_GROUP = "autorités publiques"


def interest_group_of(member) -> str:
    """The public college is one interest group, whatever its members declare."""
    if member.college == User.College.PUBLIC:
        return PUBLIC_GROUP
    return member.interest_group or PUBLIC_GROUP


def committee_members(territory_id) -> QuerySet[User]:
    """The active members of a territory's committee (each GAL has its own)."""
    return User.objects.filter(
        role=User.Role.COMMITTEE_MEMBER, is_active=True, territory_id=territory_id
    )


def committee_size(session: CommitteeSession | None = None, territory=None) -> int:
    """Members of the session's committee: as frozen when it was closed, else today's.
    Without a session: today's committee of ``territory`` (by default the installation's
    only territory)."""
    if session is not None:
        if session.committee_size is not None:
            return session.committee_size
        territory_id = session.territory_id
    else:
        territory_id = getattr(territory, "pk", territory) or Territory.sole_id()
    return committee_members(territory_id).count()


@dataclass
class Outcome:
    funding_request: FundingRequest
    outcome: str
    votes: Counter
    average_score: Decimal | None


@dataclass
class Outcomes:
    items: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def session_outcomes(session: CommitteeSession) -> Outcomes:
    """Check validity and compute the outcome of each agenda item, without writing."""
    scheme = session.scheme
    out = Outcomes()
    present = session.members.count()
    total = committee_size(session)
    needed = (Decimal(total) * scheme.quorum_rate).quantize(Decimal("1"), rounding="ROUND_CEILING")
    if total == 0 or present < needed:
        out.problems.append(
            f"Quorum non atteint : {present} membre(s) présent(s) sur {total}, il en faut au "
            f"moins {needed} ({int(scheme.quorum_rate * 100)} %)."
        )
    votes_by_request: dict[int, list[Vote]] = {}
    for vote in session.votes.select_related("member"):
        votes_by_request.setdefault(vote.funding_request_id, []).append(vote)
    minimum = scheme.grid_min_score or Decimal(0)
    for fr in session.agenda.select_related("case").order_by("id"):
        votes = votes_by_request.get(fr.pk, [])
        counts = Counter(v.vote for v in votes)
        if votes:
            groups = Counter(interest_group_of(v.member) for v in votes)
            group, n = groups.most_common(1)[0]
            share = Decimal(n) / Decimal(len(votes))
            if share > scheme.max_group_share:
                out.problems.append(
                    f"Règle des 49 % non respectée pour « {fr.case.title} » : le groupe "
                    f"« {group} » détient {n} des {len(votes)} voix exprimées "
                    f"({(share * 100).quantize(Decimal('1'))} %)."
                )
        scores = [v.total_score for v in votes if v.scores]
        average = (sum(scores) / len(scores)).quantize(Decimal("0.01")) if scores else None
        if not votes or counts["for"] == counts["against"]:
            outcome = "adjourned"
        elif counts["for"] > counts["against"]:
            outcome = "selected" if average is None or average >= minimum else "adjourned"
        else:
            outcome = "rejected"
        out.items.append(Outcome(fr, outcome, counts, average))
    return out


TRANSITION_FOR_OUTCOME = {"selected": "select", "adjourned": "adjourn", "rejected": "reject"}


def session_apply_outcomes(session: CommitteeSession, outcomes: Outcomes) -> None:
    for item in outcomes.items:
        CommitteeDecision.objects.create(
            session=session,
            funding_request=item.funding_request,
            outcome=item.outcome,
            votes_for=item.votes["for"],
            votes_against=item.votes["against"],
            votes_abstain=item.votes["abstain"],
            average_score=item.average_score,
        )
        fr = FundingRequest.objects.get(pk=item.funding_request.pk)
        if fr.state == RequestState.AWAITING_COMMITTEE:
            transition_apply(
                instance=fr,
                name=TRANSITION_FOR_OUTCOME[item.outcome],
                comment=f"Comité de programmation du {session.date:%d/%m/%Y}.",
                data={"session": session.pk, "date": session.date},
            )


def session_territory_id(actor, territory=None) -> int:
    """The territory of a new session: the actor's; a superuser names it when the
    installation has several."""
    if actor.territory_id and not actor.is_superuser:
        return actor.territory_id
    territory_id = getattr(territory, "pk", territory) or actor.territory_id or Territory.sole_id()
    if territory_id is None:
        raise DomainError(
            "Précisez le territoire de la séance.", errors={"territory": ["Obligatoire."]}
        )
    return territory_id


def committee_scheme(scheme):
    """The scheme of a session (a ``Scheme`` or its code): one that goes through the
    committee, else a French 400."""
    if isinstance(scheme, str):
        model = FundingRequest._meta.get_field("scheme").related_model
        code, scheme = scheme, model.objects.filter(code=scheme).first()
    else:
        code = getattr(scheme, "code", "")
    if scheme is None or not scheme.committee:
        raise DomainError(
            f"Le dispositif « {str(code)[:20]} » ne passe pas en comité.",
            errors={"scheme": ["Dispositif sans comité."]},
        )
    return scheme


def session_create(*, actor, date, members: list[int], scheme, territory=None) -> CommitteeSession:
    """Plan a session of the actor's territory: its members and the requests of its
    dossiers awaiting the committee that no other planned session has on its agenda."""
    require(actor, "session_create")
    date = inputs.parse_date(date, field="date", label="date de la séance", required=True)
    scheme = committee_scheme(scheme)
    territory_id = session_territory_id(actor, territory)
    member_users = list(committee_members(territory_id).filter(pk__in=members))
    unknown = set(members) - {u.pk for u in member_users}
    if unknown:
        raise DomainError(
            "Ces utilisateurs ne sont pas membres du comité : "
            + ", ".join(str(x) for x in sorted(unknown))
            + ".",
            errors={"members": ["Membres inconnus."]},
        )
    with transaction.atomic():
        waiting = FundingRequest.objects.filter(
            scheme=scheme,
            state=RequestState.AWAITING_COMMITTEE,
            case__territory_id=territory_id,
        )
        # Lock the candidates, then read which are taken: a session planned at the same
        # moment waits here and then sees this one's agenda (a request is on one agenda).
        list(waiting.select_for_update().values_list("pk", flat=True))
        free = waiting.exclude(committee_sessions__state=SessionState.PLANNED).values_list(
            "pk", flat=True
        )
        free = list(free)
        session = CommitteeSession.objects.create(
            date=date, scheme=scheme, territory_id=territory_id
        )
        session.members.set(member_users)
        session.agenda.set(free)
    return session


def vote_record(
    *, actor, session: CommitteeSession, funding_request_id, member_id, vote: str, scores
) -> Vote:
    """Record (or change) one member's vote and scores on one item of a planned session,
    under the session's lock (the aggregate of its votes and agenda)."""
    role = actor.effective_role
    if role == User.Role.COMMITTEE_MEMBER:
        if member_id not in (None, actor.pk):
            raise DomainError("Un membre ne vote que pour lui-même.", code="forbidden")
        member_id = actor.pk
    else:
        require(actor, "vote_record")
    vote = inputs.parse_choice(vote, field="vote", label="le vote", choices=Vote.Choice.values)
    member_id = inputs.read_id(member_id)
    funding_request_id = inputs.read_id(funding_request_id)
    total, scores = _score_total(session.scheme, scores)
    with transaction.atomic():
        session = CommitteeSession.objects.select_for_update().get(pk=session.pk)
        if session.state != SessionState.PLANNED:
            raise DomainError("La séance est close.", code="unavailable")
        if timezone.localdate() < session.date:
            raise DomainError(
                f"La séance du {session.date:%d/%m/%Y} n'a pas encore eu lieu : les votes "
                "s'enregistrent à partir de ce jour.",
                code="unavailable",
            )
        member = session.members.filter(pk=member_id).first() if member_id else None
        if member is None:
            raise DomainError(
                "Ce membre n'est pas inscrit comme présent à la séance.",
                errors={"member": ["Absent de la séance."]},
            )
        fr = session.agenda.filter(pk=funding_request_id).first() if funding_request_id else None
        if fr is None:
            raise DomainError(
                "Cette demande n'est pas à l'ordre du jour de la séance.",
                errors={"funding_request": ["Hors ordre du jour."]},
            )
        obj, _ = Vote.objects.update_or_create(
            session=session,
            funding_request=fr,
            member=member,
            defaults={
                "vote": vote,
                "scores": scores,
                "total_score": total,
                "recorded_by": actor,
                "recorded_at": timezone.now(),
            },
        )
    return obj


def _score_total(scheme, scores) -> tuple[Decimal, dict]:
    """The total of a member's scores on the grid, and the scores as stored (numbers
    within each criterion's maximum, two decimals at most, French or ASCII form)."""
    if scores is None:
        scores = {}
    if not isinstance(scores, dict):
        raise DomainError(
            "Les notes sont un objet {critère: points}.", errors={"scores": ["Objet attendu."]}
        )
    grid = {c["code"]: c for c in scheme.grid or []}
    total = Decimal(0)
    clean = {}
    for code, points in scores.items():
        criterion = grid.get(code)
        if criterion is None:
            raise DomainError(
                f"Critère inconnu dans la grille : « {str(code)[:50]} ».",
                errors={"scores": [f"Critère inconnu : {str(code)[:50]}"]},
            )
        try:
            value = inputs.parse_decimal(
                points,
                field="scores",
                label=f"« {criterion['label']} »",
                what="un nombre de points",
                maximum=Decimal(str(criterion.get("max", 0))),
            )
        except DomainError as exc:
            raise DomainError(exc.message, errors={"scores": [exc.message]}) from None
        total += value
        clean[code] = int(value) if value == value.to_integral_value() else float(value)
    return total, clean
