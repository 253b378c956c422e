"""Reads for the public transparency page: no user, no personal data, bounded queries.

Only what the territory publishes: each scheme's envelope and how much of it is
programmed, committed and paid; the dossiers that were decided (never a draft, never a
dossier under instruction); the LEADER committee's sessions and decisions. People are
never named: a project is shown with its holder organisation and communes.

Every read is for one territory (``public_territory``): the page of a PETR shows its
dossiers, its committee and its share of each scheme. A scheme's envelope is one figure
for the installation: it is shown only when the installation has one territory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case as CaseWhen
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from schemes.models import Scheme, Territory

from .models import (
    Case,
    CaseState,
    CommitteeDecision,
    CommitteeSession,
    FundingRequest,
    Payment,
    RequestState,
    SessionState,
    User,
    Vote,
)

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)

# Dossiers shown as « projets soutenus »: decided and later, never refused nor abandoned.
PUBLIC_CASE_STATES = [
    CaseState.DECIDED,
    CaseState.IN_PROGRESS,
    CaseState.COMPLETED,
    CaseState.CLOSED,
]
# A grant counts as programmed from the decision on; committed from the convention on.
GRANTED_STATES = [
    RequestState.GRANTED,
    RequestState.COMMITTED,
    RequestState.PAYING,
    RequestState.PAID,
]
COMMITTED_STATES = [RequestState.COMMITTED, RequestState.PAYING, RequestState.PAID]


@dataclass
class SchemeBudget:
    scheme: Scheme
    envelope: Decimal | None
    granted: Decimal = ZERO
    selected: Decimal = ZERO  # selected by the LEADER committee, not yet granted
    committed: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def programmed(self) -> Decimal:
        return self.granted + self.selected

    @property
    def available(self) -> Decimal | None:
        if self.envelope is None:
            return None
        return self.envelope - self.programmed

    def share(self, amount: Decimal) -> Decimal:
        """Part of the envelope, between 0 and 1 (for the bars)."""
        if not self.envelope:
            return Decimal(0)
        return max(Decimal(0), min(Decimal(1), amount / self.envelope))


def public_territory(slug: str | None = None) -> Territory | None:
    """The territory whose page is asked for (``slug``), by default the first one; None
    for an unknown slug."""
    qs = Territory.objects.order_by("id")
    if slug:
        return qs.filter(slug=str(slug)[:60]).first()
    return qs.first()


def public_territories() -> list[Territory]:
    return list(Territory.objects.order_by("name", "id"))


def public_schemes() -> QuerySet[Scheme]:
    return Scheme.objects.filter(active=True).select_related("funder").order_by("code")


def _request_sums(scheme_ids: list[int], territory: Territory) -> dict[int, dict]:
    """Per scheme: granted, selected and committed amounts of the territory's requests (one
    grouped query); a granted request counts its granted amount, else the amount asked."""
    granted_amount = Coalesce("amount_granted", "amount_requested")
    rows = (
        FundingRequest.objects.filter(scheme__in=scheme_ids, case__territory_id=territory.pk)
        .values("scheme_id")
        .annotate(
            granted=Coalesce(
                Sum(
                    CaseWhen(When(state__in=GRANTED_STATES, then=granted_amount), default=None),
                    output_field=MONEY,
                ),
                Value(ZERO),
                output_field=MONEY,
            ),
            selected=Coalesce(
                Sum("amount_requested", filter=Q(state=RequestState.SELECTED)),
                Value(ZERO),
                output_field=MONEY,
            ),
            committed=Coalesce(
                Sum(
                    CaseWhen(When(state__in=COMMITTED_STATES, then=granted_amount), default=None),
                    output_field=MONEY,
                ),
                Value(ZERO),
                output_field=MONEY,
            ),
        )
        .order_by()
    )
    return {row["scheme_id"]: row for row in rows}


def _paid_sums(scheme_ids: list[int], territory: Territory) -> dict[int, Decimal]:
    """Per scheme: the payments made on the territory's dossiers (one grouped query)."""
    return dict(
        Payment.objects.filter(
            scheme__in=scheme_ids,
            claim__funding_request__case__territory_id=territory.pk,
        )
        .values("scheme_id")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("scheme_id", "total")
    )


def scheme_budgets(territory: Territory | None = None) -> list[SchemeBudget]:
    """Envelope, programmed (granted + selected), committed and paid, per active scheme,
    for the dossiers of ``territory``.

    Four queries whatever the number of dossiers: schemes, territories, one grouped
    aggregate over the funding requests, one over the payments.
    """
    territory = territory or public_territory()
    schemes = list(public_schemes())
    shared = len(Territory.names()) > 1  # envelopes are not per territory yet (cached)
    by_scheme = _request_sums([s.pk for s in schemes], territory)
    paid = _paid_sums([s.pk for s in schemes], territory)
    out = []
    for scheme in schemes:
        row = by_scheme.get(scheme.pk, {})
        out.append(
            SchemeBudget(
                scheme=scheme,
                envelope=None if shared else scheme.envelope,
                granted=row.get("granted") or ZERO,
                selected=row.get("selected") or ZERO,
                committed=row.get("committed") or ZERO,
                paid=paid.get(scheme.pk) or ZERO,
            )
        )
    return out


@dataclass
class SupportedProject:
    case: Case
    communes: list[str]
    aids: list[FundingRequest] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((fr.amount_granted or ZERO for fr in self.aids), ZERO)


def supported_projects(*, territory: Territory, scheme_code: str | None = None) -> QuerySet[Case]:
    """Decided-and-later dossiers with their granted aids (prefetched as ``public_aids``).

    A queryset so that the page can paginate it; four queries per page whatever its size.
    """
    aids = (
        FundingRequest.objects.filter(state__in=GRANTED_STATES)
        .select_related("scheme")
        .order_by("scheme__code")
    )
    granted = FundingRequest.objects.filter(case=OuterRef("pk"), state__in=GRANTED_STATES)
    if scheme_code:
        granted = granted.filter(scheme__code=scheme_code)
    return (
        Case.objects.filter(territory_id=territory.pk, state__in=PUBLIC_CASE_STATES)
        .filter(Exists(granted))
        .select_related("organisation", "organisation__commune")
        .prefetch_related(
            "communes", Prefetch("funding_requests", queryset=aids, to_attr="public_aids")
        )
        .order_by("-receipt_date", "-id")
    )


def project_rows(cases) -> list[SupportedProject]:
    """Plain rows for a page of ``supported_projects`` (no further query)."""
    rows = []
    for case in cases:
        communes = [c.name for c in case.communes.all()]
        if not communes and case.organisation.commune_id:
            communes = [case.organisation.commune.name]
        rows.append(SupportedProject(case=case, communes=communes, aids=list(case.public_aids)))
    return rows


def committee_sessions_closed(territory: Territory) -> QuerySet[CommitteeSession]:
    """Closed sessions with their decisions, newest first (two queries)."""
    decisions = CommitteeDecision.objects.select_related(
        "funding_request__case__organisation"
    ).order_by("funding_request__case__title", "id")
    return (
        CommitteeSession.objects.filter(
            territory_id=territory.pk, state=SessionState.CLOSED, scheme__committee=True
        )
        .select_related("scheme")
        .prefetch_related(Prefetch("decisions", queryset=decisions))
        .order_by("-date", "-id")
    )


def committee_sessions_upcoming(*, territory: Territory, today=None) -> QuerySet[CommitteeSession]:
    today = today or timezone.localdate()
    return (
        CommitteeSession.objects.filter(
            territory_id=territory.pk, state=SessionState.PLANNED, date__gte=today
        )
        .select_related("scheme")
        .annotate(agenda_size=Count("agenda", distinct=True))
        .order_by("date", "id")
    )


def committee_session_public(pk) -> CommitteeSession | None:
    """A closed session for its public minutes, or None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return (
        CommitteeSession.objects.filter(pk=pk, state=SessionState.CLOSED)
        .select_related("scheme")
        .prefetch_related(
            Prefetch("members", queryset=User.objects.order_by("college", "interest_group")),
            Prefetch(
                "agenda",
                queryset=FundingRequest.objects.select_related(
                    "case", "case__organisation", "scheme"
                ).order_by("id"),
            ),
            Prefetch("votes", queryset=Vote.objects.select_related("member")),
            "decisions",
        )
        .first()
    )
