"""The funders' conference pages (issue 14, point 6): an agent creates a session, puts
dossiers on its agenda and records each funder's position; the session page re-computes
the re-balanced plan after each position; the minutes' PDF lists the funders present, the
agenda, the notes and every position; the positions show on the dossier page and in the
maquette. A porteur and another territory get a 404; a funder's instructor records its
own funder's positions only. Bad input: French messages, nothing stored."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from cases import builders
from cases.models import ConferencePosition, ConferenceSession, FundingRequest
from cases.services import conference as services
from schemes.models import Funder, Scheme, Territory
from tests import factories as f
from tests.engine import walk

pytestmark = pytest.mark.django_db

PLAN = builders.plan(100000, ("DETR", 40000), ("REGION_OCC", 20000))


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


def flat(text: str) -> str:
    """Spaces of every kind (French thousands) as one plain space."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", html.unescape(text))


def body(response) -> str:
    return flat(response.content.decode())


def pdf_text(content: bytes) -> str:
    return flat(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages))


@pytest.fixture
def world():
    halle, porteur, agent = walk.instructing_case(PLAN, title="Halle de Lisle")
    ecole, _p, _a = walk.instructing_case(PLAN, title="École de Bèsse", agent=agent)
    session = services.session_create(
        actor=agent,
        date=dt.date.today(),
        title="Conférence d'automne",
        place="Salle du conseil",
        notes="Le Département étudiera un complément.",
        funder_ids=list(
            Scheme.objects.filter(code__in=["DETR", "REGION_OCC"]).values_list("funder", flat=True)
        ),
    )
    services.agenda_add(actor=agent, session=session, case_id=halle.pk)
    services.agenda_add(actor=agent, session=session, case_id=ecole.pk)
    requests = {
        (fr.case_id, fr.scheme.code): fr
        for fr in FundingRequest.objects.filter(case__in=[halle, ecole]).select_related("scheme")
    }
    return {"halle": halle, "ecole": ecole, "porteur": porteur, "agent": agent,
            "session": session, "requests": requests}  # fmt: skip


def url(session, tail: str = "") -> str:
    return f"/programmation/conferences/{session.pk}/{tail}"


def fr_of(w, case: str, code: str):
    return w["requests"][(w[case].pk, code)]


def post_position(client, w, case, code, stance, amount="", comment=""):
    fr = fr_of(w, case, code)
    data = {"funding_request": str(fr.pk), "stance": stance, "amount": amount, "comment": comment}
    return client.post(url(w["session"], "positions/"), data)


def test_an_agent_creates_a_session_and_bad_input_is_french(client, world):
    client.force_login(world["agent"])
    listing = client.get("/programmation/conferences/")
    assert listing.status_code == 200 and "Conférence d'automne" in body(listing)
    bad = client.post("/programmation/conferences/", {"date": "31/02/2026", "title": ""})
    text = body(bad)
    assert bad.status_code == 400 and "Indiquez un intitulé." in text
    assert "date" in text.lower() and ConferenceSession.objects.count() == 1
    funder = Funder.objects.order_by("pk").first()
    ok = client.post(
        "/programmation/conferences/",
        {"date": "15/01/2027", "title": "Séance de janvier", "funders": [str(funder.pk)]},
    )
    created = ConferenceSession.objects.get(title="Séance de janvier")
    assert ok.status_code == 302 and ok["Location"] == url(created)
    assert created.date == dt.date(2027, 1, 15) and list(created.funders.all()) == [funder]


def test_each_position_rebalances_the_plan_on_the_page(client, world):
    client.force_login(world["agent"])
    page = body(client.get(url(world["session"])))
    assert "Plan équilibré avec les montants envisagés" in page
    answer = post_position(client, world, "halle", "DETR", "fund", "30 000,00", "Sous réserve")
    assert answer.status_code == 302
    assert answer["Location"].endswith(f"#dossier-{world['halle'].pk}")
    page = body(client.get(url(world["session"])))
    assert "Reste à couvrir par le porteur ou à trouver : 10 000,00 €" in page
    post_position(client, world, "halle", "REGION_OCC", "decline")
    page = body(client.get(url(world["session"])))
    assert "Reste à couvrir par le porteur ou à trouver : 30 000,00 €" in page
    assert "Sous réserve" in page and "Ne financera pas" in page
    post_position(client, world, "ecole", "REGION_OCC", "fund", "50000")
    page = body(client.get(url(world["session"])))
    assert "dépassent le besoin de 30 000,00 €" in page and "plafond de 80 %" in page


@pytest.mark.parametrize(
    ("stance", "amount", "message"),
    [
        ("fund", "abc", "Montant en euros : indiquez un nombre, par exemple 12 500,00"),
        ("fund", "", "indiquez le montant que le financeur envisage"),
        ("peut-être", "10", "Cette position n'existe pas"),
        ("decline", "100", "laissez-le vide"),
        ("fund", "1e9", "sans exposant"),
    ],
)
def test_bad_positions_show_french_messages(client, world, stance, amount, message):
    client.force_login(world["agent"])
    answer = post_position(client, world, "halle", "DETR", stance, amount)
    text = body(answer)
    assert answer.status_code == 400 and message in text, text.split("resume-erreurs")[-1][:600]
    assert not ConferencePosition.objects.exists()


def test_the_minutes_list_every_position(client, world):
    agent = world["agent"]
    positions = [
        ("halle", "DETR", "fund", "30000", "Accord de principe de la préfecture"),
        ("halle", "REGION_OCC", "decline", "", "Enveloppe régionale épuisée"),
        ("ecole", "DETR", "more", "", "Attendre le devis actualisé"),
        ("ecole", "REGION_OCC", "fund", "18500", "Sous réserve du vote de la commission"),
    ]
    for case, code, stance, amount, comment in positions:
        services.position_record(
            actor=agent,
            session=world["session"],
            funding_request_id=fr_of(world, case, code).pk,
            stance=stance,
            amount=Decimal(amount) if amount else None,
            comment=comment,
        )
    client.force_login(agent)
    answer = client.get(url(world["session"], "releve.pdf"))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    text = pdf_text(answer.content)
    for funder in world["session"].funders.all():
        assert funder.name in text
    assert "Halle de Lisle" in text and "École de Bèsse" in text  # the agenda
    assert "Le Département étudiera un complément." in text  # the notes
    assert "30 000,00 €" in text and "18 500,00 €" in text
    for *_rest, comment in positions:
        assert comment in text
    labels = dict(ConferencePosition._meta.get_field("stance").choices)
    for stance in ("fund", "decline", "more"):
        assert labels[stance] in text
    listed = text.split("Positions des financeurs", 1)[1]
    assert len(re.findall(r"Financera|Ne financera pas|Demande des compléments", listed)) >= 4
    assert "Reste à couvrir par le porteur ou à trouver : 30 000,00 €" in text
    with CaptureQueriesContext(connection) as ctx:
        client.get(url(world["session"], "releve.pdf"))
    table = ConferencePosition._meta.db_table
    reads = [q for q in ctx.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert len(reads) == 1  # the positions are read once for the agenda and the list


def test_who_reads_and_who_records(client, world):
    other = Territory.objects.create(name="Autre PETR", slug="autre", siren="200000001")
    for user in (world["porteur"], f.agent(territory=other), walk.instructor_for("LEADER")):
        client.force_login(user)
        for path in ("", "releve.pdf"):
            assert client.get(url(world["session"], path)).status_code == 404
        assert post_position(client, world, "halle", "DETR", "decline").status_code == 404
    assert client.get("/programmation/conferences/").status_code in (200, 404)
    client.force_login(world["porteur"])
    assert client.get("/programmation/conferences/").status_code == 404
    detr = walk.instructor_for("DETR")
    world["session"].funders.add(detr.funder)
    client.force_login(detr)
    page = body(client.get(url(world["session"])))
    assert "Position de" in page and "Inscrire à l'ordre du jour" not in page
    assert post_position(client, world, "halle", "DETR", "fund", "40000").status_code == 302
    refused = post_position(client, world, "halle", "REGION_OCC", "fund", "20000")
    assert refused.status_code == 403 and "votre financeur" in body(refused)
    assert ConferencePosition.objects.count() == 1
    agenda = client.post(url(world["session"], "ordre-du-jour/"), {"case": world["halle"].pk})
    assert agenda.status_code == 404  # an instructor does not prepare the agenda


def test_only_who_prepares_the_session_edits_it_and_its_agenda(client, world):
    """Editing a session, adding to or taking off its agenda: a 404 for anyone who may not
    prepare it (``conference.may_manage``), whether it reads the session or not."""
    session, halle = world["session"], world["halle"]
    third, _p, _a = walk.instructing_case(PLAN, title="Voirie de Lescure", agent=world["agent"])
    item = session.items.get(case=halle)
    other = Territory.objects.create(name="Autre PETR", slug="autre", siren="200000001")
    detr = walk.instructor_for("DETR")
    session.funders.add(detr.funder)
    users = (
        f.agent(territory=other),
        f.UserFactory(role="epci_partner", epci=halle.epci),
        f.UserFactory(role="director"),
        detr,
    )
    edit = {"date": "15/01/2027", "title": "Renommée"}
    for user in users:
        client.force_login(user)
        assert client.post(url(session, "seance/"), edit).status_code == 404, user.role
        added = client.post(url(session, "ordre-du-jour/"), {"case": str(third.pk)})
        assert added.status_code == 404, user.role
        removed = client.post(url(session, f"ordre-du-jour/{item.pk}/retirer/"))
        assert removed.status_code == 404, user.role
    session.refresh_from_db()
    assert session.title == "Conférence d'automne"
    assert set(session.items.values_list("case_id", flat=True)) == {halle.pk, world["ecole"].pk}


def test_positions_show_on_the_dossier_and_in_the_maquette(client, world):
    agent = world["agent"]
    services.position_record(
        actor=agent,
        session=world["session"],
        funding_request_id=fr_of(world, "halle", "DETR").pk,
        stance="fund",
        amount=Decimal("35000"),
        comment="Accord de principe",
    )
    client.force_login(agent)
    dossier = body(client.get(f"/dossiers/{world['halle'].pk}/"))
    assert "Positions en conférence des financeurs" in dossier
    assert "Conférence d'automne" in dossier and "Accord de principe" in dossier
    other = body(client.get(f"/dossiers/{world['ecole'].pk}/"))
    assert "Positions en conférence des financeurs" not in other
    maquette = body(client.get("/programmation/?annee="))
    assert "Conférence : Financera 35 000,00 €" in maquette
    assert "/programmation/conferences/" in maquette
    # an EPCI partner reads its EPCI's maquette, not the conference (as on the dossier)
    client.force_login(f.UserFactory(role="epci_partner", epci=world["halle"].epci))
    maquette = body(client.get("/programmation/?annee="))
    assert "Halle de Lisle" in maquette and "Conférence :" not in maquette


def test_agenda_add_and_remove_on_the_page(client, world):
    client.force_login(world["agent"])
    third, _p, _a = walk.instructing_case(PLAN, title="Voirie de Lescure", agent=world["agent"])
    page = body(client.get(url(world["session"])))
    assert "Voirie de Lescure" in page  # offered for the agenda
    bad = client.post(url(world["session"], "ordre-du-jour/"), {"case": "999999999"})
    assert bad.status_code == 400 and "choisissez dans la liste" in body(bad)
    ok = client.post(url(world["session"], "ordre-du-jour/"), {"case": str(third.pk)})
    assert ok.status_code == 302 and world["session"].items.count() == 3
    item = world["session"].items.get(case=third)
    removed = client.post(url(world["session"], f"ordre-du-jour/{item.pk}/retirer/"))
    assert removed.status_code == 302 and world["session"].items.count() == 2
