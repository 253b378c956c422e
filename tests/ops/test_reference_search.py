"""A reference-shaped search (issue 16): ``q=GU-2024`` lists the dossiers of that reference
range — the rows the contains-search found — newest reference first, an order an index
gives on PostgreSQL, stated in the API's ``ordering`` and on the agent's page; pages and
cursors walk it; other searches keep the date order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from cases import paging, services
from cases.models import Case
from cases.search import case_text_filter, reference_prefixes
from schemes.models import Territory
from tests import factories

pytestmark = pytest.mark.django_db

# (reference, title): created in this order, one minute apart
ROWS = [
    ("GU-2023-00001", "Halle des sports"),
    ("GU-2024-00002", "École maternelle"),
    ("GU-2024-00010", "Voirie du bourg"),
    ("GU-2025-00003", "Suite du dossier GU-2024-00002"),  # its title holds the query
    ("GU-2024-00004", "Halle couverte"),
    ("GU-2026-00005", "Halle au grain"),
    ("GU-2024-00100", "Médiathèque"),
    ("GU-ALB-2024-00006", "Salle des fêtes"),
]


@pytest.fixture
def world():
    porteur = factories.porteur()
    base = timezone.now() - dt.timedelta(days=1)
    cases = {}
    for i, (reference, title) in enumerate(ROWS):
        case = services.case_create(actor=porteur, data={"title": title, "state": "draft"})
        Case.objects.filter(pk=case.pk).update(
            reference=reference, created_at=base + dt.timedelta(minutes=i)
        )
        cases[reference] = case.pk
    return porteur, cases


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def refs(body) -> list[str]:
    return [c["reference"] for c in body["results"]]


def test_which_queries_are_reference_shaped():
    Territory.objects.filter(pk=Territory.objects.order_by("pk").first().pk).update(
        reference_prefix="ALB"
    )
    assert reference_prefixes("GU-2024") == ["GU-2024"]
    assert reference_prefixes(" gu-alb-2026-00042 ") == ["GU-ALB-2026-00042"]
    assert reference_prefixes("GU-ALB") == ["GU-ALB"]
    assert reference_prefixes("ALB-2026-0004") == ["GU-ALB-2026-0004"]
    assert reference_prefixes("2024-0001") == ["GU-2024-0001", "GU-ALB-2024-0001"]
    for q in ("2024", "00042", "halle", "GU 2024", "GU-2024%", "GU-2024_", "école", ""):
        assert reference_prefixes(q) == [], q


def test_a_reference_prefix_lists_its_range_newest_reference_first(world):
    porteur, cases = world
    body = api(porteur).get("/api/v1/cases/?q=GU-2024&page_size=50").json()
    assert body["ordering"] == "-reference"
    # the references of the range and the dossier whose title holds the query
    assert refs(body) == [
        "GU-2025-00003",
        "GU-2024-00100",
        "GU-2024-00010",
        "GU-2024-00004",
        "GU-2024-00002",
    ]
    assert body["count"] == 5 and not body["count_capped"]
    # the same rows as the contains-search, whatever the database
    contains = Case.objects.filter(case_text_filter("GU-2024")).values_list("reference", flat=True)
    assert sorted(contains) == sorted(refs(body))
    lower = api(porteur).get("/api/v1/cases/?q=gu-2024-0000&page_size=50").json()
    assert refs(lower) == ["GU-2025-00003", "GU-2024-00004", "GU-2024-00002"]
    one = api(porteur).get("/api/v1/cases/?q=GU-ALB-2024-00006").json()
    assert refs(one) == ["GU-ALB-2024-00006"]
    assert refs(api(porteur).get("/api/v1/cases/?q=ALB-2024").json()) == ["GU-ALB-2024-00006"]
    year_first = api(porteur).get("/api/v1/cases/?q=2024-0010").json()
    assert refs(year_first) == ["GU-2024-00100"]


def test_numbered_pages_and_the_cursor_walk_the_reference_order(world):
    porteur, _ = world
    client = api(porteur)
    whole = refs(client.get("/api/v1/cases/?q=GU-2024&page_size=50").json())
    numbered, url = [], "/api/v1/cases/?q=GU-2024&page_size=2"
    while url:
        body = client.get(url).json()
        numbered += refs(body)
        url = body["next"]
    assert numbered == whole
    seen, url = [], "/api/v1/cases/?q=GU-2024&page_size=2&after="
    while url:
        body = client.get(url).json()
        assert body["ordering"] == "-reference" and body["count"] == 5
        seen += refs(body)
        url = body["next"]
        assert url is None or ("after=" in url and "q=GU-2024" in url)
    assert seen == whole


def test_a_cursor_of_the_other_order_is_a_400(world):
    porteur, cases = world
    client = api(porteur)
    by_date = paging.cursor_of(timezone.now(), cases["GU-2024-00002"])
    response = client.get(f"/api/v1/cases/?q=GU-2024&after={by_date}")
    assert response.status_code == 400 and "after" in response.json()["errors"]
    by_reference = paging.reference_cursor("GU-2024-00010")
    assert client.get(f"/api/v1/cases/?after={by_reference}").status_code == 400
    body = client.get(f"/api/v1/cases/?q=GU-2024&after={by_reference}").json()
    assert refs(body) == ["GU-2024-00004", "GU-2024-00002"]
    bad = paging.reference_cursor("GU-2024' OR 1=1")
    assert client.get(f"/api/v1/cases/?q=GU-2024&after={bad}").status_code == 400


def test_other_searches_keep_the_date_order(world):
    porteur, _ = world
    for q in ("halle", "2024", "00010"):
        body = api(porteur).get(f"/api/v1/cases/?q={q}&page_size=50").json()
        assert body["ordering"] == "-created_at", q
        expected = (
            Case.objects.filter(case_text_filter(q))
            .order_by("-created_at", "-id")
            .values_list("reference", flat=True)
        )
        assert refs(body) == list(expected), q
    assert refs(api(porteur).get("/api/v1/cases/?q=halle").json()) == [
        "GU-2026-00005",
        "GU-2024-00004",
        "GU-2023-00001",
    ]
    assert api(porteur).get("/api/v1/cases/").json()["ordering"] == "-created_at"


def test_the_agents_page_says_the_order(client, world):
    _, cases = world
    client.force_login(factories.agent())
    html = client.get("/agent/", {"q": "GU-2024"}).content.decode()
    assert "triés par référence" in html
    shown = [ref for ref, _ in ROWS if ref in html]
    assert sorted(shown) == sorted(
        ["GU-2024-00002", "GU-2024-00010", "GU-2025-00003", "GU-2024-00004", "GU-2024-00100"]
    )
    assert html.index("GU-2024-00100") < html.index("GU-2024-00010") < html.index("GU-2024-00004")
    assert "triés par référence" not in client.get("/agent/", {"q": "halle"}).content.decode()


@pytest.mark.postgres
def test_the_page_of_a_reference_prefix_is_read_from_the_index_in_order(world):
    """EXPLAIN of the API list's page: the range is the index condition of
    ``case_reference_c_idx``, which gives the order (no sort). Scans of the whole table,
    bitmaps and sorts are turned off for the statement (a handful of rows would use none
    of the indexes): what remains is an index giving the order, if there is one."""
    from cases import selectors
    from cases.filters import CaseFilter

    Case.objects.filter(title__icontains="GU-2024").update(title="Suite")  # no title match
    agent = factories.agent()
    qs = CaseFilter({"q": "GU-2024"}, queryset=selectors.case_list(user=agent)).qs
    assert qs.count() == 4
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")
    plan = qs[:21].explain()
    assert "case_reference_c_idx" in plan, plan
    assert "Index Cond" in plan and "'GU-2024'" in plan and "'GU-2025'" in plan, plan
    assert "Sort" not in plan, plan
