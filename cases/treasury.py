"""The treasury forecast of a porteur (issue 13, domain.md « Treasury forecast »): month by
month over the next months, what it pays for its live operations and what its grants and
the FCTVA bring back, at the schemes' learned payment delays — median (p50) and 80th
percentile (p80) —, its cumulative balance from the cash it declared, the trough, and the
bridging loan (prêt relais) that covers the p80 trough.

Two layers:

- the projection is pure (``project_operation``, ``forecast_compute``, ``bridging_loan``,
  ``forecast_risk``): plain snapshots in, flows and months out — what the property tests
  drive with random lifecycles;
- ``treasury_forecast`` reads one organisation's snapshot in a constant number of queries
  (``cases.treasury_reads.operations_snapshots``) and projects it.

What is recorded replaces what was projected: a payment made is cash (in the declared
cash at hand), not a flow; a claim filed is projected from its filing date; only the part
of a grant neither paid nor claimed is projected by the scheme's rules (advance at
commitment where the scheme allows one, installments on the expenses as they are paid up
to the scheme's ceiling, the balance after completion). Dates a payment should already
have come by fall in the current month (never in the past).
"""

# size: the forecast's pure projection, its dataclasses and its entry points; the reads of its snapshots are cases/treasury_reads.py
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.conf import settings
from django.utils import timezone

from engine.memory import gc_paused

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def money(value) -> Decimal:
    if type(value) is not Decimal:  # a Decimal is rounded as is, not copied first
        value = Decimal(value)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Params:
    """The forecast's parameters (settings ``GUICHET_TREASURY_*``, ``GUICHET_FCTVA_*``)."""

    fctva_rate: Decimal = Decimal("0.16404")  # of eligible TTC investment expenses
    fctva_month: int = 5  # the month of year N+1 or N+2 the refund comes in
    fctva_quarter_lag: int = 1  # regime N: months after the expense's quarter
    vat_rate: Decimal = Decimal("0.20")
    works_months: int = 12  # a works period with no planned end
    balance_lag_days: int = 30  # from the end of works to the balance claim
    installment_every: int = 3  # months of expenses per installment claim
    bridging_rate: Decimal = Decimal("4.00")  # % a year, simple interest
    loan_round: Decimal = Decimal("1000")  # a loan is rounded up to this


def params() -> Params:
    base = Params()
    get = lambda name, default: getattr(settings, name, default)  # noqa: E731
    return Params(
        fctva_rate=Decimal(str(get("GUICHET_FCTVA_RATE", base.fctva_rate))),
        fctva_month=int(get("GUICHET_FCTVA_MONTH", base.fctva_month)),
        vat_rate=Decimal(str(get("GUICHET_VAT_RATE", base.vat_rate))),
        works_months=int(get("GUICHET_TREASURY_WORKS_MONTHS", base.works_months)),
        balance_lag_days=int(get("GUICHET_TREASURY_BALANCE_LAG_DAYS", base.balance_lag_days)),
        bridging_rate=Decimal(str(get("GUICHET_BRIDGING_LOAN_RATE", base.bridging_rate))),
    )


# ---------------------------------------------------------------- months


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def works_end_of(start: dt.date | None, end: dt.date | None, today: dt.date, p: Params) -> dt.date:
    """The end of works: ``end`` when known, else the first day of the last month of a
    works period of ``works_months`` from ``start`` (else today) — the month the forecast
    spreads the last expense in."""
    return end or add_months(start or today, p.works_months - 1)


def balance_claim_on(works_end: dt.date, today: dt.date, p: Params) -> dt.date:
    """When a grant's balance is claimed: ``balance_lag_days`` after the end of works,
    never before today (the forecast's rule, also the programme health's)."""
    return max(today, works_end + dt.timedelta(days=p.balance_lag_days))


def months_between(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    """The month starts from ``first``'s month to ``last``'s, inclusive."""
    return _month_range(first.year * 12 + first.month - 1, last.year * 12 + last.month - 1)


@functools.lru_cache(maxsize=2048)
def _month_range(start: int, end: int) -> tuple[dt.date, ...]:
    """Kept: a territory's operations share a few hundred works periods, by month."""
    return tuple(dt.date(i // 12, i % 12 + 1, 1) for i in range(start, end + 1))


# ---------------------------------------------------------------- snapshots (input)


@dataclass(frozen=True)
class SchemeTerms:
    code: str
    label: str
    p50: int  # days from claim to payment, median
    p80: int  # and 80th percentile (never below p50)
    advance_max_rate: Decimal | None = None
    installments_max_rate: Decimal = Decimal("0.80")


@dataclass(frozen=True)
class ClaimSnap:
    id: int
    kind: str  # advance, installment, balance
    amount: Decimal
    filed_on: dt.date


@dataclass(frozen=True)
class GrantSnap:
    id: int
    scheme: SchemeTerms
    granted: Decimal
    paid: Decimal  # recorded payments (already cash)
    claims: tuple[ClaimSnap, ...] = ()  # filed and unpaid
    advance_claimed: bool = False  # an advance claim exists (filed, paid…)
    committed_on: dt.date | None = None


@dataclass(frozen=True)
class OperationSnap:
    case_id: int
    reference: str
    cost: Decimal  # what the porteur pays for the whole operation (VAT where it pays it)
    fctva_base: Decimal  # eligible TTC investment expenses, zero without FCTVA
    works_start: dt.date | None
    works_end: dt.date | None
    completed: bool = False
    invoices: tuple[tuple[dt.date, Decimal], ...] = ()  # planned by the porteur (TTC)
    grants: tuple[GrantSnap, ...] = ()


# ---------------------------------------------------------------- flows (output)


class Outflow(NamedTuple):
    """An expense the porteur pays (immutable: a named tuple, ten times cheaper to build
    than a frozen dataclass — a territory's forecast builds tens of thousands)."""

    on: dt.date
    amount: Decimal
    case_id: int
    label: str


class Inflow(NamedTuple):
    """A payment the porteur receives, at its median and prudent dates (a named tuple)."""

    on_p50: dt.date
    on_p80: dt.date
    amount: Decimal
    kind: str  # claim, advance, installment, balance, fctva
    case_id: int
    label: str
    funding_request_id: int | None = None
    claim_id: int | None = None


def _schedule(op: OperationSnap, today: dt.date, p: Params) -> list[tuple[dt.date, Decimal]]:
    """Every expense of the operation, past and future: the porteur's planned invoices, or
    its cost spread evenly over the months of its works period (the last month takes the
    rounding)."""
    if op.invoices:
        return sorted(op.invoices)
    start = op.works_start or today
    end = works_end_of(start, op.works_end, today, p)
    months = months_between(start, max(start, end))
    if op.cost <= 0:
        return []
    share = money(op.cost / len(months))
    spread = [(m, share) for m in months]
    spread[-1] = (months[-1], op.cost - share * (len(months) - 1))
    return spread


def _fctva_on(expense_month: dt.date, regime: int, p: Params) -> dt.date:
    """When the FCTVA of an expense of ``expense_month`` (any day of it: only its year and
    month are read) comes back."""
    if regime <= 0:  # year N: claimed quarterly, refunded the month after the quarter
        quarter_end = dt.date(expense_month.year, ((expense_month.month - 1) // 3) * 3 + 3, 1)
        return add_months(quarter_end, p.fctva_quarter_lag)
    return dt.date(expense_month.year + regime, p.fctva_month, 1)


@functools.lru_cache(maxsize=4096)
def _paid_dates(claim_on: dt.date, today: dt.date, p50: int, p80: int) -> tuple[dt.date, dt.date]:
    """(p50, p80) payment dates of a claim made on ``claim_on`` at a scheme's learned
    delays, never before today: the projection of the alerts and pages
    (``cases.payments.project_payment``)."""
    from .payments import project_payment  # pure: the same dates for the same arguments

    return (
        project_payment(claim_on, today, p50).projected_on,
        project_payment(claim_on, today, p80).projected_on,
    )


def project_operation(
    op: OperationSnap, *, today: dt.date, regime: int, p: Params
) -> tuple[list[Outflow], list[Inflow]]:
    """The flows of one operation from ``today`` on (pure)."""
    schedule = _schedule(op, today, p)
    this_month = month_of(today)
    label = f"Dépenses {op.reference}"
    outflows = [
        Outflow(on, amount, op.case_id, label)
        for on, amount in schedule
        if on >= this_month and not op.completed and (op.invoices == () or on >= today)
    ]
    inflows: list[Inflow] = []
    total = sum((a for _on, a in schedule), ZERO)
    if op.fctva_base > 0 and total > 0:
        # The whole refund, shared between the dates the regime gives the expenses (the
        # last date takes the rounding: the same total whatever the regime).
        refunds: dict[dt.date, Decimal] = {}
        for on, amount in schedule:
            refund_on = _fctva_on(on, regime, p)
            refunds[refund_on] = refunds.get(refund_on, ZERO) + amount
        whole, given = money(op.fctva_base * p.fctva_rate), ZERO
        dated = sorted(refunds.items())
        for k, (refund_on, amount) in enumerate(dated):
            value = whole - given if k == len(dated) - 1 else money(whole * amount / total)
            given += value
            if refund_on < this_month or value <= 0:
                continue  # refunded already: in the cash at hand
            label = f"FCTVA {op.reference}"
            inflows.append(Inflow(refund_on, refund_on, value, "fctva", op.case_id, label))
    future = [(on, a) for on, a in schedule if on >= this_month]
    for grant in op.grants:
        inflows += _grant_inflows(op, grant, schedule, total, future, today, p)
    return outflows, inflows


def _grant_inflows(
    op, grant: GrantSnap, schedule, total: Decimal, future: list, today: dt.date, p: Params
) -> list[Inflow]:
    """A grant's inflows (``total``: the schedule's sum; ``future``: its entries from this
    month on — both computed once per operation)."""
    scheme, out = grant.scheme, []

    def inflow(claim_on, amount, kind, label, claim_id=None):
        p50, p80 = _paid_dates(claim_on, today, scheme.p50, scheme.p80)
        out.append(Inflow(p50, p80, amount, kind, op.case_id, label, grant.id, claim_id))

    pending = ZERO
    for claim in grant.claims:
        pending += claim.amount
        inflow(claim.filed_on, claim.amount, "claim", f"{scheme.label} {op.reference}", claim.id)
    rest = grant.granted - grant.paid - pending
    if rest <= 0:
        return out
    if op.completed:
        claim_on = balance_claim_on(op.works_end or today, today, p)
        inflow(claim_on, rest, "balance", f"Solde {scheme.label} {op.reference}")
        return out
    advance = ZERO
    if scheme.advance_max_rate and not grant.advance_claimed:
        advance = min(rest, money(grant.granted * scheme.advance_max_rate))
        if advance > 0:
            claim_on = max(today, grant.committed_on or today)
            inflow(claim_on, advance, "advance", f"Avance {scheme.label} {op.reference}")
            rest -= advance
    room = min(
        rest,
        max(ZERO, money(grant.granted * scheme.installments_max_rate))
        - grant.paid
        - pending
        - advance,
    )
    if room > 0 and total > 0 and future:
        step = max(1, p.installment_every)
        for start in range(0, len(future), step):
            period = future[start : start + step]
            amount = min(room, money(grant.granted * sum(a for _o, a in period) / total))
            if amount <= 0:
                break
            claim_on = max(today, add_months(month_of(period[-1][0]), 1))
            inflow(claim_on, amount, "installment", f"Acompte {scheme.label} {op.reference}")
            room -= amount
            rest -= amount
    if rest > 0:
        end = op.works_end or (schedule[-1][0] if schedule else today)
        claim_on = balance_claim_on(end, today, p)
        inflow(claim_on, rest, "balance", f"Solde {scheme.label} {op.reference}")
    return out


# ---------------------------------------------------------------- the forecast


class Month(NamedTuple):
    """One month of a forecast (a named tuple: 24 per porteur, thousands per territory)."""

    month: dt.date
    outflows: Decimal
    inflows_p50: Decimal
    inflows_p80: Decimal
    balance_p50: Decimal
    balance_p80: Decimal


class Trough(NamedTuple):
    month: dt.date
    balance: Decimal


@dataclass(frozen=True)
class BridgingLoan:
    amount: Decimal
    months: int
    rate: Decimal  # % a year
    interest: Decimal
    start: dt.date
    repaid: bool  # the p80 balance is positive again within the horizon


@dataclass
class Forecast:
    cash_at_hand: Decimal | None
    months: list[Month]
    trough_p50: Trough | None
    trough_p80: Trough | None
    loan: BridgingLoan | None
    outflows: list[Outflow] = field(default_factory=list)
    inflows: list[Inflow] = field(default_factory=list)


def forecast_compute(
    *,
    cash: Decimal | None,
    today: dt.date,
    horizon: int,
    outflows: list[Outflow],
    inflows: list[Inflow],
    rate: Decimal,
    loan_round: Decimal = Decimal("1000"),
) -> Forecast:
    """The months from ``today``'s, each flow in its month (pure)."""
    totals = flows_by_month(today, horizon, outflows, inflows)
    forecast = forecast_of_months(
        cash=cash, today=today, totals=totals, rate=rate, loan_round=loan_round
    )
    forecast.outflows, forecast.inflows = outflows, inflows
    return forecast


def flows_by_month(today: dt.date, horizon: int, outflows, inflows) -> tuple[list, ...]:
    """``(out, in_p50, in_p80)``: the flows summed by month over ``horizon`` months from
    ``today``'s (a flow dated before falls in the first month, one after the last month
    is left out). Sums of two lists add month by month (``add_totals``): what several
    forecasts share is summed once."""
    y0, m0 = today.year, today.month
    out, in50, in80 = [ZERO] * horizon, [ZERO] * horizon, [ZERO] * horizon
    if horizon <= 0:
        return out, in50, in80
    for flow in outflows:
        on = flow.on
        k = (on.year - y0) * 12 + on.month - m0
        if k < horizon:
            out[k if k > 0 else 0] += flow.amount
    for flow in inflows:
        on = flow.on_p50
        k = (on.year - y0) * 12 + on.month - m0
        if k < horizon:
            in50[k if k > 0 else 0] += flow.amount
        on = flow.on_p80
        k = (on.year - y0) * 12 + on.month - m0
        if k < horizon:
            in80[k if k > 0 else 0] += flow.amount
    return out, in50, in80


def add_totals(a: tuple[list, ...], b: tuple[list, ...]) -> tuple[list, ...]:
    return tuple([x + y for x, y in zip(xs, ys, strict=True)] for xs, ys in zip(a, b, strict=True))


def forecast_of_months(
    *,
    cash: Decimal | None,
    today: dt.date,
    totals: tuple[list, ...],
    rate: Decimal,
    loan_round: Decimal = Decimal("1000"),
) -> Forecast:
    """The forecast of the monthly totals of ``flows_by_month`` (pure): the cumulative
    balances from ``cash``, the troughs, the bridging loan."""
    out, in50, in80 = totals
    rows, b50, b80 = [], cash or ZERO, cash or ZERO
    months = months_between(month_of(today), add_months(today, len(out) - 1))
    for month, o, i50, i80 in zip(months, out, in50, in80, strict=True):
        b50 += i50 - o
        b80 += i80 - o
        rows.append(Month(month, o, i50, i80, b50, b80))
    return Forecast(
        cash_at_hand=cash,
        months=rows,
        trough_p50=_trough(rows, "balance_p50"),
        trough_p80=_trough(rows, "balance_p80"),
        loan=bridging_loan(rows, rate, loan_round),
    )


def _trough(rows: list[Month], name: str) -> Trough | None:
    if not rows:
        return None
    low = min(rows, key=lambda r: (getattr(r, name), r.month))
    return Trough(low.month, getattr(low, name))


def bridging_loan(
    rows: list[Month], rate: Decimal, loan_round: Decimal = Decimal("1000")
) -> BridgingLoan | None:
    """The loan covering the p80 trough: its depth rounded up to ``loan_round``, from the
    first month the p80 balance is negative until it is positive again (or the horizon's
    end), at ``rate`` % a year, simple interest. None when the balance never goes below
    zero."""
    negative = [i for i, r in enumerate(rows) if r.balance_p80 < 0]
    if not negative:
        return None
    depth = -min(r.balance_p80 for r in rows)
    amount = (depth / loan_round).to_integral_value(rounding=ROUND_CEILING) * loan_round
    first = negative[0]
    back = next((i for i in range(first, len(rows)) if rows[i].balance_p80 >= 0), None)
    months = (back if back is not None else len(rows)) - first
    interest = money(amount * rate / 100 * months / 12)
    return BridgingLoan(money(amount), months, rate, interest, rows[first].month, back is not None)


def forecast_risk(forecast: Forecast, cash_limit: Decimal | None) -> Decimal | None:
    """How far the p80 trough goes below its threshold — zero, or the cash limit the
    porteur declared, whichever is higher — in euros; None when it does not."""
    if forecast.trough_p80 is None:
        return None
    threshold = max(ZERO, cash_limit or ZERO)
    gap = threshold - forecast.trough_p80.balance
    return gap if gap > 0 else None


# ---------------------------------------------------------------- reading one porteur


#: Dossiers whose operation is live for the forecast: decided, in works, completed (the
#: grants are known; before the decision nothing is committed).
FORECAST_STATES = ("decided", "in_progress", "completed")

MAX_MONTHS = 60


def treasury_forecasts(
    organisations,
    *,
    today: dt.date | None = None,
    months: int = 24,
    rate: Decimal | None = None,
    drafted: dict | None = None,
) -> dict[int, Forecast]:
    """The forecast of each organisation (id → ``Forecast``) over ``months`` months (1 to
    60) from today's month, read in a constant number of queries for the whole list
    (``drafted``: a draft programme's grants, see ``_snapshot_rows``)."""
    today = today or timezone.localdate()
    organisations = list(organisations)
    from .treasury_reads import cash_today, operations_snapshots

    p = params()
    out = {}
    with gc_paused():  # bounded: the callers pass a chunk of organisations
        snapshots = operations_snapshots(organisations, today=today, p=p, drafted=drafted)
        cash = cash_today(organisations, today=today)
        for organisation in organisations:
            outflows, inflows = [], []
            for op in snapshots[organisation.pk]:
                o, i = project_operation(op, today=today, regime=organisation.fctva_regime, p=p)
                outflows += o
                inflows += i
            out[organisation.pk] = forecast_compute(
                cash=cash[organisation.pk],
                today=today,
                horizon=max(1, min(MAX_MONTHS, months)),
                outflows=outflows,
                inflows=inflows,
                rate=p.bridging_rate if rate is None else rate,
                loan_round=p.loan_round,
            )
    return out


def treasury_forecast(
    organisation,
    *,
    today: dt.date | None = None,
    months: int = 24,
    rate: Decimal | None = None,
) -> Forecast:
    """The organisation's forecast over ``months`` months (1 to 60) from today's month."""
    return treasury_forecasts([organisation], today=today, months=months, rate=rate)[
        organisation.pk
    ]
