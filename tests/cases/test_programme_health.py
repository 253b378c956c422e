"""LEADER programme health (issue 14): per action sheet, the figures equal the sums of the
dossiers' requests in every state (and those of ``cases.envelopes``), the rates follow the
target, and the money at risk counts the programmed money payable too late and the
unprogrammed remainder once the last programming date is near — in a bounded number of
queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import builders
from cases.envelopes import envelope_figures
from cases.models import Case, FundingRequest, Payment, PaymentClaim, RequestState
from cases.programme_health import last_programming_date, months_before, programme_health
from schemes.models import ActionSheet, Envelope, Scheme
from tests import factories as f

pytestmark = pytest.mark.django_db

D = Decimal
S = RequestState
EARLY = dt.date(2026, 3, 1)  # well before the last programming date (31/12/2027)


@pytest.fixture
def world():
    porteur = f.porteur()
    leader = Scheme.objects.get(code="LEADER")
    Scheme.objects.filter(pk=leader.pk).update(expected_payment_delay_days=90)
    leader.refresh_from_db()
    case = builders.case_build(porteur=porteur, title="Tiers-lieu", state="draft")
    one, two = (
        ActionSheet.objects.create(
            scheme=leader,
            territory_id=case.territory_id,
            code=code,
            title=f"Fiche {code}",
            target_amount=target,
        )
        for code, target in (("FA1", D("200000")), ("FA2", D("100000")))
    )
    return {"porteur": porteur, "case": case, "leader": leader, "one": one, "two": two}


def request(world, sheet, state, asked, granted=None, *, paid=(), works_end=None, year=2026):
    """A dossier of its own (one request per scheme and dossier) with one LEADER request."""
    own = Case.objects.get(pk=world["case"].pk)
    own.pk = own.id = None
    own.reference = None
    own.planned_works_end = works_end
    own.save()
    fr = FundingRequest.objects.create(
        case=own,
        scheme=world["leader"],
        state=state,
        amount_requested=D(asked),
        amount_granted=None if granted is None else D(granted),
        granted_on=dt.date(year, 6, 1) if granted is not None else None,
        action_sheet=sheet,
        amount_paid=sum((D(a) for a in paid), D("0")),  # as the payments' lifecycle keeps it
    )
    for amount in paid:
        claim = PaymentClaim.objects.create(
            funding_request=fr, kind="installment", amount=D(amount), state="paid"
        )
        Payment.objects.create(
            claim=claim,
            scheme=world["leader"],
            amount=D(amount),
            paid_on=dt.date(2025, 1, 5),
            delay_days=90,
        )
    return fr


def by_code(rows):
    return {h.sheet.code: h for h in rows}


def test_figures_are_the_sums_of_the_requests_in_every_state(world):
    one, two = world["one"], world["two"]
    far = dt.date(2027, 6, 30)
    request(world, one, S.SELECTED, "10000", works_end=far)
    request(world, one, S.GRANTED, "25000", "20000", works_end=far)
    request(world, one, S.COMMITTED, "30000", "30000", works_end=far, year=2025)
    request(world, one, S.PAYING, "40000", "40000", paid=("10000", "5000"), works_end=far)
    request(world, one, S.PAID, "5000", "5000", paid=("5000",))
    request(world, one, S.REQUESTED, "7000")
    request(world, one, S.REFUSED, "8000")
    request(world, one, S.WITHDRAWN, "9000")
    request(world, two, S.GRANTED, "100000", "100000", works_end=far)
    rows = by_code(programme_health(world["case"].territory_id, today=EARLY))
    h = rows["FA1"]
    assert h.target == D("200000") and not h.target_from_envelopes
    assert h.programmed == D("105000")  # 10 000 + 20 000 + 30 000 + 40 000 + 5 000
    assert h.committed == D("75000")  # 30 000 + 40 000 + 5 000
    assert h.paid == D("20000")
    assert h.programming_rate == D("0.5250") and h.payment_rate == D("0.1000")
    assert h.to_programme == D("95000")
    assert h.at_risk == 0  # works end in 2027, the programme in 2029; programming is far
    assert rows["FA2"].programmed == D("100000") and rows["FA2"].programming_rate == 1
    # The same definitions as the envelopes': the sheet's envelopes of each year add up.
    envelopes = [
        Envelope.objects.create(
            scheme=world["leader"],
            territory_id=world["case"].territory_id,
            year=year,
            action_sheet=one,
            amount=D("1"),
        )
        for year in (2025, 2026)
    ]
    figures = envelope_figures(envelopes)
    for name in ("programmed", "committed", "paid"):
        assert sum(getattr(x, name) for x in figures) == getattr(h, name), name


def test_a_sheet_without_target_takes_the_sum_of_its_envelopes(world):
    sheet = world["two"]
    ActionSheet.objects.filter(pk=sheet.pk).update(target_amount=None)
    for year, amount in ((2024, "30000"), (2025, "50000")):
        Envelope.objects.create(
            scheme=world["leader"],
            territory_id=sheet.territory_id,
            year=year,
            action_sheet=sheet,
            amount=D(amount),
        )
    request(world, sheet, S.GRANTED, "20000", "20000", works_end=dt.date(2027, 1, 1))
    h = by_code(programme_health(sheet.territory_id, today=EARLY))["FA2"]
    assert h.target == D("80000") and h.target_from_envelopes
    assert h.programming_rate == D("0.2500")


def test_programmed_money_payable_after_the_end_is_at_risk(world):
    one = world["one"]
    today = dt.date(2029, 6, 1)
    # Works end 15/11/2029: balance claimed 30 days later, paid 90 days after: 2030.
    late = request(
        world, one, S.COMMITTED, "60000", "50000", paid=("20000",), works_end=dt.date(2029, 11, 15)
    )
    # Works end 01/08/2029: claimed 31/08, paid 29/11/2029, in time.
    request(world, one, S.COMMITTED, "30000", "30000", works_end=dt.date(2029, 8, 1))
    # Selected, no works date: a year of works from today, then the balance: too late.
    selected = request(world, one, S.SELECTED, "15000")
    # Paid already: never at risk, whatever its dates.
    request(world, one, S.PAID, "9000", "9000", paid=("9000",), works_end=dt.date(2029, 12, 1))
    h = by_code(programme_health(one.territory_id, today=today))["FA1"]
    assert {r.request_id: r.unpaid for r in h.late} == {
        late.pk: D("30000"),
        selected.pk: D("15000"),
    }
    [first] = [r for r in h.late if r.request_id == late.pk]
    assert first.projected_on == dt.date(2029, 12, 15) + dt.timedelta(days=90)
    assert h.late_amount == D("45000")
    # A balance claim already filed in time brings its projection back before the end.
    PaymentClaim.objects.create(
        funding_request=late,
        kind="balance",
        amount=D("30000"),
        state="filed",
        filed_on=dt.date(2029, 7, 1),
    )
    h = by_code(programme_health(one.territory_id, today=today))["FA1"]
    assert [r.request_id for r in h.late] == [selected.pk]


def test_the_learned_delays_decide(world):
    """With five payments observed at 20 days, the scheme's learned median replaces its
    90-day parameter: a balance claimed on 10/11/2029 is paid in time."""
    one = world["one"]
    today = dt.date(2029, 6, 1)
    fr = request(world, one, S.COMMITTED, "10000", "10000", works_end=dt.date(2029, 10, 11))
    h = by_code(programme_health(one.territory_id, today=today))["FA1"]
    assert h.late_amount == D("10000")
    claim = PaymentClaim.objects.create(
        funding_request=fr, kind="advance", amount=D("1"), state="paid"
    )
    for k in range(5):
        Payment.objects.create(
            claim=claim,
            scheme=world["leader"],
            amount=D("0.20"),
            paid_on=dt.date(2029, 1, 1 + k),
            delay_days=20,
        )
    h = by_code(programme_health(one.territory_id, today=today))["FA1"]
    assert h.late_amount == 0 and h.paid == D("1.00")


def test_a_request_of_another_scheme_on_the_sheet_takes_the_sheets_delay(world):
    """A sheet's figures count whatever request sits on it; the projection of one of another
    scheme (here the DETR on a LEADER sheet) follows the sheet's scheme, never a KeyError."""
    one = world["one"]
    fr = request(world, one, S.COMMITTED, "10000", "10000", works_end=dt.date(2029, 10, 11))
    detr = Scheme.objects.get(code="DETR")
    FundingRequest.objects.filter(pk=fr.pk).update(scheme=detr)
    h = by_code(programme_health(one.territory_id, today=dt.date(2029, 6, 1)))["FA1"]
    # claimed 10/11/2029, paid after LEADER's 90 days: 08/02/2030, too late
    assert [(r.request_id, r.projected_on) for r in h.late] == [(fr.pk, dt.date(2030, 2, 8))]


def test_the_unprogrammed_remainder_counts_once_the_last_programming_is_near(world):
    one = world["one"]
    request(world, one, S.GRANTED, "50000", "50000", works_end=dt.date(2027, 6, 1))
    end = world["leader"].programme_end
    last = last_programming_date(end)
    assert last == dt.date(2027, 12, 31)
    assert months_before(dt.date(2029, 3, 31), 1) == dt.date(2029, 2, 28)
    territory = one.territory_id
    assert by_code(programme_health(territory, today=dt.date(2026, 12, 31)))["FA1"].at_risk == 0
    for today in (dt.date(2027, 1, 1), dt.date(2028, 3, 1)):
        h = by_code(programme_health(territory, today=today))["FA1"]
        assert h.unprogrammed_at_risk == D("150000") and h.at_risk == D("150000"), today
        assert h.at_risk_rate == D("0.7500")


def test_a_bounded_number_of_queries(world):
    one, two = world["one"], world["two"]
    late = dt.date(2029, 12, 1)
    request(world, one, S.COMMITTED, "1000", "1000", paid=("10",), works_end=late)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            programme_health(one.territory_id, today=dt.date(2029, 6, 1))
        return len(ctx.captured_queries)

    few = count()
    for k in range(6):
        sheet = one if k % 2 else two
        request(world, sheet, S.PAYING, "2000", "2000", paid=("10", "20"), works_end=late)
    assert count() == few
