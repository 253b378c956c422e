"""Calls for projects (issue 14 point 5): the public list and its filter, who may publish
one and the validation of its fields, and the window rule — a dossier naming a call is
refused before its opening and after its closing, in French, and deposited inside it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases import builders
from cases.calls import call_ranking
from cases.models import Case, CaseState, FundingRequest, RequestState
from schemes.models import Call, Scheme, Territory
from tests import factories as f

from .helpers import V1, act, check, get, patch, post
from .test_bulk import _client

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


def make_call(title="Équipements sportifs", opens=-10, closes=10, **kw) -> Call:
    return Call.objects.create(
        scheme=Scheme.objects.get(code=kw.pop("scheme", "DETR")),
        territory_id=kw.pop("territory_id", None) or Territory.sole_id(),
        title=title,
        description="Critères : accessibilité, sobriété énergétique.",
        opens_on=TODAY + opens * DAY,
        closes_on=TODAY + closes * DAY,
        envelope=kw.pop("envelope", Decimal("250000.00")),
        **kw,
    )


@pytest.fixture
def calls():
    return {
        "open": make_call("Ouvert"),
        "coming": make_call("À venir", opens=5, closes=40),
        "closed": make_call("Clos", opens=-40, closes=-5),
        "hidden": make_call("Brouillon", active=False),
    }


# ---------------------------------------------------------------- the public list


def test_public_list_anonymous_and_filters(calls):
    anonymous = APIClient()
    rows = get(anonymous, "/calls/")
    titles = [r["title"] for r in rows]
    assert set(titles) == {"Ouvert", "À venir", "Clos"}  # never the unpublished one
    row = next(r for r in rows if r["title"] == "Ouvert")
    assert row == {
        "id": calls["open"].pk,
        "scheme": "DETR",
        "title": "Ouvert",
        "description": "Critères : accessibilité, sobriété énergétique.",
        "opens_on": (TODAY - 10 * DAY).isoformat(),
        "closes_on": (TODAY + 10 * DAY).isoformat(),
        "envelope": "250000.00",
        "selection": "ranking",
    }
    assert [r["title"] for r in get(anonymous, "/calls/", state="open")] == ["Ouvert"]
    assert [r["title"] for r in get(anonymous, "/calls/", state="coming")] == ["À venir"]
    body = get(anonymous, "/calls/", 400, state="closed; drop table")
    assert "open" in body["detail"]
    get(anonymous, "/calls/", 400, state="x" * 5000)


def test_index_lists_calls():
    body = get(APIClient(), "/")
    assert "calls" in str(body)


# ---------------------------------------------------------------- publishing a call


def _body(**kw):
    return {
        "scheme": "DETR",
        "title": "Rénovation énergétique des écoles",
        "description": "Gain énergétique d'au moins 30 %.",
        "opens_on": TODAY.isoformat(),
        "closes_on": (TODAY + 30 * DAY).isoformat(),
        "envelope": "500000.00",
        "selection": "ranking",
        **kw,
    }


def test_agent_creates_a_call_others_may_not():
    agent = _client(f.agent())
    body = post(agent, "/calls/", _body(), 201)
    call = Call.objects.get(pk=body["id"])
    assert call.envelope == Decimal("500000.00") and call.active
    assert body["closes_on"] == (TODAY + 30 * DAY).isoformat()
    assert get(APIClient(), "/calls/", state="open")[0]["id"] == call.pk

    for user in (f.porteur(), f.funder_instructor("ETAT")):
        body = post(_client(user), "/calls/", _body(), 403)
        assert "agents" in body["detail"]
    check(APIClient().post(f"{V1}/calls/", _body(), format="json"), 401)
    assert Call.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"closes_on": (TODAY - DAY).isoformat()}, "closes_on", "précéder"),
        ({"opens_on": "2026-02-30"}, "opens_on", "format"),
        ({"opens_on": "9999-01-01", "closes_on": "9999-02-01"}, "opens_on", "invraisemblable"),
        ({"closes_on": None}, "closes_on", "Indiquez"),
        ({"title": "x" * 100_000}, "title", "caractères au plus"),
        ({"title": "  "}, "title", "Indiquez"),
        ({"description": "y" * 20_001}, "description", "caractères au plus"),
        ({"envelope": "-5"}, "envelope", "positif"),
        ({"envelope": "1e400"}, "envelope", "invraisemblable"),
        ({"envelope": "9" * 5000}, "envelope", "invraisemblable"),
        ({"selection": "lottery"}, "selection", "rolling"),
        ({"scheme": "NOPE"}, "scheme", "Dispositif inconnu"),
        ({"scheme": ["DETR"]}, "scheme", "Dispositif inconnu"),
    ],
)
def test_create_validation_in_french(changes, field, words):
    body = post(_client(f.agent()), "/calls/", _body(**changes), 400)
    assert words in body["detail"], body
    assert field in body["errors"]
    assert not Call.objects.exists()


def test_database_refuses_a_window_upside_down():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        make_call(opens=5, closes=1)


# ---------------------------------------------------------------- a dossier naming a call


def _draft(porteur, call) -> Case:
    case = builders.case_build(
        porteur=porteur, title="Gymnase", state="draft", plan=builders.DETR_PLAN, call=call.pk
    )
    return builders.case_documents_add(actor=porteur, case=case)


def test_submit_inside_the_window(calls):
    porteur = f.porteur()
    case = _draft(porteur, calls["open"])
    client = _client(porteur)
    assert get(client, f"/cases/{case.pk}/")["call"] == calls["open"].pk
    body = act(client, case.pk, "submit", date=TODAY.isoformat())
    assert body["state"] == CaseState.SUBMITTED


def test_submit_before_opening_refused(calls):
    porteur = f.porteur()
    case = _draft(porteur, calls["coming"])  # a coming call may be named while preparing
    body = act(_client(porteur), case.pk, "submit", 400, date=TODAY.isoformat())
    assert "n'ouvre que le" in body["detail"] and body["errors"]["call"]
    case.refresh_from_db()
    assert case.state == CaseState.DRAFT


def test_submit_after_closing_refused_even_backdated(calls):
    porteur = f.porteur()
    call = calls["open"]
    case = _draft(porteur, call)
    Call.objects.filter(pk=call.pk).update(opens_on=TODAY - 20 * DAY, closes_on=TODAY - 2 * DAY)
    client = _client(porteur)
    body = act(client, case.pk, "submit", 400, date=TODAY.isoformat())
    assert "est clos depuis" in body["detail"] and body["errors"]["call"]
    # a receipt date typed inside the window does not reopen it
    body = act(client, case.pk, "submit", 400, date=(TODAY - 5 * DAY).isoformat())
    assert "est clos depuis" in body["detail"]
    # every reason at once: the missing pieces too
    case.documents.all().delete()
    body = act(client, case.pk, "submit", 400, date=TODAY.isoformat())
    assert body["errors"]["call"] and body["errors"]["documents"]
    # without the call, the dossier goes through
    patch(client, f"/cases/{case.pk}/", {"call": None})
    builders.case_documents_add(actor=porteur, case=case)
    assert act(client, case.pk, "submit", date=TODAY.isoformat())["state"] == "submitted"


def test_naming_an_unknown_closed_or_hidden_call_refused(calls):
    porteur = f.porteur()
    client = _client(porteur)
    base = {"title": "Piscine", "state": "draft"}
    for call_id, words in (
        (calls["closed"].pk, "est clos depuis"),
        (calls["hidden"].pk, "inconnu"),
        (999_999, "inconnu"),
    ):
        body = post(client, "/cases/", {**base, "call": call_id}, 400)
        assert words in body["detail"] and "call" in body["errors"]
    body = post(client, "/cases/", {**base, "call": "un"}, 400)
    assert "call" in body["errors"]
    assert not Case.objects.filter(title="Piscine").exists()
    case_id = post(client, "/cases/", {**base, "call": calls["open"].pk}, 201)["id"]
    body = patch(client, f"/cases/{case_id}/", {"call": calls["closed"].pk}, 400)
    assert "est clos depuis" in body["detail"]
    assert Case.objects.get(pk=case_id).call_id == calls["open"].pk
    assert patch(client, f"/cases/{case_id}/", {"call": calls["coming"].pk})["call"] == (
        calls["coming"].pk
    )


def test_call_of_another_territory_refused(calls):
    other = Territory.objects.create(name="Autre PETR", slug="autre", siren="200000001")
    foreign = make_call("Ailleurs", territory_id=other.pk)
    body = post(
        _client(f.porteur()), "/cases/", {"title": "T", "state": "draft", "call": foreign.pk}, 400
    )
    assert "inconnu" in body["detail"]


# ---------------------------------------------------------------- the ranked agenda


def test_call_ranking_orders_by_pre_score(calls):
    call = make_call("LEADER", scheme="LEADER")
    porteur = f.porteur()
    scores = [Decimal("12.00"), None, Decimal("17.50"), Decimal("3.00")]
    ids = []
    for i, score in enumerate(scores):
        case = builders.case_build(porteur=porteur, title=f"Projet {i}", call=call.pk)
        fr = FundingRequest.objects.create(
            case=case,
            scheme=call.scheme,
            amount_requested=Decimal("10000.00"),
            state=RequestState.AWAITING_COMMITTEE,
            pre_score=score,
        )
        ids.append(fr.pk)
    other = builders.case_build(porteur=porteur, title="Hors appel")
    FundingRequest.objects.create(
        case=other,
        scheme=call.scheme,
        amount_requested=Decimal("1.00"),
        state=RequestState.AWAITING_COMMITTEE,
        pre_score=Decimal("99"),
    )
    ranked = [fr.pk for fr in call_ranking(call)]
    assert ranked == [ids[2], ids[0], ids[3], ids[1]]


def test_call_no_longer_changes_once_deposited(calls):
    porteur = f.porteur()
    case = _draft(porteur, calls["open"])
    client = _client(porteur)
    act(client, case.pk, "submit", date=TODAY.isoformat())
    Case.objects.filter(pk=case.pk).update(state=CaseState.INCOMPLETE)  # editable again
    body = patch(client, f"/cases/{case.pk}/", {"call": None}, 400)
    assert "ne peut plus changer" in body["detail"]
    assert patch(client, f"/cases/{case.pk}/", {"call": calls["open"].pk})["call"] == (
        calls["open"].pk
    )


def test_call_agenda_api_for_staff_and_committee_only(calls):
    call = make_call("LEADER agenda", scheme="LEADER")
    porteur = f.porteur()
    frs = []
    for i, score in enumerate([Decimal("8.00"), Decimal("15.00"), None]):
        case = builders.case_build(porteur=porteur, title=f"Agenda {i}", call=call.pk)
        frs.append(
            FundingRequest.objects.create(
                case=case,
                scheme=call.scheme,
                amount_requested=Decimal("20000.00"),
                state=RequestState.AWAITING_COMMITTEE,
                pre_score=score,
            )
        )
    for reader in (f.agent(), f.committee_member()):
        rows = get(_client(reader), f"/calls/{call.pk}/agenda/")
        assert [(r["rank"], r["funding_request"]) for r in rows] == [
            (1, frs[1].pk),
            (2, frs[0].pk),
            (3, frs[2].pk),
        ]
        assert rows[0]["pre_score"] == "15.00" and rows[2]["pre_score"] is None
        assert rows[0]["title"] == "Agenda 1" and rows[0]["amount_requested"] == "20000.00"
    body = get(_client(porteur), f"/calls/{call.pk}/agenda/", 403)
    assert "réservé" in body["detail"]
    get(_client(f.funder_instructor("ETAT")), f"/calls/{call.pk}/agenda/", 403)
    check(APIClient().get(f"{V1}/calls/{call.pk}/agenda/"), 401)
    get(_client(f.agent()), "/calls/999999/agenda/", 404)
    other = Territory.objects.create(name="Autre PETR", slug="autre", siren="200000001")
    foreign = make_call("Ailleurs", territory_id=other.pk)
    get(_client(f.agent()), f"/calls/{foreign.pk}/agenda/", 404)
