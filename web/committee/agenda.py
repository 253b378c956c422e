"""How a session is laid out: each agenda item with its votes, the shares of the interest
groups, the averages per criterion and the outcome (projected or recorded); the figures
of the validity check; the members present by college. The rules (quorum, the 49 % rule,
outcomes) are ``cases.committee``'s; this module only lays out what they return."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from cases import committee as committee_service
from cases.models import CommitteeDecision, FundingRequest, SessionState, Vote
from cases.rules import euros, percent

from .common import instructor_summaries, member_group, member_name, points_text

OUTCOME_LABELS = dict(CommitteeDecision._meta.get_field("outcome").choices)
OUTCOME_BADGES = {"selected": "ok", "adjourned": "warn", "rejected": "danger"}


@dataclass
class GroupShare:
    group: str
    count: int
    share: Decimal

    @property
    def share_label(self) -> str:
        return percent(self.share)


@dataclass
class AgendaItem:
    fr: FundingRequest
    summary: str
    votes: list
    counts: Counter
    groups: list[GroupShare]
    outcome: str | None = None  # projected (planned) or recorded (closed)
    average: Decimal | None = None
    criteria_averages: list = field(default_factory=list)
    decision: CommitteeDecision | None = None
    own_vote: Vote | None = None
    form: dict | None = None  # values and errors to re-display
    valid: bool = True  # revised rule 12: each item on its own (projected or recorded)
    problems: list = field(default_factory=list)
    present: int | None = None
    conflicts: list = field(default_factory=list)  # the declarations of interest

    @property
    def anchor(self) -> str:
        return f"point-{self.fr.pk}"

    @property
    def outcome_label(self) -> str:
        """The outcome's name; for an item the committee cannot decide validly (read from
        ``session_outcomes`` or the recorded decision), « Ajourné (quorum non atteint) »."""
        if not self.outcome:
            return ""
        label = OUTCOME_LABELS.get(self.outcome, "")
        if self.valid:
            return label
        return f"{label} ({' ; '.join(problem_heads(self.problems)) or 'délibération non valable'})"

    @property
    def vote_rows(self) -> list[dict]:
        """The votes with the member's name and the total in French form (16,50)."""
        return [
            {"vote": v, "name": member_name(v.member), "total": points_text(v.total_score)}
            for v in self.votes
        ]

    @property
    def conflict_rows(self) -> list[dict]:
        return [{"name": member_name(c.member), "reason": c.reason} for c in self.conflicts]

    @property
    def outcome_badge(self) -> str:
        return OUTCOME_BADGES.get(self.outcome, "")

    @property
    def amount_label(self) -> str:
        return euros(self.fr.amount_requested)


def problem_heads(problems) -> list[str]:
    """The short form of each reason an item is not valid (« quorum non atteint »): the
    words before its figures. A recorded decision keeps its reasons as one text."""
    heads = []
    for problem in problems:
        for sentence in re.split(r"(?<=\.) (?=Quorum|Règle)", problem):
            head = sentence.split(" : ", 1)[0].split(" pour « ", 1)[0].strip()
            if head:
                heads.append(head[:1].lower() + head[1:])
    return heads


def _group_shares(votes) -> list[GroupShare]:
    groups = Counter(member_group(v.member) for v in votes)
    total = sum(groups.values())
    return [
        GroupShare(group, n, (Decimal(n) / Decimal(total)).quantize(Decimal("0.0001")))
        for group, n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _criteria_averages(scheme, votes) -> list[dict]:
    out = []
    for criterion in scheme.grid or []:
        values = []
        for vote in votes:
            raw = (vote.scores or {}).get(criterion["code"])
            if raw is not None:
                values.append(Decimal(str(raw)))
        average = (sum(values) / len(values)).quantize(Decimal("0.01")) if values else None
        out.append(
            {
                "code": criterion["code"],
                "label": criterion["label"],
                "max": criterion.get("max"),
                "average": average,
                "count": len(values),
            }
        )
    return out


def agenda_items(session, user=None, outcomes=None) -> list[AgendaItem]:
    """Each agenda item with its votes, group shares, and the outcome: recorded once the
    session is closed, projected by ``session_outcomes`` while it is planned."""
    agenda = list(session.agenda.all())
    votes_by_fr = defaultdict(list)
    for vote in session.votes.all():
        votes_by_fr[vote.funding_request_id].append(vote)
    decisions = {d.funding_request_id: d for d in session.decisions.all()}
    declarations = defaultdict(list)
    for declaration in session.declarations.select_related("member"):
        declarations[declaration.funding_request_id].append(declaration)
    summaries = instructor_summaries(agenda)
    projected = {}
    if session.state == SessionState.PLANNED:
        outcomes = outcomes or committee_service.session_outcomes(session)
        projected = {o.funding_request.pk: o for o in outcomes.items}
    items = []
    for fr in agenda:
        votes = votes_by_fr.get(fr.pk, [])
        item = AgendaItem(
            fr=fr,
            summary=summaries.get(fr.pk, ""),
            votes=votes,
            counts=Counter(v.vote for v in votes),
            groups=_group_shares(votes),
            criteria_averages=_criteria_averages(session.scheme, votes),
        )
        item.conflicts = declarations.get(fr.pk, [])
        _outcome_of(item, decisions.get(fr.pk), projected.get(fr.pk))
        if user is not None:
            item.own_vote = next((v for v in votes if v.member_id == user.pk), None)
        items.append(item)
    return items


def _outcome_of(item: AgendaItem, decision, projected) -> None:
    """The recorded decision (closed session), else the projected outcome, with the
    item's validity (revised rule 12)."""
    if decision is not None:
        item.decision = decision
        item.outcome = decision.outcome
        item.average = decision.average_score
        item.valid = decision.valid
        item.problems = [decision.reason] if decision.reason else []
        item.present = decision.present
    elif projected is not None:
        item.outcome = projected.outcome
        item.average = projected.average_score
        item.valid = projected.valid
        item.problems = projected.problems
        item.present = projected.present


def substitutions(session) -> list[dict]:
    """Substitutes who sat (meeting) or replied (written) for an absent titular."""
    return [
        {"substitute": member_name(sub), "titular": member_name(titular)}
        for sub, titular in committee_service.session_substitutions(session)
    ]


def attendance(session) -> dict:
    """Members present out of the committee, and the scheme's quorum and group limit."""
    present = len(session.members.all())
    total = committee_service.committee_size(session)
    return {
        "present": present,
        "total": total,
        "present_share": percent(Decimal(present) / Decimal(total)) if total else "0 %",
        "quorum_rate": percent(session.scheme.quorum_rate),
        "max_group_share": percent(session.scheme.max_group_share),
    }


def validity(session, outcomes=None) -> dict:
    """Figures of the validity check; the verdict comes from ``session_outcomes`` only."""
    outcomes = outcomes or committee_service.session_outcomes(session)
    return {
        "problems": outcomes.problems,
        "valid": not outcomes.problems,
        "invalid_items": sum(1 for o in outcomes.items if not o.valid),
        **attendance(session),
    }


def members_by_college(members) -> list[dict]:
    """Members present grouped by college then interest group, for the page and minutes."""
    grouped: dict[tuple[str, str], list] = defaultdict(list)
    for member in members:
        college = member.get_college_display() or "Collège non renseigné"
        grouped[(college, member_group(member))].append(member)
    return [
        {
            "college": college,
            "group": group,
            "members": people,
            "names": [member_name(m) for m in people],
            "count": len(people),
        }
        for (college, group), people in sorted(grouped.items())
    ]
