"""Financing-plan rules of domain.md, each on both sides of its bound, with the schemes'
parameters read from the database (data migration ``0002_default_schemes``).

Revised rules 8 and 9 (issue 11) changed some bounds here: rates, the public-aid ceiling
and the own share are compared at 0.01 % after rounding half-up, so « one cent over » on
100 000 € became « 5 € over » (0,005 %); the ceiling binds only with a State scheme; the
own share binds communes, EPCI, départements and régions; an exception names a legal case
and lowers the floor instead of switching it off."""

from decimal import Decimal

import pytest

from cases.rules import Expense, Resource, check_plan, euros, percent
from schemes.models import Funder, LegalCase, Scheme

pytestmark = pytest.mark.django_db

C = Decimal("0.01")
TOTAL = Decimal("100000.00")


def s(code: str) -> Scheme:
    return Scheme.objects.get(code=code)


def plan(*resources, total=TOTAL, public_owner=True, exception=None, expenses=None, kind=None):
    expenses = expenses or [Expense("Travaux", total)]
    legal_case = LegalCase.objects.get(code=exception) if exception else None
    owner_kind = kind or ("commune" if public_owner else "company")
    return check_plan(expenses, list(resources), owner_kind=owner_kind, legal_case=legal_case)


def scheme(code, amount):
    return Resource("scheme", Decimal(amount), s(code))


def own(amount):
    return Resource("self", Decimal(amount))


def other_public(amount, label="Communauté de communes"):
    return Resource("other_public", Decimal(amount), label=label)


def private(amount, label="Mécénat"):
    return Resource("other", Decimal(amount), label=label)


def rules_of(summary):
    return {v.rule for v in summary.violations}


def only(summary, rule):
    found = [v for v in summary.violations if v.rule == rule]
    assert len(found) == 1, summary.violations
    return found[0]


# ---------------------------------------------------------------- 1. balance to the cent


def test_a_balanced_plan_is_valid():
    summary = plan(scheme("DETR", "40000.00"), own("60000.00"))
    assert summary.valid, summary.violations
    assert summary.total_eligible == summary.total_resources == TOTAL
    assert summary.public_aid == Decimal("40000.00")
    assert summary.public_aid_rate == Decimal("0.4000")


@pytest.mark.parametrize(
    ("self_amount", "gap", "verb"),
    [("59999.99", "0,01 €", "n'atteignent pas"), ("60000.01", "0,01 €", "dépassent")],
)
def test_one_cent_off_unbalances_the_plan(self_amount, gap, verb):
    summary = plan(scheme("DETR", "40000.00"), own(self_amount))
    violation = only(summary, "balance")
    assert rules_of(summary) == {"balance"}
    assert violation.line == "Total des ressources"
    assert violation.message.startswith("Plan déséquilibré")
    assert verb in violation.message and f"écart de {gap}" in violation.message
    assert "100 000,00 €" in violation.message


def test_ineligible_expenses_are_not_in_the_total():
    summary = plan(
        scheme("DETR", "40000.00"),
        own("60000.00"),
        expenses=[
            Expense("Travaux", TOTAL),
            Expense("Mobilier", Decimal("5000.00"), eligible=False),
        ],
    )
    assert summary.valid and summary.total_eligible == TOTAL


# ---------------------------------------------------------------- 2. own share of a public owner


def test_own_share_of_twenty_percent_of_public_financing_is_enough():
    # public financing = 64 000 (DETR) + 16 000 (own) = 80 000 → at least 16 000 own funds
    summary = plan(scheme("DETR", "64000.00"), own("16000.00"), private("20000.00"))
    assert summary.valid, summary.violations


def test_own_share_under_twenty_percent_after_rounding_is_refused():
    # 15 996 / 80 000 = 19,995 % → 20,00 %: enough; 15 995,99 / 80 000 → 19,99 %: short
    ok = plan(scheme("DETR", "64004.00"), own("15996.00"), private("20000.00"))
    assert ok.valid, ok.violations
    summary = plan(scheme("DETR", "64004.01"), own("15995.99"), private("20000.00"))
    assert rules_of(summary) == {"own_share"}
    violation = only(summary, "own_share")
    assert violation.line == "Autofinancement"
    assert "au moins 20 %" in violation.message and "CGCT L1111-10 III" in violation.message
    assert "15 995,99 € prévus" in violation.message
    assert "dérogation" in violation.message


def test_own_share_exception_lowers_the_floor_to_its_legal_case():
    # école, rénovation énergétique: 10 %. 8 000 / 72 000 = 11,1 % passes with it only.
    resources = (scheme("DETR", "64000.00"), own("8000.00"), private("28000.00"))
    assert rules_of(plan(*resources)) == {"own_share"}
    assert plan(*resources, exception="renovation_energetique_ecoles").valid
    short = plan(
        scheme("DETR", "64000.00"),
        own("7000.00"),
        private("29000.00"),
        exception="renovation_energetique_ecoles",
    )
    violation = only(short, "own_share")
    assert "au moins 10 %" in violation.message and "Rénovation énergétique" in violation.message


@pytest.mark.parametrize("kind", ["public_body", "association", "company"])
def test_own_share_rule_binds_only_communes_their_groupings_departments_regions(kind):
    summary = plan(scheme("DETR", "64000.00"), own("1000.00"), private("35000.00"), kind=kind)
    assert summary.valid, summary.violations
    assert summary.own_share_min is None


@pytest.mark.parametrize("kind", ["commune", "epci", "departement", "region"])
def test_own_share_rule_binds_local_authorities(kind):
    summary = plan(scheme("DETR", "64000.00"), own("1000.00"), private("35000.00"), kind=kind)
    assert rules_of(summary) == {"own_share"}


def test_other_public_funding_counts_in_the_public_financing():
    # public financing = 40 000 + 20 000 + 15 000 = 75 000 → 15 000 own funds needed
    ok = plan(
        scheme("DETR", "40000.00"), other_public("20000.00"), own("15000.00"), private("25000.00")
    )
    assert ok.valid, ok.violations
    short = plan(
        scheme("DETR", "40000.00"), other_public("20000.00"), own("14990.00"), private("25010.00")
    )
    assert rules_of(short) == {"own_share"}


# ---------------------------------------------------------------- 3. public aid ceiling


def test_public_aid_at_the_ceiling_is_allowed():
    summary = plan(
        scheme("DETR", "60000.00"), other_public("20000.00"), own("20000.00"), public_owner=False
    )
    assert summary.valid, summary.violations
    assert summary.public_aid_rate == Decimal("0.8000")


def test_public_aid_above_the_ceiling_after_rounding_is_refused():
    # 80 004,99 € is 80,00 % (0,01 % after rounding): allowed; 80 005 € is 80,01 %
    ok = plan(
        scheme("DETR", "60000.00"), other_public("20004.99"), own("19995.01"), public_owner=False
    )
    assert ok.valid, ok.violations
    summary = plan(
        scheme("DETR", "60000.00"), other_public("20005.00"), own("19995.00"), public_owner=False
    )
    assert rules_of(summary) == {"public_aid_ceiling"}
    violation = only(summary, "public_aid_ceiling")
    assert violation.line == "Total des aides publiques"
    assert "dépassent le plafond de 80 %" in violation.message
    assert "dispositif DETR" in violation.message and "80 000,00 € au plus" in violation.message


def test_the_strictest_ceiling_of_the_state_schemes_requested_applies():
    strict = Scheme(
        code="STRICT",
        name="Plafond 70 %",
        public_aid_ceiling=Decimal("0.70"),
        funder=Funder(code="ETAT_BIS", name="État", is_state=True),
    )
    ok = plan(
        scheme("DETR", "60000.00"),
        Resource("scheme", Decimal("10000.00"), strict),
        own("30000.00"),
        public_owner=False,
    )
    assert ok.valid, ok.violations
    over = plan(
        scheme("DETR", "60000.00"),
        Resource("scheme", Decimal("10005.00"), strict),
        own("29995.00"),
        public_owner=False,
    )
    assert rules_of(over) == {"public_aid_ceiling"}
    assert "70 %" in over.violations[0].message and "STRICT" in over.violations[0].message


# ---------------------------------------------------------------- 4. LEADER floor


def test_leader_aid_of_ten_thousand_euros_is_enough():
    summary = plan(scheme("LEADER", "10000.00"), own("40000.00"), total=Decimal("50000.00"))
    assert summary.valid, summary.violations


def test_leader_aid_one_cent_below_ten_thousand_euros_is_refused():
    summary = plan(scheme("LEADER", "9999.99"), own("40000.01"), total=Decimal("50000.00"))
    assert rules_of(summary) == {"min_amount"}
    violation = only(summary, "min_amount")
    assert violation.line == "Ressource n° 1 (LEADER)"
    assert violation.message.startswith("Ressource n° 1 (LEADER) : l'aide LEADER doit être")
    assert "10 000,00 €" in violation.message and "9 999,99 € demandés" in violation.message


# ---------------------------------------------------------------- 5. FEADER and national match


def test_feader_up_to_four_times_the_national_public_match():
    # an association: its own funds are no public match; the Région's 10 000 € is
    summary = plan(
        scheme("LEADER", "40000.00"),
        scheme("REGION_OCC", "10000.00"),
        own("50000.00"),
        public_owner=False,
    )
    assert summary.valid, summary.violations


def test_feader_one_cent_above_four_times_the_match_is_refused():
    summary = plan(
        scheme("LEADER", "40000.01"),
        scheme("REGION_OCC", "10000.00"),
        own("49999.99"),
        public_owner=False,
    )
    assert rules_of(summary) == {"national_match"}
    violation = only(summary, "national_match")
    assert violation.line == "Ressource n° 1 (LEADER)"
    assert "le FEADER ne peut dépasser 4" in violation.message
    assert "contreparties publiques nationales (10 000,00 €)" in violation.message
    assert "40 000,00 €" in violation.message and "40 000,01 € demandés" in violation.message


def test_a_public_owners_own_funds_count_as_national_match():
    resources = (scheme("LEADER", "40000.00"), own("60000.00"))
    assert plan(*resources, public_owner=True).valid
    private_owner = plan(*resources, public_owner=False)
    assert rules_of(private_owner) == {"national_match"}
    assert "(0,00 €)" in private_owner.violations[0].message


def test_public_owner_own_funds_at_the_exact_match_boundary():
    # 8 000 € own funds of a commune → FEADER ≤ 32 000 € (with other public money: 0)
    ok = plan(
        scheme("LEADER", "32000.00"), own("8000.00"), private("0.01"), total=Decimal("40000.01")
    )
    assert "national_match" not in rules_of(ok)
    over = plan(scheme("LEADER", "32000.01"), own("8000.00"), total=Decimal("40000.01"))
    assert "national_match" in rules_of(over)


def test_other_public_money_counts_as_national_match():
    summary = plan(
        scheme("LEADER", "40000.00"),
        other_public("10000.00"),
        own("50000.00"),
        public_owner=False,
    )
    assert summary.valid, summary.violations


def test_feader_does_not_match_itself():
    other_feader = Scheme(
        code="FEADER_BIS", name="Autre mesure FEADER", is_feader=True, rate_max=Decimal("1")
    )
    summary = plan(
        scheme("LEADER", "20000.00"),
        Resource("scheme", Decimal("20000.00"), other_feader),
        own("60000.00"),
        public_owner=False,
    )
    assert rules_of(summary) == {"national_match"}


# ---------------------------------------------------------------- 6. each scheme's rate bounds


SCHEME_CODES = ["DETR", "DSIL", "FONDS_VERT", "REGION_OCC", "DEPT_TARN", "LEADER"]


def _single_scheme_plan(code, amount):
    # a commune: own funds balance the plan and count as match for FEADER
    return plan(scheme(code, amount), own(TOTAL - Decimal(amount)))


@pytest.mark.parametrize("code", SCHEME_CODES)
def test_rate_at_the_maximum_is_allowed_one_cent_above_is_not(code):
    rate_max = s(code).rate_max
    at_max = (TOTAL * rate_max).quantize(C)
    assert _single_scheme_plan(code, at_max).valid, _single_scheme_plan(code, at_max).violations
    # 0,01 % after rounding (revised rule 9): 4,99 € over is still at the maximum
    assert "rate_max" not in rules_of(_single_scheme_plan(code, at_max + Decimal("4.99")))
    over = _single_scheme_plan(code, at_max + Decimal("5.00"))
    violation = only(over, "rate_max")
    # named as people read it (issue 12 point 6): « Région Occitanie », not « REGION_OCC »
    assert violation.line == f"Ressource n° 1 ({s(code).label})"
    assert s(code).label != code or code in ("DETR", "DSIL", "LEADER")
    assert f"dépasse le maximum du dispositif ({percent(rate_max)})" in violation.message


@pytest.mark.parametrize("code", SCHEME_CODES)
def test_rate_at_the_minimum_is_allowed_one_cent_below_is_not(code):
    sch = s(code)
    at_min = max((TOTAL * sch.rate_min).quantize(C), sch.min_amount or C)
    assert _single_scheme_plan(code, at_min).valid, _single_scheme_plan(code, at_min).violations
    below = _single_scheme_plan(code, at_min - (Decimal("5.01") if sch.rate_min else C))
    if sch.rate_min:
        violation = only(below, "rate_min")
        assert violation.line == f"Ressource n° 1 ({sch.label})"
        assert f"inférieur au minimum du dispositif ({percent(sch.rate_min)})" in violation.message
    elif sch.min_amount:
        assert rules_of(below) == {"min_amount"}
    else:
        # no floor but the amount itself: 0,00 € is no aid
        assert rules_of(below) == {"amount_positive"}


def test_rate_bounds_are_parameters_not_constants():
    Scheme.objects.filter(code="DETR").update(rate_max=Decimal("0.3500"))
    assert _single_scheme_plan("DETR", "35000.00").valid
    assert rules_of(_single_scheme_plan("DETR", "35005.00")) == {"rate_max"}


def test_default_scheme_parameters_are_those_of_the_domain():
    detr = s("DETR")
    assert (detr.rate_min, detr.rate_max) == (Decimal("0.2"), Decimal("0.8"))
    leader = s("LEADER")
    assert leader.min_amount == Decimal("10000") and leader.national_match_ratio == 4
    assert leader.is_feader and leader.committee
    for x in Scheme.objects.select_related("funder"):
        # revised rule 8: the 80 % ceiling is the State schemes' (R2334-27)
        assert x.public_aid_ceiling == (Decimal("0.8") if x.funder.is_state else None), x.code
    assert Funder.objects.filter(code="UE").exists()


# ---------------------------------------------------------------- line-level checks


def test_amounts_with_more_than_two_decimals_are_refused():
    summary = plan(scheme("DETR", "40000.001"), own("59999.999"))
    cents = [v for v in summary.violations if v.rule == "cents"]
    assert [v.line for v in cents] == ["Ressource n° 1 (DETR)", "Ressource n° 2 (autofinancement)"]
    assert all("plus de deux décimales" in v.message for v in cents)


def test_non_positive_amounts_name_their_line():
    summary = plan(
        scheme("DETR", "40000.00"),
        own("60000.00"),
        private("0.00", label="Mécénat du Crédit agricole"),
        expenses=[Expense("Travaux", TOTAL), Expense("Remise", Decimal("-10.00"))],
    )
    lines = {v.line for v in summary.violations if v.rule == "amount_positive"}
    assert lines == {
        "Dépense n° 2 « Remise »",
        "Ressource n° 3 (autre financement « Mécénat du Crédit agricole »)",
    }


def test_a_plan_without_scheme_or_expense_is_refused():
    assert "no_scheme" in rules_of(plan(own("100000.00")))
    empty = plan(own("1.00"), expenses=[Expense("Études", Decimal("0.00"))])
    assert "no_expense" in rules_of(empty)
    assert any("au moins une dépense éligible" in v.message for v in empty.violations)


def test_one_line_per_scheme():
    summary = plan(scheme("DETR", "20000.00"), scheme("DETR", "20000.00"), own("60000.00"))
    violation = only(summary, "duplicate_scheme")
    assert violation.line == "Ressource n° 2 (DETR)"
    assert "figure déjà en ressource n° 1" in violation.message


def test_a_scheme_line_must_name_its_scheme():
    summary = plan(
        Resource("scheme", Decimal("40000.00")), scheme("DETR", "20000.00"), own("40000.00")
    )
    assert only(summary, "scheme").line == "Ressource n° 1 (dispositif)"


def test_every_message_is_french_and_names_its_line():
    summary = plan(
        scheme("LEADER", "9999.99"),
        scheme("DETR", "80010.00"),
        own("10000.00"),
        private("0.001"),
    )
    assert {"min_amount", "rate_max", "public_aid_ceiling", "balance", "cents"} <= rules_of(summary)
    aggregate_lines = {
        "Total des ressources": "Plan déséquilibré",
        "Total des aides publiques": "Les aides publiques",
        "Autofinancement": "Autofinancement :",
    }
    for v in summary.violations:
        assert v.rule and v.line
        assert aggregate_lines.get(v.line, v.line) in v.message, v
        for english in ("must", "exceed", "should", "invalid", "amount", "line"):
            assert english not in v.message.lower(), v


def test_french_money_and_percent_formats():
    assert euros(Decimal("1234567.5")) == "1 234 567,50 €"
    assert euros(Decimal("-0.01")) == "-0,01 €"
    assert percent(Decimal("0.8")) == "80 %"
    assert percent(Decimal("0.125")) == "12,5 %"
