"""Rows of the observatory's exports (``cases.stats``): financing plans, and grants whose
convention is signed (Etalab)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, OuterRef, Prefetch, Subquery

from engine.models import Deadline

from . import selectors, services
from .models import Case, FundingRequest, RequestState, ResourceLine
from .stats_scope import ZERO, Filters, filtered_cases

COMMITTED = [RequestState.COMMITTED, RequestState.PAYING, RequestState.PAID]


# ---------------------------------------------------------------- financing plans


@dataclass
class PlanRow:
    case: Case
    line: ResourceLine | None
    request: FundingRequest | None
    total_expenses: Decimal
    summary: object  # rules.PlanSummary

    @property
    def rate(self) -> Decimal | None:
        if self.line is None or not self.summary.total_eligible:
            return None
        return (self.line.amount / self.summary.total_eligible).quantize(Decimal("0.0001"))


def financing_plan_rows(*, user, filters: Filters) -> list[PlanRow]:
    """One row per dossier × resource line (a dossier without a line gets one row), with
    the totals of its plan. Four queries whatever the number of dossiers."""
    cases = (
        selectors.case_list(user=user)
        .filter(pk__in=filtered_cases(user=user, filters=filters).values("pk"))
        .prefetch_related(
            "expenses",
            Prefetch("resources", queryset=ResourceLine.objects.select_related("scheme__funder")),
            Prefetch("funding_requests", queryset=FundingRequest.objects.select_related("scheme")),
        )
        .order_by("reference", "pk")
    )
    out: list[PlanRow] = []
    for case in cases:
        plan = services.plan_summary(case)
        total = sum((e.amount for e in case.expenses.all()), ZERO)
        requests = {fr.scheme_id: fr for fr in case.funding_requests.all()}
        lines = list(case.resources.all()) or [None]
        for line in lines:
            fr = requests.get(line.scheme_id) if line is not None and line.scheme_id else None
            out.append(PlanRow(case, line, fr, total, plan))
    return out


# ---------------------------------------------------------------- Etalab grants


@dataclass
class GrantRow:
    request: FundingRequest
    payments: int
    first_paid: dt.date | None
    last_paid: dt.date | None
    period_end: dt.date | None


def committed_grants(*, user, filters: Filters) -> list[GrantRow]:
    """Funding requests whose convention is signed (committed, paying or paid), one query."""
    frs = selectors.funding_request_list(user=user).filter(
        case__in=filtered_cases(user=user, filters=filters).values("pk"),
        state__in=COMMITTED,
        committed_on__isnull=False,
    )
    if filters.scheme:
        frs = frs.filter(scheme__code=filters.scheme)
    return list(grant_rows(frs))


def grant_rows(frs):
    """The ``GrantRow`` of each signed request of ``frs`` (one query, streamed in chunks):
    shared by the observatory's export and the public open-data file."""
    end = (
        Deadline.objects.filter(
            aggregate_id=OuterRef("case_id"),
            kind__in=["operation_end", "works_completion", "balance_claim"],
        )
        .order_by("-due_on")
        .values("due_on")[:1]
    )
    frs = (
        frs.select_related("scheme__funder", "case__organisation")
        .annotate(
            n_payments=Count("claims__payments"),
            first_paid=Min("claims__payments__paid_on"),
            last_paid=Max("claims__payments__paid_on"),
            period_end=Subquery(end),
        )
        .order_by("committed_on", "pk")
    )
    for fr in frs.iterator(chunk_size=500):
        yield GrantRow(fr, fr.n_payments, fr.first_paid, fr.last_paid, fr.period_end)
