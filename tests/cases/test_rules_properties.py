"""Properties of the financing-plan rules (hypothesis): exact money, order independence,
stability under splitting and scaling. Pure functions, no database; the schemes are unsaved
``Scheme`` objects with the default parameters of ``0002_default_schemes``."""

from collections import Counter
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cases.rules import Expense, Resource, check_plan
from schemes.models import Funder, Scheme

# DETR is a State scheme: its 80 % ceiling binds (revised rule 8)
ETAT = Funder(code="ETAT", name="État", is_state=True)
DETR = Scheme(
    code="DETR", name="DETR", rate_min=Decimal("0.20"), rate_max=Decimal("0.80"), funder=ETAT
)
REGION = Scheme(code="REGION_OCC", name="Région", rate_min=Decimal("0"), rate_max=Decimal("0.50"))
LEADER = Scheme(
    code="LEADER",
    name="LEADER",
    rate_min=Decimal("0"),
    rate_max=Decimal("0.80"),
    min_amount=Decimal("10000"),
    national_match_ratio=Decimal("4"),
    is_feader=True,
)

FAST = settings(max_examples=60, deadline=None)


def cents(n: int) -> Decimal:
    return Decimal(n).scaleb(-2)


def split(total: int, parts: int, draw) -> list[int]:
    """``total`` cents in ``parts`` positive parts (total >= parts)."""
    if parts <= 1:
        return [total]
    cuts = sorted(
        draw(
            st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True)
        )
    )
    bounds = [0, *cuts, total]
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]


@st.composite
def valid_plans(draw):
    """A valid plan of a commune: DETR (20–80 %), optionally LEADER and the Région, own funds,
    expenses split over several lines. Returns (expenses, resources)."""
    total = draw(st.integers(50_000_00, 5_000_000_00))
    expenses = [
        Expense(f"Lot {i}", cents(a))
        for i, a in enumerate(split(total, draw(st.integers(1, 5)), draw), 1)
    ]
    detr = draw(st.integers(-(-total * 20 // 100), total * 40 // 100))
    resources = [Resource("scheme", cents(detr), DETR)]
    rest = total - detr
    if draw(st.booleans()):
        leader = draw(st.integers(10_000_00, max(10_000_00, total * 20 // 100)))
        if leader <= total * 20 // 100:
            resources.append(Resource("scheme", cents(leader), LEADER))
            rest -= leader
    if draw(st.booleans()):
        region = draw(st.integers(1, total * 10 // 100))
        resources.append(Resource("scheme", cents(region), REGION))
        rest -= region
    # the commune's own funds: at least 20 % of all public financing, here ≥ 30 % of total
    resources.append(Resource("self", cents(rest)))
    return expenses, resources


@st.composite
def any_plans(draw):
    """Arbitrary (often invalid) plans with cent amounts, including zero and duplicates."""
    amount = st.integers(0, 2_000_000_00).map(cents)
    expenses = draw(
        st.lists(
            st.builds(Expense, st.sampled_from(["Travaux", "Études"]), amount),
            min_size=1,
            max_size=6,
        )
    )
    resource = st.one_of(
        st.builds(Resource, st.just("scheme"), amount, st.sampled_from([DETR, REGION, LEADER])),
        st.builds(Resource, st.sampled_from(["self", "other_public", "other"]), amount),
    )
    return expenses, draw(st.lists(resource, min_size=1, max_size=6))


def check(expenses, resources, public_owner=True, **kw):
    """A commune (bound by the 20 % own share) or a company (not bound)."""
    return check_plan(
        expenses, resources, owner_kind="commune" if public_owner else "company", **kw
    )


@FAST
@given(valid_plans())
def test_the_generated_plans_are_valid(plan):
    summary = check(*plan)
    assert summary.valid, summary.violations


@FAST
@given(valid_plans(), st.randoms(use_true_random=False))
def test_a_valid_plan_stays_valid_under_any_reordering(plan, rnd):
    expenses, resources = list(plan[0]), list(plan[1])
    rnd.shuffle(expenses)
    rnd.shuffle(resources)
    summary = check(expenses, resources)
    assert summary.valid, summary.violations


@FAST
@given(any_plans(), st.booleans(), st.randoms(use_true_random=False))
def test_reordering_never_changes_which_rules_fail_nor_the_totals(plan, public, rnd):
    expenses, resources = plan
    before = check(expenses, resources, public_owner=public)
    shuffled_e, shuffled_r = list(expenses), list(resources)
    rnd.shuffle(shuffled_e)
    rnd.shuffle(shuffled_r)
    after = check(shuffled_e, shuffled_r, public_owner=public)
    assert Counter(v.rule for v in before.violations) == Counter(v.rule for v in after.violations)
    assert (before.total_eligible, before.total_resources, before.public_aid) == (
        after.total_eligible,
        after.total_resources,
        after.public_aid,
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(1, 10**11), min_size=1, max_size=40),
    st.lists(st.integers(1, 10**11), min_size=1, max_size=40),
)
def test_totals_are_exact_decimal_sums_of_cents(expense_cents, resource_cents):
    expenses = [Expense("x", cents(n)) for n in expense_cents]
    resources = [Resource("other", cents(n)) for n in resource_cents]
    summary = check(expenses, resources, public_owner=False)
    assert summary.total_eligible == cents(sum(expense_cents))
    assert summary.total_resources == cents(sum(resource_cents))
    assert summary.total_eligible.as_tuple().exponent == -2
    balanced = sum(expense_cents) == sum(resource_cents)
    assert ("balance" in {v.rule for v in summary.violations}) is not balanced


def test_ten_times_ten_cents_is_one_euro_exactly():
    # with floats 0.1 summed ten times is 0.9999999999999999
    assert sum([0.1] * 10) != 1.0
    summary = check(
        [Expense("Fournitures", Decimal("0.10")) for _ in range(10)],
        [Resource("scheme", Decimal("0.50"), DETR), Resource("self", Decimal("0.50"))],
    )
    assert summary.total_eligible == Decimal("1.00")
    assert "balance" not in {v.rule for v in summary.violations}


@FAST
@given(valid_plans(), st.data())
def test_splitting_the_self_financing_line_keeps_validity(plan, data):
    expenses, resources = plan
    own = resources[-1]
    assume(own.amount >= Decimal("0.02"))
    own_cents = int(own.amount * 100)
    first = data.draw(st.integers(1, own_cents - 1))
    parts = [Resource("self", cents(first)), Resource("self", cents(own_cents - first))]
    position = data.draw(st.integers(0, len(resources) - 1))
    split_resources = resources[:-1]
    split_resources[position:position] = parts
    summary = check(expenses, split_resources)
    assert summary.valid, summary.violations
    assert summary.own_funds == own.amount


@FAST
@given(valid_plans(), st.data())
def test_splitting_an_expense_line_keeps_validity(plan, data):
    expenses, resources = plan
    index = data.draw(st.integers(0, len(expenses) - 1))
    line = expenses[index]
    line_cents = int(line.amount * 100)
    assume(line_cents >= 2)
    first = data.draw(st.integers(1, line_cents - 1))
    new_expenses = [
        *expenses[:index],
        Expense(line.label, cents(first)),
        Expense(line.label + " (suite)", cents(line_cents - first)),
        *expenses[index + 1 :],
    ]
    assert check(new_expenses, resources).valid


@FAST
@given(valid_plans(), st.integers(2, 50))
def test_scaling_a_valid_plan_up_keeps_it_valid(plan, k):
    expenses, resources = plan
    scaled_e = [Expense(e.label, e.amount * k) for e in expenses]
    scaled_r = [Resource(r.kind, r.amount * k, r.scheme) for r in resources]
    summary = check(scaled_e, scaled_r)
    assert summary.valid, summary.violations
    assert summary.public_aid_rate == check(expenses, resources).public_aid_rate


@FAST
@given(valid_plans(), st.data())
def test_one_cent_more_on_any_resource_unbalances_the_plan(plan, data):
    expenses, resources = plan
    index = data.draw(st.integers(0, len(resources) - 1))
    changed = list(resources)
    r = changed[index]
    changed[index] = Resource(r.kind, r.amount + Decimal("0.01"), r.scheme)
    rules = {v.rule for v in check(expenses, changed).violations}
    assert "balance" in rules


@FAST
@given(valid_plans(), st.data())
def test_moving_money_between_own_funds_and_private_funds_keeps_balance(plan, data):
    """The balance rule sees only totals: a transfer between lines keeps it satisfied."""
    expenses, resources = plan
    own = resources[-1]
    moved = data.draw(st.integers(1, max(1, int(own.amount * 100) - 1)))
    assume(own.amount * 100 > moved)
    changed = [
        *resources[:-1],
        Resource("self", own.amount - cents(moved)),
        Resource("other", cents(moved)),
    ]
    summary = check(expenses, changed, public_owner=False)
    assert "balance" not in {v.rule for v in summary.violations}
    assert summary.total_resources == summary.total_eligible
