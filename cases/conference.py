"""The funders' conference (issue 14, « conférence des financeurs »), reads: the sessions a
user may see, a session's agenda with, for each dossier, its financing plan, its requests
and the funders' positions, and the plan « re-balanced » with the amounts the funders
intend — the 80 %/20 % and the schemes' rules re-run by ``cases.rules.check_plan`` (one
place per rule). A position is an intention, never a decision (domain.md « Programming »).

Who: the territory's agents, director and admin (``in_territory``); a funder's instructor
reads the sessions its funder attends and records positions on its funder's requests only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from engine.errors import DomainError

from . import rules, selectors
from .models import (
    CASE_TERMINAL,
    REQUEST_UNDECIDED,
    Case,
    ConferenceItem,
    ConferencePosition,
    ConferenceSession,
    FundingRequest,
    PositionStance,
    ResourceLine,
    User,
)
from .models.funding import DEAD_REQUESTS
from .permissions import allowed
from .services.plan import check_plan_kwargs

R = User.Role
ZERO = Decimal("0.00")
GAP_LABEL = "Reste à couvrir par le porteur ou à trouver"
STANCE_LABELS = dict(PositionStance.choices)
#: At most this many dossiers offered for the agenda (the most recent first).
CANDIDATES_MAX = 300


def may_read(user) -> bool:
    return allowed(user, "conference_read")


def may_manage(user) -> bool:
    return allowed(user, "conference_manage")


def session_list(*, user) -> QuerySet[ConferenceSession]:
    """The sessions the user may see: its territory's (staff), its funder's (instructor)."""
    qs = ConferenceSession.objects.select_related("territory")
    if not may_read(user):
        return qs.none()
    if user.effective_role == R.FUNDER_INSTRUCTOR:
        return qs.filter(funders=user.funder_id) if user.funder_id else qs.none()
    return selectors.in_territory(qs, user)


def session_get(*, user, pk: int) -> ConferenceSession:
    session = session_list(user=user).filter(pk=pk).first()
    if session is None:
        raise DomainError("Séance de la conférence des financeurs introuvable.", code="not_found")
    return session


def may_position(user, fr: FundingRequest) -> bool:
    """An agent or admin records any funder's position; an instructor its funder's only."""
    if not allowed(user, "conference_position"):
        return False
    if user.effective_role == R.FUNDER_INSTRUCTOR:
        return bool(user.funder_id) and fr.scheme.funder_id == user.funder_id
    return True


def agenda_candidates(*, session: ConferenceSession) -> QuerySet[Case]:
    """The session territory's live dossiers with an undecided request, not on the agenda."""
    return (
        Case.objects.filter(
            territory_id=session.territory_id,
            funding_requests__state__in=REQUEST_UNDECIDED,
        )
        .exclude(state__in=CASE_TERMINAL)
        .exclude(pk__in=session.items.values("case_id"))
        .select_related("organisation")
        .distinct()
        .order_by("-pk")
    )


# ---------------------------------------------------------------- the re-balanced plan


@dataclass
class PlanLine:
    label: str
    requested: Decimal
    intended: Decimal
    note: str = ""  # the position behind the intended amount, or why it is the requested one


@dataclass
class Rebalanced:
    lines: list[PlanLine]
    total_eligible: Decimal
    requested_public: Decimal  # what the schemes' lines ask
    intended_public: Decimal  # what the funders intend on those lines
    gap: Decimal  # > 0: to cover by the owner or to find; < 0: the intentions exceed the need
    summary: rules.PlanSummary  # check_plan on the plan with the intended amounts

    @property
    def messages(self) -> list[str]:
        return rules.plan_messages(self.summary)

    @property
    def excess(self) -> Decimal:
        """What the intentions give beyond the need (0 when they do not)."""
        return max(-self.gap, ZERO)

    @property
    def public_rate(self) -> str:
        return rules.percent(self.summary.public_aid_rate)


def intended_amount(position: ConferencePosition | None, requested: Decimal) -> Decimal:
    """What a funder intends on a line: its amount if it will fund (the requested one when
    it gave none), nothing if it declines; until it says so, the requested amount."""
    if position is None or position.stance == PositionStance.MORE:
        return requested
    if position.stance == PositionStance.DECLINE:
        return ZERO
    return position.amount if position.amount is not None else requested


def _note(position: ConferencePosition | None) -> str:
    if position is None:
        return "sans position : montant demandé"
    if position.stance == PositionStance.MORE:
        return "compléments demandés : montant demandé"
    return STANCE_LABELS.get(position.stance, position.stance)


def rebalance(case: Case, requests: list[FundingRequest], positions: dict) -> Rebalanced:
    """The plan of ``case`` with each scheme line at the amount its funder intends (the
    ``positions`` by request id), the gap put on the owner's side, checked by the rules."""
    rows = list(case.resources.all())
    expenses, resources = rules.lines_from_rows(case.expenses.all(), rows)
    by_scheme = {fr.scheme_id: fr for fr in requests}
    kinds = dict(ResourceLine.Kind.choices)
    lines, kept = [], []
    requested_public = intended_public = ZERO
    for row, res in zip(rows, resources, strict=True):
        fr = by_scheme.get(row.scheme_id) if row.kind == ResourceLine.Kind.SCHEME else None
        if fr is None:
            label = rules.scheme_label(row.scheme) if row.scheme_id else kinds.get(row.kind, "")
            lines.append(
                PlanLine(label + (f" « {row.label} »" if row.label else ""), *[res.amount] * 2)
            )
            kept.append(res)
            continue
        position = positions.get(fr.pk)
        intended = intended_amount(position, res.amount)
        note = _note(position)
        if fr.state in DEAD_REQUESTS:  # refused, rejected, withdrawn or lapsed: nothing
            intended, note = ZERO, f"demande {fr.get_state_display().lower()}"
        requested_public += res.amount
        intended_public += intended
        lines.append(PlanLine(rules.scheme_label(row.scheme), res.amount, intended, note))
        if intended > 0:
            kept.append(replace(res, amount=intended))
    check = check_plan_kwargs(case)
    first = rules.check_plan(expenses, kept, **check)
    gap = first.total_eligible - first.total_resources
    summary = first
    if gap > 0:
        kept.append(rules.Resource("self", gap, None, GAP_LABEL))
        summary = rules.check_plan(expenses, kept, **check)
    return Rebalanced(
        lines=lines,
        total_eligible=first.total_eligible,
        requested_public=requested_public,
        intended_public=intended_public,
        gap=gap,
        summary=summary,
    )


# ---------------------------------------------------------------- a session's agenda


@dataclass
class RequestRow:
    fr: FundingRequest
    position: ConferencePosition | None
    may_record: bool

    @property
    def stance_label(self) -> str:
        return STANCE_LABELS.get(self.position.stance, "") if self.position else ""


@dataclass
class AgendaEntry:
    item: ConferenceItem
    case: Case
    requests: list[RequestRow] = field(default_factory=list)
    plan: Rebalanced | None = None


def agenda(
    *, session: ConferenceSession, user, positions: list[ConferencePosition] | None = None
) -> list[AgendaEntry]:
    """Every dossier of the agenda with its requests, positions and re-balanced plan, in a
    fixed number of queries whatever the length of the agenda. ``positions``: the session's
    (``session_positions``) when the caller has read them already (the minutes)."""
    items = session.items.select_related(
        "case__organisation", "case__own_share_case", "case__epci"
    ).prefetch_related(
        "case__expenses",
        Prefetch("case__resources", queryset=ResourceLine.objects.select_related("scheme__funder")),
        Prefetch(
            "case__funding_requests",
            queryset=FundingRequest.objects.select_related("scheme__funder").order_by(
                "scheme__funder__name", "scheme__code"
            ),
        ),
    )
    if positions is None:
        positions = session_positions(session)
    by_request = {p.funding_request_id: p for p in positions}
    out = []
    for item in items:
        requests = list(item.case.funding_requests.all())
        rows = [
            RequestRow(fr, by_request.get(fr.pk), may_position(user, fr))
            for fr in requests
            if fr.state not in DEAD_REQUESTS
        ]
        plan = rebalance(item.case, requests, by_request)
        out.append(AgendaEntry(item, item.case, rows, plan))
    return out


def session_positions(session: ConferenceSession) -> QuerySet[ConferencePosition]:
    """Every position recorded at ``session`` (for the minutes: none left out)."""
    return session.positions.select_related(
        "funding_request__scheme__funder", "funding_request__case", "recorded_by"
    ).order_by("funding_request__case__title", "funding_request__scheme__funder__name", "pk")


def positions_seen(*, user) -> QuerySet[ConferencePosition]:
    """The positions ``user`` may read: those of the sessions it sees, none without the
    right to read the conference (one rule for the dossier page and the maquette)."""
    if not may_read(user):
        return ConferencePosition.objects.none()
    return ConferencePosition.objects.filter(session__in=session_list(user=user))


def case_positions(*, case: Case, user) -> list[ConferencePosition]:
    """The positions taken on ``case``'s requests, latest session first (the dossier page);
    only for those who may read the conference, only the sessions they may see."""
    if not may_read(user):
        return []
    return list(
        positions_seen(user=user)
        .filter(funding_request__case=case)
        .select_related("session", "funding_request__scheme__funder")
        .order_by("-session__date", "-recorded_at", "-pk")[:50]
    )


def latest_positions(case_ids: list[int], *, user) -> dict[tuple[int, str], list[str]]:
    """The latest position ``user`` may read (``positions_seen``) on each live request of
    ``case_ids``, as text per (dossier, funder code): one query for a page of the maquette,
    whatever its length (none for who may not read the conference)."""
    if not may_read(user):
        return {}
    rows = (
        positions_seen(user=user)
        .filter(funding_request__case_id__in=case_ids)
        .exclude(funding_request__state__in=DEAD_REQUESTS)
        .order_by("funding_request_id", "-session__date", "-recorded_at", "-pk")
        .values_list(
            "funding_request_id",
            "funding_request__case_id",
            "funding_request__scheme__funder__code",
            "stance",
            "amount",
            "session__date",
        )
    )
    out: dict[tuple[int, str], list[str]] = {}
    seen: set[int] = set()
    for fr_id, case_id, funder, stance, amount, day in rows:
        if fr_id in seen:
            continue
        seen.add(fr_id)
        text = STANCE_LABELS.get(stance, stance)
        if amount is not None and stance != PositionStance.DECLINE:
            text += f" {rules.euros(amount)}"
        out.setdefault((case_id, funder), []).append(f"{text} (conférence du {day:%d/%m/%Y})")
    return out
