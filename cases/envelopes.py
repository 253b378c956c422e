"""The figures of the envelopes (issue 14, domain.md « Programming »): per envelope — a
scheme's amount on a territory for a year, for LEADER per action sheet — what the dossiers
ask (requested: requests not decided yet), what is programmed (selected by the committee
or granted), committed and paid, and what remains. Computed from the dossiers in one
statement whatever their number, never typed twice.

A request counts in the year it is programmed: the year of its decision, else the year its
decision is expected (its implicit-decision date, else its dossier's receipt, else its
creation), stored on the request (``cases.programming_year``). The states counted as
programmed and committed are those of the public page (``cases.public_selectors``): one
definition.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case as CaseWhen
from django.db.models import DecimalField, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from .models import REQUEST_UNDECIDED, FundingRequest, RequestState
from .programming_year import stored
from .public_selectors import COMMITTED_STATES, GRANTED_STATES

ZERO = Decimal("0.00")
#: Requested (the pipeline): not decided yet, and not programmed by the committee.
PIPELINE = [s for s in REQUEST_UNDECIDED if s != RequestState.SELECTED]
MONEY = DecimalField(max_digits=14, decimal_places=2)


def programming_year(prefix: str = ""):
    """The year a request counts in (an SQL expression; ``prefix`` reaches the request):
    the year stored on it by the rule of ``cases.programming_year``."""
    return stored(prefix)


@dataclass(frozen=True)
class EnvelopeFigures:
    envelope: object
    requested: Decimal
    programmed: Decimal
    committed: Decimal
    paid: Decimal

    @property
    def amount(self) -> Decimal:
        return self.envelope.amount

    @property
    def remaining(self) -> Decimal:
        return self.envelope.amount - self.programmed

    @property
    def rate(self) -> Decimal | None:
        """Part of the envelope programmed (0 to 1 and beyond), None for an empty one."""
        if not self.envelope.amount:
            return None
        return (self.programmed / self.envelope.amount).quantize(Decimal("0.0001"))


def request_contribution(state: str, requested: Decimal, granted: Decimal | None):
    """What one request adds to its envelope's figures: ``(requested, programmed)``. The
    rule of ``_request_rows`` below for one request in Python, for the figures of a draft
    (``cases.scenarios``): requested while in the pipeline; programmed once granted (its
    amount granted, else requested) or selected by the committee (its amount requested)."""
    if state in PIPELINE:
        return requested, ZERO
    if state in GRANTED_STATES:
        return ZERO, granted if granted is not None else requested
    if state == RequestState.SELECTED:
        return ZERO, requested
    return ZERO, ZERO


def _sum(expr, **filter_kw):
    return Coalesce(Sum(expr, **filter_kw), Value(ZERO), output_field=MONEY)


def programmed_amount():
    """What a request programmes (an SQL expression, None when it programmes nothing):
    its granted amount (else requested) once granted, its requested amount once selected."""
    granted = Coalesce("amount_granted", "amount_requested")
    return CaseWhen(
        When(state__in=GRANTED_STATES, then=granted),
        When(state=RequestState.SELECTED, then="amount_requested"),
        default=None,
        output_field=MONEY,
    )


def committed_amount():
    """What a request commits (an SQL expression, None when it commits nothing)."""
    granted = Coalesce("amount_granted", "amount_requested")
    return CaseWhen(
        When(state__in=COMMITTED_STATES, then=granted), default=None, output_field=MONEY
    )


def _rows(schemes, territories, years):
    """The figures per scheme, territory, action sheet and year, read through the stored,
    indexed year and the request's copy of its dossier's territory (``cases.request_copy``:
    no join to the dossiers), in one grouped statement over the requests. What was paid is
    each request's ``amount_paid``, the sum of its payments that the payment's effect keeps
    under the dossier's lock (``cases.lifecycle.payment_claim``) — the figure of the
    statistics and of the programme's health: no join to the payments and their claims
    (those were half of the statement's time at 100,000 dossiers)."""
    keys = ("scheme_id", "case_territory_id", "action_sheet_id", "programming_year")
    return (
        FundingRequest.objects.filter(
            scheme_id__in=schemes, case_territory_id__in=territories, programming_year__in=years
        )
        .values(*keys)
        .annotate(
            requested=_sum("amount_requested", filter=Q(state__in=PIPELINE)),
            programmed=_sum(programmed_amount()),
            committed=_sum(committed_amount()),
            paid=_sum("amount_paid"),
        )
        .order_by()
    )


def envelope_figures(envelopes) -> list[EnvelopeFigures]:
    """The figures of each envelope, in the given order (one statement)."""
    envelopes = list(envelopes)
    if not envelopes:
        return []
    schemes = sorted({e.scheme_id for e in envelopes})
    territories = sorted({e.territory_id for e in envelopes})
    years = sorted({e.year for e in envelopes})  # only the envelopes' years are grouped
    # (scheme, territory, year) → action sheet → figures
    sums: dict[tuple, dict] = defaultdict(lambda: defaultdict(lambda: defaultdict(Decimal)))
    for row in _rows(schemes, territories, years):
        key = (row["scheme_id"], row["case_territory_id"], row["programming_year"])
        for name in ("requested", "programmed", "committed", "paid"):
            sums[key][row["action_sheet_id"]][name] += row[name]
    out = []
    for e in envelopes:
        by_sheet = sums.get((e.scheme_id, e.territory_id, e.year), {})
        sheets = [by_sheet.get(e.action_sheet_id, {})] if e.action_sheet_id else by_sheet.values()
        total = defaultdict(Decimal)
        for figures in sheets:
            for name, value in figures.items():
                total[name] += value
        out.append(
            EnvelopeFigures(
                envelope=e,
                requested=total["requested"] + ZERO,
                programmed=total["programmed"] + ZERO,
                committed=total["committed"] + ZERO,
                paid=total["paid"] + ZERO,
            )
        )
    return out
