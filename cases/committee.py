"""LEADER committee: agenda, votes and scores, seats (substitutes), validity of each item
(quorum and 49 % rule without the members who declared an interest), outcomes (revised
rule 12). Declarations of interest and the naming of substitutes: ``committee_seats``."""

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

from .committee_seats import (
    agenda_item,
    replies_open,
    seat_for_vote,
    session_locked,
    session_member,
)
from .models import (
    CommitteeDecision,
    CommitteeSession,
    CommitteeSubstitute,
    FundingRequest,
    RequestState,
    SessionKind,
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
    # A substitute holds no seat of their own: the quorum counts the titular members.
    return committee_members(territory_id).filter(committee_titular__isnull=True).count()


def substitutes_map() -> dict[int, int]:
    """The standing designations: substitute's id → their titular's id."""
    return dict(CommitteeSubstitute.objects.values_list("substitute_id", "titular_id"))


@dataclass
class Seating:
    """Who sits in a meeting: each titular present sits in their seat; a substitute sits
    in the seat of their absent titular; a substitute whose titular is present does not
    count (never both)."""

    seats: dict[int, int] = field(default_factory=dict)  # titular id → member sitting
    substitutions: list[tuple[int, int]] = field(default_factory=list)  # (substitute, titular)
    idle: list[tuple[int, int]] = field(default_factory=list)  # substitutes not sitting


def seating(member_ids, subs: dict[int, int]) -> Seating:
    present = set(member_ids)
    out = Seating()
    for member_id in sorted(present):
        titular = subs.get(member_id)
        if titular is None:
            out.seats[member_id] = member_id
        elif titular in present:
            out.idle.append((member_id, titular))
        else:
            out.seats[titular] = member_id
            out.substitutions.append((member_id, titular))
    return out


@dataclass
class Outcome:
    funding_request: FundingRequest
    outcome: str
    votes: Counter
    average_score: Decimal | None
    valid: bool = True
    problems: list[str] = field(default_factory=list)
    present: int = 0
    conflicted: list[int] = field(default_factory=list)  # members who declared an interest

    @property
    def reason(self) -> str:
        return " ".join(self.problems)


@dataclass
class Outcomes:
    items: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # every invalid item's, titled
    seating: Seating | None = None


def counted_votes(session, votes, conflicted: set[int], seats: Seating | None) -> list[Vote]:
    """The votes that count on one item: none from a member who declared an interest, nor
    for the seat of a titular who did; in a meeting, no substitute's vote when the titular
    sits; one vote per seat (the titular's own first)."""
    by_seat: dict[int, Vote] = {}
    for vote in sorted(votes, key=lambda v: v.on_behalf_of_id is not None):
        seat = vote.on_behalf_of_id or vote.member_id
        if vote.member_id in conflicted or seat in conflicted or seat in by_seat:
            continue
        if seats is not None and vote.on_behalf_of_id and seats.seats.get(seat) != vote.member_id:
            continue
        by_seat[seat] = vote
    return list(by_seat.values())


def item_present(session, counted, conflicted: set[int], seats: Seating | None) -> int:
    """Seats counted for an item's quorum: in a meeting, the seats sitting but those whose
    member (or titular) declared an interest; in a written consultation, the replies."""
    if seats is None:
        return len(counted)
    return sum(
        1
        for seat, sitting in seats.seats.items()
        if seat not in conflicted and sitting not in conflicted
    )


def item_problems(
    session, fr, counted, present: int, n_conflicted: int, total: int | None = None
) -> list[str]:
    """Revised rule 12: an item is valid on its own — quorum of the committee's seats
    (conflicted members not counted) and no interest group above the limit of its votes.
    ``total``: the committee's size when the caller already knows it."""
    scheme = session.scheme
    problems = []
    total = committee_size(session) if total is None else total
    needed = (Decimal(total) * scheme.quorum_rate).quantize(Decimal("1"), rounding="ROUND_CEILING")
    if total == 0 or present < needed:
        who = "réponse(s) reçue(s)" if session.written else "membre(s) présent(s)"
        aside = (
            f" ({n_conflicted} membre(s) en conflit d'intérêts non compté(s))"
            if n_conflicted
            else ""
        )
        problems.append(
            f"Quorum non atteint : {present} {who} sur {total}{aside}, il en faut au moins "
            f"{needed} ({int(scheme.quorum_rate * 100)} %)."
        )
    if counted:
        groups = Counter(interest_group_of(v.on_behalf_of or v.member) for v in counted)
        group, n = groups.most_common(1)[0]
        share = Decimal(n) / Decimal(len(counted))
        if share > scheme.max_group_share:
            problems.append(
                f"Règle des 49 % non respectée pour « {fr.case.title} » : le groupe "
                f"« {group} » détient {n} des {len(counted)} voix exprimées "
                f"({(share * 100).quantize(Decimal('1'))} %)."
            )
    return problems


def item_outcome(counts: Counter, average, minimum) -> str:
    if not sum(counts.values()) or counts["for"] == counts["against"]:
        return "adjourned"
    if counts["for"] > counts["against"]:
        return "selected" if average is None or average >= minimum else "adjourned"
    return "rejected"


def _rows(session: CommitteeSession, name: str, queryset) -> list:
    """A session's related rows: those prefetched by ``selectors.session_detail_list``
    when the caller read the session that way (a list of sessions in bounded queries),
    else ``queryset``."""
    if name in getattr(session, "_prefetched_objects_cache", {}):
        return list(getattr(session, name).all())
    return list(queryset)


def agenda_of(session: CommitteeSession) -> list[FundingRequest]:
    """The session's agenda, in the order of its items."""
    agenda = _rows(session, "agenda", session.agenda.select_related("case"))
    return sorted(agenda, key=lambda fr: fr.pk)


def session_outcomes(
    session: CommitteeSession, *, subs: dict[int, int] | None = None, size: int | None = None
) -> Outcomes:
    """Check each agenda item on its own and compute its outcome, without writing: an
    invalid item is adjourned with its reason, the others are decided. ``subs`` and
    ``size``: the substitutes' map and the committee's size, when a list of sessions
    already read them."""
    members = _rows(session, "members", session.members.all())
    subs = substitutes_map() if subs is None else subs
    seats = None if session.written else seating([m.pk for m in members], subs)
    out = Outcomes(seating=seats)
    votes_by_request: dict[int, list[Vote]] = {}
    for vote in _rows(session, "votes", session.votes.select_related("member", "on_behalf_of")):
        votes_by_request.setdefault(vote.funding_request_id, []).append(vote)
    conflicts: dict[int, set[int]] = {}
    for d in _rows(session, "declarations", session.declarations.all()):
        conflicts.setdefault(d.funding_request_id, set()).add(d.member_id)
    minimum = session.scheme.grid_min_score or Decimal(0)
    total = committee_size(session) if size is None else size
    for fr in agenda_of(session):
        conflicted = conflicts.get(fr.pk, set())
        counted = counted_votes(session, votes_by_request.get(fr.pk, []), conflicted, seats)
        present = item_present(session, counted, conflicted, seats)
        problems = item_problems(session, fr, counted, present, len(conflicted), total)
        counts = Counter(v.vote for v in counted)
        scores = [v.total_score for v in counted if v.scores]
        average = (sum(scores) / len(scores)).quantize(Decimal("0.01")) if scores else None
        outcome = "adjourned" if problems else item_outcome(counts, average, minimum)
        item = Outcome(fr, outcome, counts, average, not problems, problems, present)
        item.conflicted = sorted(conflicted)
        out.items.append(item)
        out.problems += [
            p if fr.case.title in p else f"« {fr.case.title} » : {p}" for p in problems
        ]
    return out


def session_substitutions(session: CommitteeSession, seats: Seating | None = None) -> list:
    """(substitute, titular) pairs of a session: in a meeting, each substitute sitting for
    an absent titular; in a written consultation, each substitute who replied for one."""
    if not session.written:
        seats = seats or seating([m.pk for m in session.members.all()], substitutes_map())
        pairs = seats.substitutions
    else:
        pairs = sorted(
            {(v.member_id, v.on_behalf_of_id) for v in session.votes.all() if v.on_behalf_of_id}
        )
    people = User.objects.in_bulk({pk for pair in pairs for pk in pair})
    return [(people[s], people[t]) for s, t in pairs if s in people and t in people]


TRANSITION_FOR_OUTCOME = {"selected": "select", "adjourned": "adjourn", "rejected": "reject"}


def session_apply_outcomes(session: CommitteeSession, outcomes: Outcomes) -> None:
    what = "Consultation écrite" if session.written else "Comité de programmation"
    for item in outcomes.items:
        CommitteeDecision.objects.create(
            session=session,
            funding_request=item.funding_request,
            outcome=item.outcome,
            votes_for=item.votes["for"],
            votes_against=item.votes["against"],
            votes_abstain=item.votes["abstain"],
            average_score=item.average_score,
            valid=item.valid,
            reason=item.reason,
            present=item.present,
        )
        fr = FundingRequest.objects.get(pk=item.funding_request.pk)
        if fr.state == RequestState.AWAITING_COMMITTEE:
            comment = f"{what} du {session.date:%d/%m/%Y}."
            if not item.valid:
                comment += " Ajournée, le comité n'ayant pu délibérer valablement : " + item.reason
            transition_apply(
                instance=fr,
                name=TRANSITION_FOR_OUTCOME[item.outcome],
                comment=comment,
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


def session_kind(kind, date, closes_on):
    """A meeting, or a written consultation launched on ``date`` whose replies arrive by
    ``closes_on`` (required, after the launch)."""
    kind = inputs.parse_choice(
        kind or SessionKind.MEETING,
        field="kind",
        label="le type de séance",
        choices=SessionKind.values,
    )
    if kind == SessionKind.MEETING:
        if closes_on not in (None, ""):
            raise DomainError(
                "Une date limite des réponses ne s'indique que pour une consultation écrite.",
                errors={"closes_on": ["Réservé à la consultation écrite."]},
            )
        return kind, None
    closes_on = inputs.parse_date(
        closes_on, field="closes_on", label="date limite des réponses", required=True
    )
    if closes_on < date:
        raise DomainError(
            f"La date limite des réponses ({closes_on:%d/%m/%Y}) précède le lancement de la "
            f"consultation ({date:%d/%m/%Y}).",
            errors={"closes_on": ["Avant le lancement."]},
        )
    return kind, closes_on


def session_members(territory_id, members, kind) -> list[User]:
    """The members present (meeting) or consulted (written: by default the whole
    committee, substitutes included), all of the territory's committee."""
    everyone = committee_members(territory_id)
    if members is None:
        if kind == SessionKind.MEETING:
            raise DomainError(
                "Indiquez les membres présents.", errors={"members": ["Obligatoire."]}
            )
        return list(everyone)
    member_users = list(everyone.filter(pk__in=members))
    unknown = set(members) - {u.pk for u in member_users}
    if unknown:
        raise DomainError(
            "Ces utilisateurs ne sont pas membres du comité : "
            + ", ".join(str(x) for x in sorted(unknown))
            + ".",
            errors={"members": ["Membres inconnus."]},
        )
    return member_users


def session_create(
    *, actor, date, members: list[int] | None, scheme, territory=None, kind=None, closes_on=None
) -> CommitteeSession:
    """Plan a session of the actor's territory — a meeting, or a written consultation with
    its closing date: its members and the requests of its dossiers awaiting the committee
    that no other planned session has on its agenda."""
    require(actor, "session_create")
    date = inputs.parse_date(date, field="date", label="date de la séance", required=True)
    kind, closes_on = session_kind(kind, date, closes_on)
    scheme = committee_scheme(scheme)
    territory_id = session_territory_id(actor, territory)
    member_users = session_members(territory_id, members, kind)
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
            date=date, scheme=scheme, territory_id=territory_id, kind=kind, closes_on=closes_on
        )
        session.members.set(member_users)
        session.agenda.set(free)
    return session


def vote_record(
    *, actor, session: CommitteeSession, funding_request_id, member_id, vote: str, scores
) -> Vote:
    """Record (or change) one member's vote and scores on one item of a planned session,
    under the session's lock (the aggregate of its votes, declarations and agenda). A
    substitute votes in the seat of their absent titular; a titular's own reply replaces
    their substitute's."""
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
        session = session_locked(session.pk)
        replies_open(session)
        member = session_member(session, member_id)
        fr = agenda_item(session, funding_request_id)
        titular = seat_for_vote(session, member, fr)
        session.votes.filter(funding_request=fr, on_behalf_of=member).delete()
        obj, _ = Vote.objects.update_or_create(
            session=session,
            funding_request=fr,
            member=member,
            defaults={
                "vote": vote,
                "scores": scores,
                "total_score": total,
                "on_behalf_of": titular,
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
