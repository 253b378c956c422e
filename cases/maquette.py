"""The maquette (issue 14, point 2): the programming table of the territory — every live
request of its live dossiers by programming year, funder and EPCI, one row per operation
(dossier) with a column group per funder, and per funder the totals against the year's
envelopes. A dossier is live by ``cases.request_copy.case_live``, read on its requests
(their copy of its territory and liveness: no join to the dossiers to filter them).

Read in the database in a bounded number of queries whatever the number of dossiers: the
requests as ``.values()`` rows (streamed with ``.iterator()`` for the exports), the totals
per funder as one grouped query, the envelopes' side through ``cases.envelopes``.
A request counts in its programming year (``cases.envelopes.programming_year``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import BooleanField, Count, F, Func, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce

from schemes.models import EPCI, Envelope, Funder

from . import selectors
from .conference import latest_positions
from .envelopes import MONEY, ZERO, envelope_figures, programming_year
from .models import REQUEST_GRANTED, Case, FundingRequest, RequestState, User
from .models.funding import DEAD_REQUESTS

R = User.Role
#: Who reads the maquette: the territory's staff (an EPCI partner: its EPCI's dossiers).
MAQUETTE_ROLES = (R.AGENT, R.DIRECTOR, R.ADMIN, R.EPCI_PARTNER)
STATE_LABELS = dict(RequestState.choices)

ROW_FIELDS = (
    "case_id",
    "case__reference",
    "case__title",
    "case__organisation__name",
    "case__epci__name",
    "scheme__code",
    "scheme__short_name",
    "scheme__funder__code",
    "state",
    "amount_requested",
    "amount_granted",
    "year",
)
ORDER = (
    "case__epci__name",
    "case__organisation__name",
    "case__title",
    "case_id",
    "scheme__funder__code",
    "scheme__code",
)


def may_read(user) -> bool:
    return user.is_superuser or user.effective_role in MAQUETTE_ROLES


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    funder: str = ""  # a funder's code
    epci: int | None = None


def _cases(*, user, filters: Filters) -> QuerySet[Case]:
    """The dossiers the user may read, filtered on the dossier's side (its EPCI); their
    territory and liveness are read on their requests (``_scope``)."""
    qs = Case.objects.all() if may_read(user) else Case.objects.none()
    if user.effective_role == R.EPCI_PARTNER and not user.is_superuser:
        qs = qs.filter(epci_id=user.epci_id) if user.epci_id else qs.none()
    if filters.epci is not None:
        qs = qs.filter(epci_id=filters.epci)
    return qs


def _scope(*, user, filters: Filters) -> QuerySet[FundingRequest]:
    """The live requests of the user's territory's live dossiers, filtered on the request's
    side (its year, its funder), annotated with ``year``: no join to the dossiers (their
    territory and liveness are copied on the request, ``cases.request_copy``)."""
    qs = FundingRequest.objects.none()
    if may_read(user):
        qs = selectors.in_territory(FundingRequest.objects.all(), user, "case_territory_id")
    qs = (
        qs.filter(case_live=True)  # its dossier is live: ``request_copy.case_live``
        .exclude(state__in=DEAD_REQUESTS)
        .annotate(year=programming_year())
    )
    if filters.year is not None:
        qs = qs.filter(year=filters.year)
    if filters.funder:
        qs = qs.filter(scheme__funder__code=filters.funder)
    return qs


def requests(*, user, filters: Filters) -> QuerySet[FundingRequest]:
    """The live requests of the user's live dossiers, filtered (annotated with ``year``)."""
    qs = _scope(user=user, filters=filters)
    if user.effective_role == R.EPCI_PARTNER and not user.is_superuser:
        qs = qs.filter(case__epci_id=user.epci_id) if user.epci_id else qs.none()
    if filters.epci is not None:
        qs = qs.filter(case__epci_id=filters.epci)
    return qs


def epci_choices(*, user) -> list[tuple[int, str]]:
    qs = selectors.epci_list(user=user)
    if user.effective_role == R.EPCI_PARTNER and not user.is_superuser:
        qs = qs.filter(pk=user.epci_id)
    return list(qs.order_by("name").values_list("pk", "name"))


def funder_choices() -> list[tuple[str, str]]:
    names = Funder.objects.values_list("code", "name")
    return sorted(names, key=lambda n: (_plain(n[1]), n[0]))


def year_choices(*, user, current: int) -> list[int]:
    """The programming years of the live requests, and the current year."""
    years = set(
        requests(user=user, filters=Filters()).order_by().values_list("year", flat=True).distinct()
    )
    years.add(current)
    return sorted(y for y in years if y is not None)


# ---------------------------------------------------------------- the table


@dataclass
class FunderColumns:
    """A funder's column group: its totals over the rows and its envelopes' figures."""

    code: str
    name: str
    requested: Decimal = ZERO
    granted: Decimal = ZERO
    count: int = 0
    envelope: Decimal | None = None  # None: no envelope for the year
    programmed: Decimal | None = None
    remaining: Decimal | None = None


@dataclass
class Cell:
    requested: Decimal = ZERO
    granted: Decimal | None = None
    states: list[str] = field(default_factory=list)
    positions: list[str] = field(default_factory=list)  # the latest conference positions

    @property
    def state(self) -> str:
        return " ; ".join(self.states)


@dataclass
class Operation:
    case_id: int
    reference: str
    title: str
    organisation: str
    epci: str
    years: list[int]
    cells: dict[str, Cell]  # funder code → cell

    def cells_in(self, funders: Iterable[FunderColumns]) -> list[Cell | None]:
        return [self.cells.get(f.code) for f in funders]


def funder_columns(*, user, filters: Filters) -> list[FunderColumns]:
    """The column groups: every funder with a request in the table or an envelope for the
    year, with its totals (one grouped query) and its envelopes (``envelope_figures``)."""
    totals = {
        row["scheme__funder__code"]: row
        for row in requests(user=user, filters=filters)
        .values("scheme__funder__code")
        .annotate(
            requested=Coalesce(Sum("amount_requested"), ZERO, output_field=MONEY),
            granted=Coalesce(
                Sum("amount_granted", filter=Q(state__in=REQUEST_GRANTED)),
                ZERO,
                output_field=MONEY,
            ),
            count=Count("id"),
        )
        .order_by()
    }
    envelopes = selectors.in_territory(Envelope.objects.all(), user)
    if not may_read(user):
        envelopes = envelopes.none()
    if filters.year is not None:
        envelopes = envelopes.filter(year=filters.year)
    if filters.funder:
        envelopes = envelopes.filter(scheme__funder__code=filters.funder)
    by_funder: dict[str, list] = {}
    for figures in envelope_figures(envelopes.select_related("scheme__funder")):
        by_funder.setdefault(figures.envelope.scheme.funder.code, []).append(figures)
    codes = set(totals) | set(by_funder)
    out = []
    names = Funder.objects.filter(code__in=codes).values_list("code", "name")
    for code, name in sorted(names, key=lambda n: (_plain(n[1]), n[0])):
        column = FunderColumns(code=code, name=name)
        if code in totals:
            column.requested = totals[code]["requested"]
            column.granted = totals[code]["granted"]
            column.count = totals[code]["count"]
        if code in by_funder:
            figures = by_funder[code]
            column.envelope = sum((f.amount for f in figures), ZERO)
            column.programmed = sum((f.programmed for f in figures), ZERO)
            column.remaining = column.envelope - column.programmed
        out.append(column)
    return out


def _plain(text: str) -> str:
    """A name without its accents, for a French alphabetical order (« État » before « Région »)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def _group(rows: Iterable[dict]) -> Iterator[Operation]:
    """Consecutive request rows of one dossier → one operation."""
    current: Operation | None = None
    for row in rows:
        if current is None or current.case_id != row["case_id"]:
            if current is not None:
                yield current
            current = Operation(
                case_id=row["case_id"],
                reference=row["case__reference"] or "",
                title=row["case__title"],
                organisation=row["case__organisation__name"] or "",
                epci=row["case__epci__name"] or "",
                years=[],
                cells={},
            )
        if row["year"] is not None and row["year"] not in current.years:
            current.years.append(row["year"])
            current.years.sort()
        cell = current.cells.setdefault(row["scheme__funder__code"], Cell())
        cell.requested += row["amount_requested"]
        if row["state"] in REQUEST_GRANTED and row["amount_granted"] is not None:
            cell.granted = (cell.granted or ZERO) + row["amount_granted"]
        label = STATE_LABELS.get(row["state"], row["state"])
        scheme = row["scheme__short_name"] or row["scheme__code"]
        cell.states.append(f"{scheme} : {label}")
    if current is not None:
        yield current


def _rows(qs: QuerySet) -> QuerySet:
    return qs.values(*ROW_FIELDS).order_by(*ORDER)


def operation_count(*, user, filters: Filters) -> int:
    """The number of operations: the distinct dossiers of the table's requests, counted on
    the requests alone unless an EPCI condition needs the dossiers."""
    epci_bound = user.effective_role == R.EPCI_PARTNER and not user.is_superuser
    if filters.epci is None and not epci_bound:
        return _scope(user=user, filters=filters).values("case_id").distinct().count()
    return _operations(user=user, filters=filters).count()


def _operations(*, user, filters: Filters) -> QuerySet[Case]:
    """The dossiers of the table's operations: those of its requests (the territory and
    liveness read on the requests, by index), the EPCI's conditions on the dossiers."""
    ids = _scope(user=user, filters=filters).values("case_id")
    if connection.vendor != "postgresql" or filters.year is None:
        return _cases(user=user, filters=filters).filter(pk__in=ids)
    # ``id = ANY(ARRAY(…))``: the year's requests read once (an InitPlan), their dossiers
    # by primary key; with ``IN (…)`` the planner sorted every live dossier of the
    # territory then probed each for a request of the year, expecting the page early.
    # Every year (most dossiers have a live request): ``IN`` and that plan are cheaper
    from django.contrib.postgres.expressions import ArraySubquery

    in_array = Func(
        F("pk"),
        ArraySubquery(ids.order_by().distinct()),
        template="(%(expressions)s))",
        arg_joiner=" = ANY(",
        output_field=BooleanField(),
    )
    return _cases(user=user, filters=filters).filter(in_array)


def _operation_ids(
    *, user, filters: Filters, offset: int, limit: int
) -> tuple[list[int], int | None]:
    """A page of the operations' dossiers in the table's order, with the number of
    operations (one statement: the count is a window over the same rows); ``None`` for
    the count when the page is past the end, and for every year (counted apart)."""
    qs = _operations(user=user, filters=filters).order_by(
        "epci__name", "organisation__name", "title", "pk"
    )
    if filters.year is None:  # every year: the page stops early, a window would read all
        return list(qs.values_list("pk", flat=True)[offset : offset + limit]), None
    rows = list(
        qs.annotate(total=Window(Count("*"))).values_list("pk", "total")[offset : offset + limit]
    )
    return [pk for pk, _total in rows], (rows[0][1] if rows else None)


def operations_page(*, user, filters: Filters, offset: int, limit: int) -> list[Operation]:
    """One page of operations (three queries: the page's dossiers, their requests, the
    latest funders' conference position on each the user may read)."""
    return operations_counted(user=user, filters=filters, offset=offset, limit=limit)[1]


def operations_counted(
    *, user, filters: Filters, offset: int, limit: int
) -> tuple[int | None, list[Operation]]:
    """One page of operations and the number of operations (``None`` past the end, where
    no row carries it: ``operation_count`` then), in the three queries of a page."""
    case_ids, count = _operation_ids(user=user, filters=filters, offset=offset, limit=limit)
    if not case_ids:
        return count, []
    qs = requests(user=user, filters=filters)
    operations = list(_group(_rows(qs.filter(case_id__in=case_ids))))
    positions = latest_positions(case_ids, user=user)  # one more query for the page
    for op in operations:
        for code, cell in op.cells.items():
            cell.positions = positions.get((op.case_id, code), [])
    return count, operations


def operations_stream(*, user, filters: Filters) -> Iterator[Operation]:
    """Every operation, streamed from one query (for the exports)."""
    return _group(_rows(requests(user=user, filters=filters)).iterator(chunk_size=2000))


def epci_name(pk: int | None) -> str:
    if pk is None:
        return ""
    return EPCI.objects.filter(pk=pk).values_list("name", flat=True).first() or ""
