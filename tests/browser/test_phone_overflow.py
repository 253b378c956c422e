"""Every page each role reaches, at 390 px (issue 12 point 8): the page is never wider than
the phone, and the lists of dossiers read as cards (every column on screen, « Échéance » of
« Mes dossiers » and « Qui agit » of a dossier's deadlines included). The pages are found by
following the links of each role's pages, as a user would (one page per kind of address)."""

import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases import builders
from tests import factories as f

from .conftest import PHONE, _watch_csp, fits, login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SKIP = re.compile(
    r"^/(deconnexion|admin|api|static|media)/|\.(pdf|csv|xlsx|ods|json|zip|xml)$"
    r"|/(export|exports|telecharger|pdf|recepisse|accuse|proces-verbal)\b"
)
PER_ROLE = 25  # pages visited per role at most


def kind(path: str) -> str:
    """One page per kind of address: /dossiers/12/ and /dossiers/13/ are the same page."""
    return re.sub(r"/\d+", "/N", path)


def crawl(page, start: list[str]) -> list[str]:
    """Visit the pages reachable from ``start`` by links, checking each fits the phone."""
    queue, seen, visited = list(start), set(), []
    while queue and len(visited) < PER_ROLE:
        path = queue.pop(0)
        if kind(path) in seen:
            continue
        seen.add(kind(path))
        response = page.goto(path)
        if response is None or "html" not in response.headers.get("content-type", ""):
            continue
        assert response.status < 500, f"{path}: {response.status}"
        fits(page, PHONE)
        visited.append(path)
        for href in page.eval_on_selector_all("a[href]", "l => l.map(a => a.href)"):
            url = urlsplit(href)
            target = url.path + (f"?{url.query}" if "page=" in url.query else "")
            if url.netloc == urlsplit(page.url).netloc and not SKIP.search(url.path):
                queue.append(target)
    return visited


def test_every_page_of_every_role_fits_a_phone(browser, live_server):
    agent = f.agent(first_name="Claire", last_name="Martin")
    porteur = f.porteur(first_name="Jeanne", last_name="Maire")
    etat = f.funder_instructor("ETAT", first_name="Paul", last_name="Préfet")
    region = f.funder_instructor("REGION_OCC", first_name="Rose", last_name="Région")
    member = f.committee_member(first_name="Anne", last_name="Élue")
    plan = builders.plan(200000, ("DETR", 80000), ("REGION_OCC", 40000))
    long_title = "Réhabilitation énergétique et mise en accessibilité de l'école maternelle"
    builders.dossier(porteur=porteur, stage="submitted", plan=plan, title=long_title)
    busy = builders.dossier(porteur=porteur, stage="instruction", plan=plan, agent=agent)
    detr = busy.funding_requests.get(scheme__code="DETR")
    builders.request_commit_on(
        builders.request_grant_on(detr, instructor=etat, amount="75000"),
        instructor=etat,
        committed=timezone.localdate(),
    )
    builders.dossier(porteur=porteur, stage="draft", plan=plan, title="Brouillon de projet")

    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": PHONE, "height": 800}
    )
    page = context.new_page()
    _watch_csp(page)
    page.set_default_timeout(15000)
    visited = {}
    for user in (porteur, agent, etat, region, member, None):
        context.clear_cookies()
        if user is not None:
            login(page, user, f.PASSWORD)
        start = [urlsplit(page.url).path] if user else ["/transparence/", "/connexion/"]
        visited[user.username if user else "public"] = crawl(page, start)

        if user is porteur:  # the deadline column of « Mes dossiers », on screen
            page.goto("/mes-dossiers/")
            deadline = page.locator("table.stack td[data-label='Échéance']").first
            expect(deadline).to_be_in_viewport()
            assert deadline.bounding_box()["x"] + deadline.bounding_box()["width"] <= PHONE
        if user is agent:  # « Qui agit » of the dossier's deadlines, on screen
            page.goto(f"/dossiers/{busy.pk}/#h-echeances")
            who = page.locator("td[data-label='Qui agit']").first
            who.scroll_into_view_if_needed()
            expect(who).to_be_in_viewport()
            fits(page, PHONE)
    context.close()

    # every role reached its own pages, the dossiers included
    assert any(
        p.startswith("/mes-dossiers/") and p != "/mes-dossiers/" for p in visited[porteur.username]
    )
    assert any(p.startswith("/dossiers/") for p in visited[agent.username]), visited
    assert any(p.startswith("/financeurs/") for p in visited[etat.username]), visited
    assert "/transparence/" in visited["public"]
