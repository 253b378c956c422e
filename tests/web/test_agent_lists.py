"""The agent's lists stay usable and cheap on a large territory: task lists by pages, the
theme filter from a cached list that never hides a newer theme, the text search through
the organisation's name."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from cases.models import Case, Theme
from cases.search import case_text_filter
from tests import factories as f
from tests.web.test_agent import make_case, org, page

pytestmark = pytest.mark.django_db


def test_task_lists_are_paged(client, monkeypatch):
    monkeypatch.setattr("web.agent.TASKS_PAGE_SIZE", 2)
    owner = org(0)
    porteur = f.porteur(owner)
    titles = [f"Idée numéro {i}" for i in range(3)]
    for title in titles:
        make_case(porteur, state="idea", title=title)  # no agent yet: in the EPCI's queue
    agent = f.agent(epci=owner.epci)

    def queue(html):
        return html[html.index('id="h-file"') : html.index('id="h-dossiers"')]

    _, html = page(client, agent, "/agent/")
    first = queue(html)
    assert "Tâches non attribuées que vous pouvez prendre (3), page 1 sur 2" in first
    assert sum(t in first for t in titles) == 2
    assert "file=2" in first and "Tâches suivantes" in first
    second = queue(client.get("/agent/?file=2").content.decode())
    assert sum(t in second for t in titles) == 1 and "page 2 sur 2" in second
    assert "Tâches précédentes" in second
    # a page number out of range or not a number shows a page, never an error
    for bad in ("99", "abc", "-1"):
        response = client.get(f"/agent/?file={bad}&taches={bad}")
        assert response.status_code == 200


def test_theme_filter_accepts_a_theme_newer_than_the_cached_list(client):
    cache.clear()
    agent = f.agent()
    a = org(0)
    old = make_case(f.porteur(a), title="Voirie du bourg", theme="Mobilité")
    client.force_login(agent)
    html = client.get("/agent/").content.decode()
    assert '<option value="Mobilité">Mobilité</option>' in html  # the list is now cached
    Theme.objects.create(label="Jeunesse")  # added to the controlled list meanwhile
    new = make_case(f.porteur(a), title="Maison des jeunes", theme="Jeunesse")
    html = client.get("/agent/?theme=Jeunesse").content.decode()
    listed = html[html.index('id="h-dossiers"') :]
    assert new.title in listed and old.title not in listed
    assert '<option value="Jeunesse" selected>Jeunesse</option>' in html
    # too long a theme: the form's French message, nothing listed wrongly, no 500
    response = client.get("/agent/?theme=" + "x" * 500)
    assert response.status_code == 200
    assert "Assurez-vous que cette valeur comporte au plus 120 caractères" in (
        response.content.decode()
    )


def test_text_search_by_title_reference_or_organisation():
    owner = org(0, name="Association Les Amis du Viaduc")
    other = org(1, name="Commune de Saint-Pierre")
    by_org = make_case(f.porteur(owner), title="Festival d'été")
    by_title = make_case(f.porteur(other), title="Restauration du viaduc")
    neither = make_case(f.porteur(other), title="Salle des fêtes")

    def found(q):
        return set(Case.objects.filter(case_text_filter(q)).values_list("pk", flat=True))

    assert found("viaduc") == {by_org.pk, by_title.pk}
    assert found("AMIS DU") == {by_org.pk}
    assert found(neither.reference) == {neither.pk}
    assert found("introuvable") == set()


def test_text_search_with_more_organisations_than_the_id_list(monkeypatch):
    monkeypatch.setattr("cases.search.MAX_ORGANISATION_IDS", 1)
    first = org(0, name="Comité des fêtes A")
    second = org(1, name="Comité des fêtes B")
    cases = {make_case(f.porteur(o), title="Bal").pk for o in (first, second)}
    found = set(Case.objects.filter(case_text_filter("comité des")).values_list("pk", flat=True))
    assert found == cases
