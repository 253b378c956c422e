"""What every figure of the observatory starts from (``cases.stats``): who may see it, the
filters, the dossiers they keep, and the shape of a table.

Everything starts from ``cases.selectors.case_list`` (an EPCI partner sees its EPCI, a
committee member the LEADER dossiers…), so visibility is never re-implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, ExtractYear, TruncDate

from schemes.models import EPCI, Scheme

from . import selectors
from .models import Case, FundingRequest, ResourceLine, Theme, User
from .permissions import roles_for

R = User.Role
OBSERVATORY_ROLES = roles_for("observatory_read")
ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)


def observatory_allowed(user) -> bool:
    """Agents, direction, administrators, EPCI partners and committee members."""
    return bool(user.is_authenticated and user.effective_role in OBSERVATORY_ROLES)


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    epci: str = ""  # SIREN
    theme: str = ""
    scheme: str = ""  # scheme code
    year: int | None = None

    def as_params(self) -> dict[str, str]:
        out = {"epci": self.epci, "theme": self.theme, "scheme": self.scheme}
        out["year"] = str(self.year) if self.year else ""
        return {k: v for k, v in out.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.as_params())


def year_expr():
    return ExtractYear(Coalesce("receipt_date", TruncDate("created_at")))


def visible_cases(*, user) -> QuerySet[Case]:
    """The dossiers the user may see, as a plain queryset (no DISTINCT, no joins) that
    can be grouped."""
    return Case.objects.filter(pk__in=selectors.case_list(user=user).values("pk"))


def filtered_cases(*, user, filters: Filters) -> QuerySet[Case]:
    qs = visible_cases(user=user)
    if filters.epci:
        qs = qs.filter(epci__siren=filters.epci)
    if filters.theme:
        qs = qs.filter(Q(theme_ref__label=filters.theme) | Q(theme_ref__slug=filters.theme))
    if filters.scheme:
        qs = qs.filter(
            Exists(ResourceLine.objects.filter(case=OuterRef("pk"), scheme__code=filters.scheme))
            | Exists(
                FundingRequest.objects.filter(case=OuterRef("pk"), scheme__code=filters.scheme)
            )
        )
    if filters.year:
        qs = qs.alias(year=year_expr()).filter(year=filters.year)
    return qs


@dataclass
class FilterOptions:
    epcis: list[tuple[str, str]]
    themes: list[str]
    schemes: list[tuple[str, str]]
    years: list[int]


def filter_options(*, user) -> FilterOptions:
    """The values the filters may take for this user (4 queries)."""
    visible = visible_cases(user=user)
    epcis = list(
        EPCI.objects.filter(pk__in=visible.values("epci_id"))
        .order_by("name")
        .values_list("siren", "name")
    )
    themes = list(
        Theme.objects.filter(pk__in=visible.values("theme_ref_id"))
        .order_by("label")
        .values_list("label", flat=True)
    )
    schemes = list(Scheme.objects.order_by("code").values_list("code", "name"))
    years = sorted(
        {y for y in visible.annotate(y=year_expr()).values_list("y", flat=True).distinct() if y},
        reverse=True,
    )
    return FilterOptions(epcis=epcis, themes=themes, schemes=schemes, years=years)


# ---------------------------------------------------------------- tables


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | money | days | rate


@dataclass
class Table:
    slug: str
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    note: str = ""

    def values(self, row: dict) -> list:
        return [row.get(c.key) for c in self.columns]
