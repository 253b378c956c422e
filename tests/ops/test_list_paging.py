"""Long lists in bounded time (issue 16): counts stop at a cap and say so, pages past the
cap still work, the dossier list's keyset (``after=``) walks every dossier once in the
order of the numbered pages, whatever the ties on ``created_at``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.paginator import EmptyPage
from django.utils import timezone
from rest_framework.test import APIClient

from cases import paging, services
from cases.models import Case
from tests import factories

pytestmark = pytest.mark.django_db

PLAN = {
    "expenses": [{"label": "Travaux", "amount": "100000.00"}],
    "resources": [
        {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
        {"kind": "self", "amount": "60000.00"},
    ],
}


def dossiers(n: int, *, tie: bool = True) -> tuple[object, list[Case]]:
    """``n`` dossiers of one porteur; with ``tie``, the middle ones share one instant."""
    porteur = factories.porteur()
    cases = [
        services.case_create(
            actor=porteur,
            data={"title": f"Halle {i}", "state": "draft", "financing_plan": PLAN},
        )
        for i in range(n)
    ]
    base = timezone.now() - dt.timedelta(days=1)
    for i, case in enumerate(cases):
        when = base if tie and 1 <= i <= n - 2 else base + dt.timedelta(minutes=i)
        Case.objects.filter(pk=case.pk).update(created_at=when)
    return porteur, cases


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ---------------------------------------------------------------- the paginator


def test_paginator_counts_exactly_up_to_the_cap(monkeypatch):
    monkeypatch.setattr(paging.CappedPaginator, "cap", 5)
    exact = paging.CappedPaginator(list(range(5)), 2)
    assert (exact.count, exact.capped, exact.num_pages) == (5, False, 3)
    with pytest.raises(EmptyPage):
        exact.page(4)
    capped = paging.CappedPaginator(list(range(12)), 2)
    assert (capped.count, capped.capped) == (5, True)
    last = capped.page(6)  # past the cap: still served, the end found by one row more
    assert list(last.object_list) == [10, 11] and not last.has_next()
    assert capped.page(3).has_next() and capped.page(3).next_page_number() == 4
    with pytest.raises(EmptyPage):
        capped.page(7)


def test_paginator_counts_a_queryset_in_one_bounded_statement(monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(paging.CappedPaginator, "cap", 3)
    dossiers(5, tie=False)
    pages = paging.CappedPaginator(Case.objects.order_by("-created_at", "-id"), 2)
    with CaptureQueriesContext(connection) as ctx:
        assert pages.count == 3 and pages.capped
    assert len(ctx.captured_queries) == 1
    assert "LIMIT 4" in ctx.captured_queries[0]["sql"].upper()
    # any 4 rows will do: the count does not walk the list's order (no ORDER BY)
    assert "ORDER BY" not in ctx.captured_queries[0]["sql"].upper()


# ---------------------------------------------------------------- the API


def test_api_count_is_exact_below_the_cap_and_capped_beyond(monkeypatch):
    dossiers(5, tie=False)
    client = api(factories.agent())
    body = client.get("/api/v1/cases/?page_size=2").json()
    assert (body["count"], body["count_capped"]) == (5, False)
    monkeypatch.setattr(paging.CappedPaginator, "cap", 3)
    body = client.get("/api/v1/cases/?page_size=2").json()
    assert (body["count"], body["count_capped"]) == (3, True)
    assert "page=2" in body["next"] and body["previous"] is None
    third = client.get("/api/v1/cases/?page_size=2&page=3").json()  # past the cap
    assert len(third["results"]) == 1 and third["next"] is None
    assert client.get("/api/v1/cases/?page_size=2&page=4").status_code == 404


def test_keyset_walks_every_dossier_once_in_the_list_order():
    _, cases = dossiers(7)  # five share one created_at: the id settles the order
    client = api(factories.agent())
    numbered = [c["id"] for c in client.get("/api/v1/cases/?page_size=50").json()["results"]]
    assert sorted(numbered) == sorted(c.pk for c in cases)
    seen, url = [], "/api/v1/cases/?page_size=2&after="
    while url:
        body = client.get(url).json()
        assert body["previous"] is None and body["count"] == 7
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
        assert url is None or ("after=" in url and "page=" not in url)
    assert seen == numbered


def test_keyset_keeps_the_filters_and_the_scope():
    porteur, cases = dossiers(4)
    other, _ = dossiers(3)
    client = api(porteur)
    first = client.get("/api/v1/cases/?page_size=3&after=&q=halle").json()
    assert len(first["results"]) == 3 and "q=halle" in first["next"]
    rest = client.get(first["next"]).json()
    ids = [c["id"] for c in first["results"] + rest["results"]]
    assert sorted(ids) == sorted(c.pk for c in cases) and rest["next"] is None


@pytest.mark.parametrize(
    "cursor",
    ["%%%", "bm90LWEtY3Vyc29y", "MjAyNi0wMS0wMVQwMDowMDowMH4x", "²", "A" * 100],
)
def test_a_malformed_cursor_is_a_400_naming_the_parameter(cursor):
    dossiers(1)
    response = api(factories.agent()).get(f"/api/v1/cases/?after={cursor}")
    assert response.status_code == 400
    assert "after" in response.json()["errors"]


def test_funder_instructor_lists_each_dossier_once():
    porteur, cases = dossiers(3)
    body = api(factories.funder_instructor("ETAT")).get("/api/v1/cases/").json()
    assert body["count"] == 0  # plans only: no funding request yet
    case = cases[0]
    scheme = factories.scheme("DETR")
    case.funding_requests.create(scheme=scheme, amount_requested=40000)
    case.funding_requests.create(scheme=factories.scheme("DSIL"), amount_requested=1000)
    body = api(factories.funder_instructor("ETAT")).get("/api/v1/cases/").json()
    assert [c["id"] for c in body["results"]] == [case.pk] and body["count"] == 1


# ---------------------------------------------------------------- the agent's page


def test_agent_page_says_the_count_is_capped(client, monkeypatch):
    dossiers(4, tie=False)
    agent = factories.agent()
    client.force_login(agent)
    html = client.get("/agent/").content.decode()
    assert "4 dossiers." in html and "Plus de" not in html
    monkeypatch.setattr(paging.CappedPaginator, "cap", 2)
    monkeypatch.setattr("web.agent.PAGE_SIZE", 3)
    html = client.get("/agent/").content.decode()
    assert "Plus de 2 dossiers" in html and "affinez les filtres" in html
    assert "page=2" in html and "Page 1 sur" not in html
    second = client.get("/agent/?page=2").content.decode()
    assert "Page 2" in second and "page=3" not in second


@pytest.mark.parametrize("by_id", [5_000, 0])  # few overdue deadlines (by id), or many
def test_overdue_filter_lists_the_same_dossiers_either_way(monkeypatch, by_id):
    from django.contrib.contenttypes.models import ContentType

    from engine.models import Deadline

    monkeypatch.setattr("cases.filters.OVERDUE_BY_ID", by_id)
    _, cases = dossiers(4, tie=False)
    today = timezone.localdate()
    kind = ContentType.objects.get_for_model(Case)
    for case, days, state in [(cases[0], -3, "open"), (cases[1], 5, "open"), (cases[2], -3, "met")]:
        Deadline.objects.create(
            kind="works_start",
            subject_type=kind,
            subject_id=case.pk,
            aggregate_id=case.pk,
            due_on=today + dt.timedelta(days=days),
            party="porteur",
            state=state,
        )
    body = api(factories.agent()).get("/api/v1/cases/?overdue=true").json()
    assert [c["id"] for c in body["results"]] == [cases[0].pk] and body["count"] == 1
