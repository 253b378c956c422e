"""The public transparency page, without login: envelopes and their use computed from known
grants and payments, supported projects (never a draft nor a dossier under instruction),
committee decisions and next session, criteria; public minutes; bounded queries."""

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.template.defaultfilters import date as date_filter

from cases import public_selectors as ps
from cases import services
from cases.committee import session_create, vote_record
from engine.transitions import transition_apply
from tests import factories as f
from tests.engine import walk

pytestmark = pytest.mark.django_db

GOOD = {"ancrage": 4, "innovation": 3, "transition": 4}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.content.decode()))


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def decided_detr(title, amount="35000.00"):
    case, porteur, agent = walk.instructing_case(walk.DETR_PLAN, title=title)
    fr = walk.grant_and_commit(case.funding_requests.get(), amount=amount)
    return case, fr, porteur


def pay_detr(case, fr, porteur, amount):
    """Works started, an advance claimed, verified and paid."""
    instructor = walk.instructor_for("DETR")
    transition_apply(
        instance=fresh(case), name="start_works", actor=porteur, data={"date": "2026-04-20"}
    )
    claim = services.claim_create(
        actor=porteur, funding_request=fresh(fr), data={"kind": "advance", "amount": amount}
    )
    transition_apply(instance=fresh(claim), name="file", actor=porteur, data={"date": "2026-05-10"})
    transition_apply(
        instance=fresh(claim), name="verify", actor=instructor, data={"date": "2026-06-01"}
    )
    transition_apply(
        instance=fresh(claim),
        name="pay",
        actor=instructor,
        data={"amount": amount, "date": "2026-06-15"},
    )


def committee_session(agent, titles_and_votes, date=dt.date(2026, 6, 4)):
    """A closed LEADER session: 3 public + 4 private members all present."""
    members = [f.committee_member() for _ in range(3)] + [
        f.committee_member("private", g)
        for g in ("agriculture", "associations", "entreprises", "tourisme")
    ]
    frs = []
    for title, _choice in titles_and_votes:
        case, _porteur, _ = walk.instructing_case(walk.LEADER_PLAN, agent=agent, title=title)
        fr = case.funding_requests.get()
        transition_apply(
            instance=fr, name="submit_to_committee", actor=agent, data={"pre_score": "14"}
        )
        frs.append(fresh(fr))
    session = session_create(
        actor=agent, date=date, members=[m.pk for m in members], scheme=f.scheme("LEADER")
    )
    for fr, (_title, choice) in zip(frs, titles_and_votes, strict=True):
        for m in members:
            vote_record(
                actor=agent,
                session=session,
                funding_request_id=fr.pk,
                member_id=m.pk,
                vote=choice,
                scores=GOOD,
            )
    transition_apply(instance=fresh(session), name="close", actor=agent)
    return fresh(session), frs, members


def test_public_page_without_login_shows_envelopes_projects_and_decisions(client):
    # DETR: two grants (35 000 + 20 000), one committed and partly paid (10 000).
    case_a, fr_a, porteur_a = decided_detr("Rénovation de l'école de Cordes", "35000.00")
    pay_detr(case_a, fr_a, porteur_a, "10000.00")
    decided_detr("Halle de Monestiés", "20000.00")
    # Not public: a draft and a dossier under instruction.
    draft, draft_porteur = walk.draft_case(walk.DETR_PLAN, title="Projet secret en préparation")
    walk.instructing_case(walk.DETR_PLAN, title="Salle des fêtes en instruction")
    # LEADER: one selected (programmed, not granted), one rejected.
    agent = f.agent()
    session, (selected, rejected), _ = committee_session(
        agent, [("Tiers-lieu sélectionné", "for"), ("Projet rejeté du comité", "against")]
    )
    upcoming = session_create(
        actor=agent,
        date=dt.date.today() + dt.timedelta(days=20),
        members=[],
        scheme=f.scheme("LEADER"),
    )

    # Figures computed from the known grants and payments.
    budgets = {b.scheme.code: b for b in ps.scheme_budgets()}
    detr = budgets["DETR"]
    assert detr.envelope == Decimal("3200000.00")
    assert detr.programmed == Decimal("55000.00") and detr.committed == Decimal("55000.00")
    assert detr.paid == Decimal("10000.00")
    assert detr.available == Decimal("3145000.00")
    leader = budgets["LEADER"]
    assert leader.selected == Decimal("40000.00") and leader.granted == Decimal("0.00")
    assert leader.programmed == Decimal("40000.00") and leader.committed == Decimal("0.00")

    page = client.get("/transparence/")
    assert page.status_code == 200
    body = text(page)
    assert "Se connecter" in body  # anonymous
    # Envelope row: programmed 55 000 of 3 200 000 = 1,72 %; paid 10 000 = 0,31 %.
    assert "3 200 000,00 €" in body and "55 000,00 €" in body and "10 000,00 €" in body
    assert "3 145 000,00 €" in body
    assert "programmé 1,72 %, engagé 1,72 %, payé 0,31 % de l'enveloppe" in body
    assert "dont 40 000,00 € sélectionnés" in body
    # Supported projects: the decided DETR dossiers, never the draft nor the instructing one.
    assert "Rénovation de l'école de Cordes" in body and "Halle de Monestiés" in body
    assert case_a.organisation.name in body
    assert "Projet secret en préparation" not in body
    assert "Salle des fêtes en instruction" not in body
    # No personal data: neither accounts nor e-mails.
    assert porteur_a.username not in body and porteur_a.email not in body
    assert draft_porteur.email not in body
    # Committee decisions, public minutes, next session.
    assert f"Séance du {session.date:%d/%m/%Y}" in body
    assert "Tiers-lieu sélectionné" in body and "Projet rejeté du comité" in body
    assert "Sélectionné" in body and "Rejeté" in body
    assert f"/transparence/comite/{session.pk}/proces-verbal.pdf" in body
    assert (
        f"Séance du <strong>{date_filter(upcoming.date, 'l j F Y')}</strong> (LEADER) — 0 projets"
        in body
    )
    # Criteria and calendar.
    assert "Caractère innovant (méthode ou contenu)" in body and "minimum 10" in body
    assert "Relevé d'identité bancaire" in body and "Délai de paiement attendu" in body
    assert "au moins 50 % de ses membres" in body and "plus de 49 % des voix" in body

    # Filter by scheme.
    only_leader = text(client.get("/transparence/?dispositif=LEADER"))
    assert "Rénovation de l'école de Cordes" not in only_leader
    assert "Aucun projet soutenu pour ce dispositif" in only_leader
    assert client.get("/transparence/?dispositif=<script>&page=abc").status_code == 200


def test_public_minutes_without_login(client):
    agent = f.agent()
    session, _frs, members = committee_session(agent, [("Jardin partagé", "for")])
    minutes = client.get(f"/transparence/comite/{session.pk}/proces-verbal.pdf")
    assert minutes.status_code == 200 and minutes.content.startswith(b"%PDF")
    assert minutes.context["public"] is True
    [item] = minutes.context["items"]
    assert item.outcome == "selected" and item.decision.votes_for == 7
    from django.template.loader import render_to_string

    rendered = render_to_string("web/pdf/minutes.html", minutes.context.flatten())
    assert "version publique" in rendered and "Jardin partagé" in rendered
    assert members[0].username not in rendered  # names stay out of the public version

    planned = session_create(
        actor=agent, date=dt.date(2026, 12, 1), members=[], scheme=f.scheme("LEADER")
    )
    assert client.get(f"/transparence/comite/{planned.pk}/proces-verbal.pdf").status_code == 404
    assert client.get("/transparence/comite/999999/proces-verbal.pdf").status_code == 404


def test_public_page_runs_bounded_queries(client, django_assert_max_num_queries):
    for i in range(3):
        decided_detr(f"Projet soutenu {i}")

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/transparence/").status_code == 200
        return len(ctx.captured_queries)

    few = count_queries()
    for i in range(3, 9):
        decided_detr(f"Projet soutenu {i}")
    with django_assert_max_num_queries(few):
        page = client.get("/transparence/")
    assert "Projet soutenu 8" in text(page)
    assert few <= 25, few
