"""Envelopes (issue 14): their figures equal the sums of the dossiers' requests in every
state (property-based over random lifecycles), per year and per action sheet; the API
shows them to the territory's staff and to the funders (their schemes), not to others."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import builders
from cases.envelopes import PIPELINE, envelope_figures, request_contribution
from cases.models import Case, FundingRequest, Payment, PaymentClaim, RequestState
from cases.public_selectors import COMMITTED_STATES, GRANTED_STATES
from schemes.models import ActionSheet, Envelope, Scheme
from tests import factories as f

from .test_bulk import _client

pytestmark = pytest.mark.django_db

YEARS = (2025, 2026, 2027)


@pytest.fixture
def setting():
    porteur = f.porteur()
    case = builders.case_build(porteur=porteur, title="Maison de santé", state="draft")
    leader = Scheme.objects.get(code="LEADER")
    sheets = [
        ActionSheet.objects.create(
            scheme=leader, territory_id=case.territory_id, code=f"FA{i}", title=f"Fiche {i}"
        )
        for i in (1, 2)
    ]
    return {"porteur": porteur, "case": case, "sheets": sheets, "leader": leader}


request_rows = st.lists(
    st.tuples(
        st.sampled_from(["DETR", "LEADER"]),
        st.sampled_from(list(RequestState.values)),
        st.integers(min_value=1, max_value=500_000),
        st.one_of(st.none(), st.integers(min_value=1, max_value=500_000)),
        st.one_of(st.none(), st.sampled_from(YEARS)),  # decided in
        st.one_of(st.none(), st.sampled_from(YEARS)),  # implicit decision expected in
        st.sampled_from([None, 0, 1]),  # action sheet
        st.lists(st.integers(min_value=1, max_value=100_000), max_size=2),  # payments
    ),
    max_size=8,
)


def expected(rows, case, sheets) -> dict:
    """The figures recomputed in Python: (scheme code, year, sheet id) → figures."""
    out = defaultdict(lambda: defaultdict(Decimal))
    for fr, payments in rows:
        year = (
            fr.granted_on.year
            if fr.granted_on
            else fr.implicit_decision_on.year
            if fr.implicit_decision_on
            else case.receipt_date.year
            if case.receipt_date
            else fr.created_at.year
        )
        sums = out[(fr.scheme.code, year, fr.action_sheet_id)]
        granted = fr.amount_granted if fr.amount_granted is not None else fr.amount_requested
        if fr.state in PIPELINE:
            sums["requested"] += fr.amount_requested
        if fr.state in GRANTED_STATES:
            sums["programmed"] += granted
        if fr.state == RequestState.SELECTED:
            sums["programmed"] += fr.amount_requested
        if fr.state in COMMITTED_STATES:
            sums["committed"] += granted
        sums["paid"] += sum(payments, Decimal(0))
        # the same rule for one request, as the scenarios use it (cases.scenarios)
        requested, programmed = request_contribution(
            fr.state, fr.amount_requested, fr.amount_granted
        )
        sums["rule_requested"] += requested
        sums["rule_programmed"] += programmed
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=request_rows)
def test_envelope_figures_are_the_sums_of_the_requests(setting, rows):
    case, sheets = setting["case"], setting["sheets"]
    Payment.objects.filter(claim__funding_request__case__organisation=case.organisation).delete()
    PaymentClaim.objects.filter(funding_request__case__organisation=case.organisation).delete()
    FundingRequest.objects.filter(case__organisation=case.organisation).delete()
    Case.objects.filter(organisation=case.organisation).exclude(pk=case.pk).delete()
    Envelope.objects.all().delete()
    made = []
    for code, state, asked, granted, decided, implicit, sheet, paid in rows:
        scheme = Scheme.objects.get(code=code)
        own = Case.objects.get(pk=case.pk)
        own.pk = own.id = None
        own.reference = None
        own.save()  # a dossier per request (one request per scheme and dossier)
        fr = FundingRequest.objects.create(
            case=own,
            scheme=scheme,
            state=state,
            amount_requested=Decimal(asked),
            amount_granted=None if granted is None else Decimal(granted),
            granted_on=None if decided is None else dt.date(decided, 6, 1),
            implicit_decision_on=None if implicit is None else dt.date(implicit, 3, 1),
            action_sheet=None if sheet is None or code != "LEADER" else sheets[sheet],
        )
        payments = []
        for amount in paid:
            claim = PaymentClaim.objects.create(
                funding_request=fr, kind="installment", amount=Decimal(amount), state="paid"
            )
            Payment.objects.create(
                claim=claim,
                scheme=scheme,
                amount=Decimal(amount),
                paid_on=dt.date(2027, 1, 5),
                delay_days=30,
            )
            payments.append(Decimal(amount))
        # as the payment's effect keeps it (cases.lifecycle.payment_claim.pay_effect)
        FundingRequest.objects.filter(pk=fr.pk).update(amount_paid=sum(payments, Decimal(0)))
        made.append((fr, payments))
    envelopes = []
    for year in YEARS:
        for code in ("DETR", "LEADER"):
            envelopes.append(
                Envelope.objects.create(
                    scheme=Scheme.objects.get(code=code),
                    territory_id=case.territory_id,
                    year=year,
                    amount=Decimal("1000000"),
                )
            )
        for sheet in sheets:
            envelopes.append(
                Envelope.objects.create(
                    scheme=setting["leader"],
                    territory_id=case.territory_id,
                    year=year,
                    action_sheet=sheet,
                    amount=Decimal("200000"),
                )
            )
    want = expected(made, case, sheets)
    for figures in envelope_figures(envelopes):
        e = figures.envelope
        if e.action_sheet_id:
            keys = [(e.scheme.code, e.year, e.action_sheet_id)]
        else:
            keys = [k for k in want if k[0] == e.scheme.code and k[1] == e.year]
        for name in ("requested", "programmed", "committed", "paid"):
            total = sum((want[k][name] for k in keys), Decimal(0))
            assert getattr(figures, name) == total, (e, name)
        assert figures.remaining == e.amount - figures.programmed
        for name in ("requested", "programmed"):
            total = sum((want[k][f"rule_{name}"] for k in keys), Decimal(0))
            assert getattr(figures, name) == total, (e, f"rule_{name}")


def test_the_api_shows_the_envelopes_to_staff_and_funders(setting):
    case = setting["case"]
    detr = Scheme.objects.get(code="DETR")
    envelope = Envelope.objects.create(
        scheme=detr, territory_id=case.territory_id, year=2026, amount=Decimal("500000")
    )
    Envelope.objects.create(
        scheme=setting["leader"], territory_id=case.territory_id, year=2026, amount=Decimal("9")
    )
    FundingRequest.objects.create(
        case=case,
        scheme=detr,
        state=RequestState.GRANTED,
        amount_requested=Decimal("40000"),
        amount_granted=Decimal("30000"),
        granted_on=dt.date(2026, 4, 15),
    )
    agent = f.agent()
    data = _client(agent).get("/api/v1/envelopes/?year=2026&scheme=DETR").json()
    assert data == [
        {
            "id": envelope.pk,
            "scheme": "DETR",
            "year": 2026,
            "territory": envelope.territory.slug,
            "action_sheet": None,
            "amount": "500000.00",
            "requested": "0.00",
            "programmed": "30000.00",
            "committed": "0.00",
            "paid": "0.00",
            "remaining": "470000.00",
        }
    ]
    etat = f.funder_instructor("ETAT")
    assert {e["scheme"] for e in _client(etat).get("/api/v1/envelopes/").json()} == {"DETR"}
    assert _client(setting["porteur"]).get("/api/v1/envelopes/").status_code == 403
    assert _client(agent).get("/api/v1/envelopes/?year=20x6").status_code == 400
    assert _client(agent).get("/api/v1/envelopes/?year=1999").json() == []
