"""« Revue des projets » (issue 14, point 7): each owner's projects by expected year, from
the idea to the works, for the territory's staff; an EPCI partner reads its EPCI."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import builders
from cases.models import Case, User
from cases.pipeline import pipeline, review_years
from tests import factories as f

pytestmark = pytest.mark.django_db


def flat(response) -> str:
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


@pytest.fixture
def projects():
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    etat = f.funder_instructor("ETAT")
    year = timezone.localdate().year
    idea = builders.case_build(porteur=porteur, title="Idée de halle", state="idea")
    planned = builders.case_build(porteur=porteur, title="Voirie 2028", state="draft")
    Case.objects.filter(pk=planned.pk).update(planned_works_start=dt.date(year + 2, 3, 1))
    funded = builders.dossier(
        porteur=porteur,
        stage="granted",
        agent=agent,
        instructor=etat,
        title="École",
        receipt="2026-03-02",
        complete="2026-03-10",
        granted=f"{year}-04-15",
        amount="40000.00",
    )
    return {"porteur": porteur, "agent": agent, "idea": idea, "planned": planned, "funded": funded}


def test_projects_by_expected_year_and_stage(client, projects):
    year = timezone.localdate().year
    client.force_login(projects["agent"])
    response = client.get("/revue-des-projets/")
    assert response.status_code == 200
    text = flat(response)
    name = projects["porteur"].organisation.name
    assert name in text and f"Projets de {name} par année prévue" in text
    groups = pipeline(Case.objects.all(), years=review_years(timezone.localdate()))
    group = next(g for g in groups if g.name == name)
    by_id = {p.case_id: (y, p.stage) for y, ps in group.columns for p in ps}
    assert by_id[projects["idea"].pk] == (year, "idee")
    assert by_id[projects["planned"].pk] == (year + 2, "preparation")
    assert by_id[projects["funded"].pk] == (year, "decide")
    assert "Idée de halle" in text and "Voirie 2028" in text and "Financé" in text


def test_rights_and_a_bad_epci(client, projects):
    client.force_login(projects["porteur"])
    assert client.get("/revue-des-projets/").status_code == 404
    client.force_login(f.funder_instructor("ETAT"))
    assert client.get("/revue-des-projets/").status_code == 404
    client.force_login(projects["agent"])
    bad = client.get("/revue-des-projets/?epci=999999999")
    assert bad.status_code == 400 and "EPCI inconnu" in flat(bad)
    from schemes.models import EPCI

    other = EPCI.objects.exclude(pk=projects["porteur"].organisation.epci_id).first()
    partner = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=other)
    client.force_login(partner)
    assert "Idée de halle" not in flat(client.get("/revue-des-projets/"))


def test_the_review_reads_a_bounded_number_of_queries(client, projects):
    client.force_login(projects["agent"])
    client.get("/revue-des-projets/")  # warm: the session and the page's caches
    with CaptureQueriesContext(connection) as few:
        client.get("/revue-des-projets/")
    for i in range(5):
        builders.case_build(porteur=projects["porteur"], title=f"Idée {i}", state="idea")
    with CaptureQueriesContext(connection) as more:
        client.get("/revue-des-projets/")
    assert len(more) == len(few)
