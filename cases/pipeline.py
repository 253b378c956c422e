"""The multi-year pipeline (issue 14, point 7): each commune's and each EPCI's projects by
expected year, from the idea to the works, for the annual review with the elected members
(« revue régulière des projets »). A read: the dossiers the user may see, in one query.

A project's expected year: the year its requests are programmed (``cases.envelopes.
programming_year``: decided, else expected), else the planned start of its works, else the
year it was created (an idea, a draft).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, Min, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, ExtractYear

from .envelopes import programming_year
from .models import CASE_TERMINAL, Case, CaseState, FundingRequest

ZERO = Decimal("0.00")

#: The stages of a project, from the idea to the works, as the review reads them.
STAGES = (
    ("idee", "Idée", (CaseState.IDEA, CaseState.SCOPING)),
    ("preparation", "En préparation", (CaseState.DRAFT, CaseState.INCOMPLETE)),
    ("depot", "Déposé, en instruction", (CaseState.SUBMITTED, CaseState.INSTRUCTION)),
    ("decide", "Financé", (CaseState.DECIDED,)),
    ("travaux", "En travaux", (CaseState.IN_PROGRESS, CaseState.COMPLETED)),
)
STAGE_OF = {state: key for key, _label, states in STAGES for state in states}


@dataclass
class PipelineProject:
    case_id: int
    reference: str
    title: str
    organisation: str
    stage: str
    year: int
    cost: Decimal
    aid: Decimal

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]


STAGE_LABELS = {key: label for key, label, _states in STAGES}


@dataclass
class PipelineGroup:
    """One owner (a commune, an EPCI…) and its projects by year."""

    name: str
    by_year: dict[int, list[PipelineProject]] = field(default_factory=lambda: defaultdict(list))

    columns: list = field(default_factory=list)  # (year, projects) in the review's order

    def total(self, year: int) -> Decimal:
        return sum((p.cost for p in self.by_year.get(year, ())), ZERO)


def pipeline(cases, *, years: list[int]) -> list[PipelineGroup]:
    # long: one annotated query and its grouping by owner and year: split, the read would be scattered
    """The live projects of ``cases`` (a queryset the user may see) whose expected year is
    in ``years``, grouped by their owner (its name), each owner's projects by year."""
    money = DecimalField(max_digits=14, decimal_places=2)
    requests = FundingRequest.objects.filter(case=OuterRef("pk"))
    first_year = Subquery(
        requests.annotate(year=programming_year())
        .values("case")
        .annotate(first=Min("year"))
        .values("first")[:1]
    )
    aid = Subquery(
        requests.values("case")
        .annotate(total=Sum(Coalesce("amount_granted", "amount_requested")))
        .values("total")[:1],
        output_field=money,
    )
    cost = Subquery(
        Case.objects.filter(pk=OuterRef("pk"))
        .annotate(total=Sum("expenses__amount"))
        .values("total")[:1],
        output_field=money,
    )
    rows = (
        cases.exclude(state__in=CASE_TERMINAL)
        .annotate(
            expected=Coalesce(
                first_year, ExtractYear("planned_works_start"), ExtractYear("created_at")
            ),
            aid_total=Coalesce(aid, Value(ZERO), output_field=money),
            cost_total=Coalesce(cost, Value(ZERO), output_field=money),
        )
        .filter(expected__in=years)
        .values(
            "pk",
            "reference",
            "title",
            "state",
            "expected",
            "aid_total",
            "cost_total",
            "organisation__name",
        )
        .order_by("organisation__name", "expected", "pk")
    )
    groups: dict[str, PipelineGroup] = {}
    for row in rows.iterator(chunk_size=500):
        name = row["organisation__name"]
        group = groups.setdefault(name, PipelineGroup(name))
        group.by_year[row["expected"]].append(
            PipelineProject(
                case_id=row["pk"],
                reference=row["reference"] or f"n° {row['pk']}",
                title=row["title"],
                organisation=name,
                stage=STAGE_OF.get(row["state"], "idee"),
                year=row["expected"],
                cost=row["cost_total"],
                aid=row["aid_total"],
            )
        )
    for group in groups.values():
        group.columns = [(year, group.by_year.get(year, [])) for year in years]
    return list(groups.values())


def review_years(today: dt.date, *, before: int = 1, after: int = 3) -> list[int]:
    return list(range(today.year - before, today.year + after + 1))
