"""The treasury forecast's projection (issue 13), pure: worked examples, then properties
over random lifecycles (hypothesis) — the cumulative balance is the sum of the flows;
recording a payment removes exactly its projected inflow; the 80th percentile is never
more optimistic than the median; the FCTVA regime only moves the refund; the risk is
raised exactly when the p80 trough crosses its threshold."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.treasury import (
    ZERO,
    ClaimSnap,
    GrantSnap,
    OperationSnap,
    Params,
    SchemeTerms,
    add_months,
    bridging_loan,
    forecast_compute,
    forecast_risk,
    month_of,
    project_operation,
)

P = Params()
TODAY = dt.date(2026, 12, 1)
DETR = SchemeTerms("DETR", "DETR", p50=60, p80=90, advance_max_rate=Decimal("0.30"))
LEADER = SchemeTerms("LEADER", "LEADER", p50=270, p80=400)


def euros(text: str) -> Decimal:
    return Decimal(text)


def forecast(ops, *, cash=ZERO, regime=2, today=TODAY, horizon=24):
    outflows, inflows = [], []
    for op in ops:
        o, i = project_operation(op, today=today, regime=regime, p=P)
        outflows += o
        inflows += i
    return forecast_compute(
        cash=cash,
        today=today,
        horizon=horizon,
        outflows=outflows,
        inflows=inflows,
        rate=P.bridging_rate,
    )


# ---------------------------------------------------------------- worked examples


def test_a_commune_school_spread_over_its_works_with_detr_and_fctva():
    """120 000 € TTC over 12 months from January 2027; DETR 40 000 € granted and committed
    (advance 30 %); FCTVA N+2 on 120 000 € eligible TTC."""
    grant = GrantSnap(1, DETR, granted=euros("40000"), paid=ZERO, committed_on=TODAY)
    op = OperationSnap(
        case_id=7,
        reference="GU-2026-00007",
        cost=euros("120000.00"),
        fctva_base=euros("120000.00"),
        works_start=dt.date(2027, 1, 1),
        works_end=dt.date(2027, 12, 31),
        grants=(grant,),
    )
    out, inflows = project_operation(op, today=TODAY, regime=2, p=P)
    assert len(out) == 12 and sum(o.amount for o in out) == euros("120000.00")
    assert {o.on for o in out} == {add_months(dt.date(2027, 1, 1), i) for i in range(12)}
    kinds = {}
    for i in inflows:
        kinds[i.kind] = kinds.get(i.kind, ZERO) + i.amount
    # the whole grant comes back: advance, installments (up to 80 %), balance
    assert kinds["advance"] == euros("12000.00")
    assert kinds["advance"] + kinds["installment"] == euros("32000.00")  # the 80 % ceiling
    assert kinds["balance"] == euros("8000.00")
    # FCTVA: 16.404 % of 120 000 €, all in May 2029 (N+2 of the 2027 expenses)
    assert kinds["fctva"] == euros("19684.80")
    assert {i.on_p50 for i in inflows if i.kind == "fctva"} == {dt.date(2029, 5, 1)}
    advance = next(i for i in inflows if i.kind == "advance")
    assert advance.on_p50 == TODAY + dt.timedelta(days=60)
    assert advance.on_p80 == TODAY + dt.timedelta(days=90)


def test_the_trough_and_the_bridging_loan():
    grant = GrantSnap(1, LEADER, granted=euros("50000"), paid=ZERO)
    op = OperationSnap(
        case_id=1,
        reference="GU-1",
        cost=euros("60000.00"),
        fctva_base=ZERO,
        works_start=dt.date(2026, 12, 1),
        works_end=dt.date(2027, 5, 31),
        grants=(grant,),
    )
    f = forecast([op], cash=euros("20000.00"))
    assert f.months[0].balance_p50 == euros("10000.00")  # 20 000 − 10 000 of December
    assert f.trough_p80.balance < 0 and f.trough_p80.balance <= f.trough_p50.balance
    loan = f.loan
    assert loan is not None and loan.amount >= -f.trough_p80.balance
    assert loan.amount % 1000 == 0 and loan.amount - (-f.trough_p80.balance) < 1000
    assert loan.interest == (loan.amount * P.bridging_rate / 100 * loan.months / 12).quantize(
        Decimal("0.01")
    )
    rich = forecast([op], cash=euros("500000.00"))
    assert rich.loan is None and forecast_risk(rich, None) is None


def test_recorded_claims_and_payments_replace_projections():
    claim = ClaimSnap(9, "installment", euros("10000.00"), dt.date(2026, 10, 1))
    grant = GrantSnap(1, DETR, granted=euros("40000"), paid=euros("12000"), claims=(claim,))
    op = OperationSnap(
        1,
        "GU-1",
        euros("100000"),
        ZERO,
        dt.date(2026, 6, 1),
        dt.date(2026, 11, 30),
        completed=True,
        grants=(grant,),
    )
    _out, inflows = project_operation(op, today=TODAY, regime=2, p=P)
    by_kind = {i.kind: i for i in inflows}
    assert by_kind["claim"].amount == euros("10000.00") and by_kind["claim"].claim_id == 9
    # filed on 1 October + 60 days = 30 November, already past: this month
    assert by_kind["claim"].on_p50 == TODAY
    assert by_kind["balance"].amount == euros("18000.00")  # 40 000 − 12 000 paid − 10 000
    assert "advance" not in by_kind and "installment" not in by_kind


def test_planned_invoices_replace_the_even_spread():
    op = OperationSnap(
        1,
        "GU-1",
        euros("90000"),
        ZERO,
        dt.date(2027, 1, 1),
        dt.date(2027, 12, 31),
        invoices=((dt.date(2026, 11, 15), euros("10000")), (dt.date(2027, 3, 10), euros("80000"))),
    )
    out, _in = project_operation(op, today=TODAY, regime=2, p=P)
    assert [(o.on, o.amount) for o in out] == [(dt.date(2027, 3, 10), euros("80000"))]


# ---------------------------------------------------------------- properties


amounts = st.integers(min_value=0, max_value=500_000).map(lambda n: Decimal(n))
days = st.integers(min_value=-700, max_value=700).map(lambda n: TODAY + dt.timedelta(days=n))


@st.composite
def schemes(draw):
    p50 = draw(st.integers(min_value=0, max_value=400))
    return SchemeTerms(
        code=draw(st.sampled_from(["DETR", "DSIL", "REGION", "LEADER"])),
        label="X",
        p50=p50,
        p80=p50 + draw(st.integers(min_value=0, max_value=300)),
        advance_max_rate=draw(st.sampled_from([None, Decimal("0.30"), Decimal("0.05")])),
        installments_max_rate=draw(st.sampled_from([Decimal("0.80"), Decimal("0.70")])),
    )


@st.composite
def grants(draw, gid):
    granted = draw(amounts)
    paid = min(granted, draw(amounts))
    claims = tuple(
        ClaimSnap(
            gid * 10 + k,
            draw(st.sampled_from(["advance", "installment", "balance"])),
            draw(amounts),
            draw(days),
        )
        for k in range(draw(st.integers(min_value=0, max_value=3)))
    )
    return GrantSnap(
        gid,
        draw(schemes()),
        granted,
        paid,
        claims,
        advance_claimed=draw(st.booleans()),
        committed_on=draw(st.one_of(st.none(), days)),
    )


@st.composite
def operations(draw, cid):
    start = draw(st.one_of(st.none(), days))
    end = None if start is None else draw(st.one_of(st.none(), days))
    invoices = tuple(
        (draw(days), draw(amounts)) for _ in range(draw(st.sampled_from([0, 0, 1, 3])))
    )
    cost = draw(amounts)
    return OperationSnap(
        case_id=cid,
        reference=f"GU-{cid}",
        cost=cost,
        fctva_base=draw(st.sampled_from([ZERO, cost])),
        works_start=start,
        works_end=end,
        completed=draw(st.booleans()),
        invoices=invoices,
        grants=tuple(draw(grants(cid * 10 + g)) for g in range(draw(st.integers(0, 2)))),
    )


portfolios = st.integers(min_value=0, max_value=3).flatmap(
    lambda n: st.tuples(*[operations(i + 1) for i in range(n)])
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(portfolios, amounts, st.integers(min_value=0, max_value=2))
def test_the_balance_is_the_cash_plus_the_flows(ops, cash, regime):
    f = forecast(ops, cash=cash, regime=regime)
    b50 = b80 = cash
    for m in f.months:
        b50 += m.inflows_p50 - m.outflows
        b80 += m.inflows_p80 - m.outflows
        assert (m.balance_p50, m.balance_p80) == (b50, b80)
    # every flow of the horizon is in one month, none twice
    end = add_months(month_of(TODAY), 24)
    assert sum(m.outflows for m in f.months) == sum(o.amount for o in f.outflows if o.on < end)
    assert sum(m.inflows_p50 for m in f.months) == sum(
        i.amount for i in f.inflows if i.on_p50 < end
    )


@SETTINGS
@given(portfolios, amounts, st.integers(min_value=0, max_value=2))
def test_p80_is_never_more_optimistic_than_the_median(ops, cash, regime):
    f = forecast(ops, cash=cash, regime=regime)
    assert all(m.balance_p80 <= m.balance_p50 for m in f.months)
    assert all(i.on_p80 >= i.on_p50 for i in f.inflows)
    if f.trough_p80 is not None:
        assert f.trough_p80.balance <= f.trough_p50.balance


@SETTINGS
@given(operations(1), st.data())
def test_recording_a_payment_removes_exactly_its_projected_inflow(op, data):
    with_claims = [g for g in op.grants if g.claims]
    if not with_claims:
        return
    grant = data.draw(st.sampled_from(with_claims))
    claim = data.draw(st.sampled_from(grant.claims))
    paid = replace(
        grant,
        paid=grant.paid + claim.amount,
        claims=tuple(c for c in grant.claims if c is not claim),
        advance_claimed=grant.advance_claimed or claim.kind == "advance",
    )
    if claim.kind == "advance" and not grant.advance_claimed:
        grant = replace(grant, advance_claimed=True)  # a filed advance is an advance claimed
    before_op = replace(op, grants=tuple(grant if g.id == grant.id else g for g in op.grants))
    after_op = replace(op, grants=tuple(paid if g.id == grant.id else g for g in op.grants))
    _o, before = project_operation(before_op, today=TODAY, regime=2, p=P)
    _o, after = project_operation(after_op, today=TODAY, regime=2, p=P)
    assert sum(i.amount for i in before) - sum(i.amount for i in after) == claim.amount
    assert [i for i in after if i.claim_id == claim.id] == []


def future_only(op: OperationSnap) -> OperationSnap:
    """The operation with its expenses from today on (no refund already made)."""
    start = max(TODAY, op.works_start or TODAY)
    return replace(
        op,
        works_start=start,
        works_end=None if op.works_end is None else max(start, op.works_end),
        invoices=tuple((max(TODAY, on), a) for on, a in op.invoices),
    )


@SETTINGS
@given(portfolios)
def test_the_fctva_regime_only_moves_the_refund(ops):
    ops = [future_only(op) for op in ops]
    flows = {}
    for regime in (0, 1, 2):
        outs, ins = [], []
        for op in ops:
            o, i = project_operation(op, today=TODAY, regime=regime, p=P)
            outs += o
            ins += i
        flows[regime] = (outs, ins)
    others = {r: [i for i in ins if i.kind != "fctva"] for r, (_o, ins) in flows.items()}
    assert others[0] == others[1] == others[2]
    assert flows[0][0] == flows[1][0] == flows[2][0]
    # the whole refund of an operation is the same, later with a later regime
    for op in ops:
        refunds = {
            r: [i for i in flows[r][1] if i.kind == "fctva" and i.case_id == op.case_id]
            for r in (0, 1, 2)
        }
        totals = {r: sum((i.amount for i in refunds[r]), ZERO) for r in refunds}
        assert totals[0] == totals[1] == totals[2]
        if refunds[0]:
            firsts = [min(i.on_p50 for i in refunds[r]) for r in (0, 1, 2)]
            assert firsts[0] <= firsts[1] < firsts[2]


@SETTINGS
@given(portfolios, amounts, st.one_of(st.none(), amounts))
def test_the_risk_is_raised_exactly_when_the_p80_trough_crosses_its_threshold(
    ops, cash, cash_limit
):
    f = forecast(ops, cash=cash)
    gap = forecast_risk(f, cash_limit)
    threshold = cash_limit or ZERO
    crossed = f.trough_p80 is not None and f.trough_p80.balance < threshold
    assert (gap is not None) == crossed
    if crossed:
        assert gap == threshold - f.trough_p80.balance
    loan = bridging_loan(f.months, P.bridging_rate)
    assert (loan is None) == (f.trough_p80 is None or f.trough_p80.balance >= 0)


@SETTINGS
@given(
    st.lists(st.integers(min_value=0, max_value=3000), max_size=60),
    st.integers(min_value=1, max_value=2500),
    st.integers(min_value=1, max_value=20),
)
def test_chunks_hold_every_organisation_once_within_their_bounds(sizes, max_cases, max_orgs):
    from cases.treasury_ranking import chunks_by_cases

    ids = list(range(1, len(sizes) + 1))
    counts = dict(zip(ids, sizes, strict=True))
    chunks = list(chunks_by_cases(ids, counts, max_cases=max_cases, max_orgs=max_orgs))
    assert [pk for chunk in chunks for pk in chunk] == ids
    for chunk in chunks:
        assert len(chunk) <= max_orgs
        assert len(chunk) == 1 or sum(counts[pk] for pk in chunk) <= max_cases
