"""Extensions (prorogations) of a grant's works deadlines on the pages (domain.md revised
rule 5, ADR 009): the porteur asks from its dossier page, the funder's instructor grants
or refuses from the dossier page or the funders' page, and the deadline shown moves on
both sides; the scheme's limit and bad input give a French message, never a 500, and the
form keeps what was typed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from cases import builders, services
from cases.models import Extension, ExtensionState
from cases.works_deadlines import extension_max_until, works_deadline
from tests import factories as f
from tests.hostile.bench import Bench
from tests.hostile.snapshots import everything

from .test_agent import actions_in, day, make_case, org

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text(html: str) -> str:
    """The page's words, tags removed and spaces joined (for the sentences it says)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


def ask(client, fr, until: dt.date | str, reason="Appel d'offres infructueux.", kind="works_start"):
    until = until.isoformat() if isinstance(until, dt.date) else until
    return client.post(
        f"/mes-dossiers/{fr.case_id}/prorogation/",
        {"target": f"{fr.pk}:{kind}", "until": until, "reason": reason},
    )


def test_porteur_asks_the_instructor_grants_and_the_deadline_moves_on_both_pages():
    bench = Bench()
    fr = bench.granted
    porteur, instructor = login(bench.porteur), login(bench.instructor)
    due = works_deadline(fr, "works_start").due_on
    until = due + dt.timedelta(days=90)
    html = page(porteur, f"/mes-dossiers/{fr.case_id}/")
    assert "Demander une prorogation" in html
    assert f'value="{fr.pk}:works_start"' in html
    # completion runs from the declared start of works (revised rule 6): not yet open
    assert f'value="{fr.pk}:works_completion"' not in html

    response = ask(porteur, fr, until)
    assert response.status_code == 302, text(response.content.decode())[:800]
    extension = Extension.objects.get(funding_request=fr)
    assert (extension.state, extension.until, extension.due_on) == ("requested", until, due)
    html = text(page(porteur, f"/mes-dossiers/{fr.case_id}/"))
    assert "Votre demande de prorogation attend la décision du financeur." in html
    assert f"demandée jusqu'au {until:%d/%m/%Y}" in html  # in the history

    # the instructor sees it on the dossier page and on the funders' page, and grants it
    case_html = page(instructor, f"/dossiers/{fr.case_id}/")
    assert actions_in(case_html)[f"extension-{extension.pk}"] == {"grant", "refuse"}
    assert f"extension-{extension.pk}" in actions_in(page(instructor, "/financeurs/"))
    response = instructor.post(
        f"/prorogations/{extension.pk}/transitions/grant/",
        {"date": bench.today.isoformat(), "motivation": "Retard justifié par le marché."},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/dossiers/{fr.case_id}/"
    extension.refresh_from_db()
    assert extension.state == ExtensionState.GRANTED
    assert works_deadline(fr, "works_start").due_on == until

    for client, url in (
        (porteur, f"/mes-dossiers/{fr.case_id}/"),
        (login(bench.agent), f"/dossiers/{fr.case_id}/"),
        (instructor, f"/dossiers/{fr.case_id}/"),
    ):
        html = text(page(client, url))
        assert f"{until:%d/%m/%Y}" in html, url  # the deadline shown moved
        assert f"{due:%d/%m/%Y}" not in html.split("Historique")[0].split("Prorogations")[0]
    porteur_html = text(page(porteur, f"/mes-dossiers/{fr.case_id}/"))
    assert "La prorogation est accordée." in porteur_html
    assert "Motivation : Retard justifié par le marché." in porteur_html
    assert "prorogation accordée" in porteur_html  # the history, in French
    agent_html = text(page(login(bench.agent), f"/dossiers/{fr.case_id}/"))
    assert "Accorder la prorogation (Prorogation (commencement des travaux) DETR)" in agent_html


def test_a_refusal_keeps_the_deadline_and_shows_its_motivation():
    bench = Bench()
    fr = bench.granted
    due = works_deadline(fr, "works_start").due_on
    porteur, instructor = login(bench.porteur), login(bench.instructor)
    assert ask(porteur, fr, due + dt.timedelta(days=30)).status_code == 302
    extension = Extension.objects.get(funding_request=fr)
    # the motivation is required: French message, the form open with what was typed
    response = instructor.post(
        f"/prorogations/{extension.pk}/transitions/refuse/",
        {"from": "funders", "date": bench.today.isoformat(), "motivation": ""},
    )
    assert response.status_code == 400
    assert "Indiquez la motivation du refus." in response.content.decode()
    response = instructor.post(
        f"/prorogations/{extension.pk}/transitions/refuse/",
        {"from": "funders", "date": bench.today.isoformat(), "motivation": "Aucun justificatif."},
    )
    assert response.status_code == 302 and response["Location"] == "/financeurs/"
    extension.refresh_from_db()
    assert extension.state == ExtensionState.REFUSED
    assert works_deadline(fr, "works_start").due_on == due
    html = text(page(porteur, f"/mes-dossiers/{fr.case_id}/"))
    assert "La prorogation est refusée." in html
    assert "Motivation : Aucun justificatif." in html
    assert "prorogation refusée" in html


def test_another_funders_instructor_is_refused_with_the_engines_message():
    agent = f.agent()
    porteur = f.porteur(org(0))
    case = make_case(porteur, schemes=("DETR", "REGION_OCC"), state="instruction", agent=agent)
    etat, region = f.funder_instructor("ETAT"), f.funder_instructor("REGION_OCC")
    builders.requests_instruction_start(case, instructor=agent)
    detr = case.funding_requests.get(scheme__code="DETR")
    builders.request_grant_on(detr, instructor=etat, amount="30000.00", granted=day(40))
    due = works_deadline(detr, "works_start").due_on
    extension = services.extension_request(
        actor=porteur,
        funding_request=detr,
        deadline="works_start",
        until=due + dt.timedelta(days=60),
        reason="Intempéries.",
    )
    client = login(region)
    html = page(client, f"/dossiers/{case.pk}/")  # it sees the dossier (its own request)…
    assert f"extension-{extension.pk}" not in actions_in(html)  # …but no action on DETR's
    response = client.post(
        f"/prorogations/{extension.pk}/transitions/grant/",
        {"date": dt.date.today().isoformat(), "motivation": "Oui."},
    )
    assert response.status_code == 403
    assert "Vous n&#x27;êtes pas habilité à agir sur cet objet." in response.content.decode()
    extension.refresh_from_db()
    assert extension.state == ExtensionState.REQUESTED
    assert works_deadline(detr, "works_start").due_on == due
    # the agent may ask for the porteur, not decide
    agent_client = login(agent)
    response = agent_client.post(f"/prorogations/{extension.pk}/transitions/grant/", {})
    assert response.status_code == 403


def test_the_schemes_limit_gives_a_french_error_and_keeps_the_form():
    bench = Bench()
    fr = bench.granted
    due = works_deadline(fr, "works_start").due_on
    limit = extension_max_until(fr, "works_start", due)
    porteur = login(bench.porteur)
    before = everything()
    too_late = limit + dt.timedelta(days=1)
    response = ask(porteur, fr, too_late, reason="Marché relancé deux fois.")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Prorogation trop longue" in text(html)
    assert f"Au plus le {limit:%d/%m/%Y}." in text(html)
    assert "Marché relancé deux fois." in html  # nothing typed is lost
    assert f'value="{too_late.isoformat()}"' in html
    assert f'<option value="{fr.pk}:works_start" selected>' in html
    assert everything() == before
    # at the limit it is taken; a second start-of-works extension then never is (once)
    assert ask(porteur, fr, limit).status_code == 302
    extension = Extension.objects.get(funding_request=fr)
    instructor = login(bench.instructor)
    response = instructor.post(
        f"/prorogations/{extension.pk}/transitions/grant/",
        {"date": bench.today.isoformat(), "motivation": "Accordé."},
    )
    assert response.status_code == 302
    response = ask(porteur, fr, limit + dt.timedelta(days=10))
    assert response.status_code == 400
    assert "ne peut être prorogé qu'une fois" in text(response.content.decode())


@pytest.mark.parametrize(
    "until",
    ["pas une date", "1e999", "-5", "31/02/2028", "٢٠٢٨-٠٥-٠٤", "9999-12-31", "", "2028-13-01"],
)
def test_bad_dates_get_a_french_message_never_a_500(until):
    bench = Bench()
    fr = bench.granted
    porteur = login(bench.porteur)
    before = everything()
    response = ask(porteur, fr, until)
    assert response.status_code == 400
    html = text(response.content.decode())
    assert "Nouvelle échéance demandée" in html
    assert any(
        words in html
        for words in ("format JJ/MM/AAAA", "invraisemblable", "Indiquez la nouvelle date")
    ), html[:600]
    assert everything() == before


def test_bad_targets_and_missing_reason_are_refused_in_french():
    bench = Bench()
    fr, other = bench.granted, bench.complete  # ``other``: not granted, another dossier
    porteur = login(bench.porteur)
    due = works_deadline(fr, "works_start").due_on
    before = everything()
    for target in (f"{other.pk}:works_start", f"{fr.pk}:balance_claim", "1e999", ""):
        response = porteur.post(
            f"/mes-dossiers/{fr.case_id}/prorogation/",
            {"target": target, "until": (due + dt.timedelta(days=5)).isoformat(), "reason": "x"},
        )
        assert response.status_code == 400, target
        html = text(response.content.decode())
        assert "Échéance à proroger" in html, target
    response = ask(porteur, fr, due + dt.timedelta(days=5), reason="")
    assert response.status_code == 400
    assert "Indiquez le motif de la demande de prorogation." in text(response.content.decode())
    assert everything() == before


def test_an_agent_asks_for_the_porteur_and_a_passed_deadline_shows_the_two_ways_out():
    bench = Bench()
    fr = bench.granted
    due = works_deadline(fr, "works_start").due_on
    agent = login(bench.agent)
    response = agent.post(
        f"/dossiers/{fr.case_id}/prorogations/",
        {
            "target": f"{fr.pk}:works_start",
            "until": (due + dt.timedelta(days=200)).isoformat(),
            "reason": "Demande du maire par téléphone.",
        },
    )
    assert response.status_code == 302, text(response.content.decode())[:600]
    extension = Extension.objects.get(funding_request=fr)
    assert extension.requested_by == bench.agent and extension.deadline == "works_start"
    # a missed start of works: lapse or extension, on the dossier page and the funders' page
    missed = bench.missed_grant
    html = text(page(login(bench.instructor), f"/dossiers/{missed.case_id}/"))
    assert "Échéance de commencement des travaux dépassée" in html
    assert "constater la caducité de l'aide" in html
    funders = page(login(bench.instructor), "/financeurs/")
    assert "Échéances de travaux dépassées" in funders
    assert actions_in(funders)[f"fundingrequest-{missed.pk}"] >= {"lapse"}
    porteur_html = text(page(login(bench.porteur), f"/mes-dossiers/{missed.case_id}/"))
    assert "est dépassée : le financeur peut constater la caducité" in porteur_html
    # too late to ask now (revised rule 5: asked before the deadline)
    assert f'value="{missed.pk}:works_start"' not in page(
        login(bench.porteur), f"/mes-dossiers/{missed.case_id}/"
    )
