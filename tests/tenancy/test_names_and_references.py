"""Each territory's name where the user reads it (layout, acknowledgement PDF, e-mails) and
its references (``GU-<prefix>-<year>-<n>``), with two territories on one installation."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from cases import services
from cases.models import Case
from cases.search import case_text_filter
from engine.deadlines import deadline_open
from notifications.digest import digests_weekly
from notifications.relay import outbox_relay
from notifications.reminders import reminders_plan, reminders_send
from schemes.models import Territory

pytestmark = pytest.mark.django_db

NEUTRAL = "Tous les territoires"


def _html(response) -> str:
    return unescape(response.content.decode("utf-8"))


def _layout(page: str) -> dict[str, str]:
    """The places of the layout that name the territory."""
    return {
        "title": re.search(r"<title>(.*?)</title>", page, re.S).group(1),
        "brand": re.search(r'<span class="brand-sub">(.*?)</span>', page, re.S).group(1),
        "footer": re.search(r'<footer class="site-footer".*?<p>(.*?)</p>', page, re.S).group(1),
    }


def _assert_names(page: str, side, other):
    where = _layout(page)
    assert where["brand"] == side.territory.name, where
    assert where["title"].endswith(f"— {side.territory.name}"), where
    assert f"PETR {side.territory.name}, GAL LEADER" in where["footer"], where
    for text in where.values():
        assert other.territory.name not in text, where


def _mails_to(user) -> list:
    return [m for m in mail.outbox if user.email in m.to]


def _assert_mail_names(message, side, other):
    html = unescape(message.alternatives[0][0])
    for body in (message.body, html):
        assert f"Guichet unique — {side.territory.name}" in body, body
        assert other.territory.name not in body, body


# ---------------------------------------------------------------- web pages


def test_porteur_pages_name_the_organisations_territory(client, world):
    a, b = world.a, world.b
    for side, other in ((b, a), (a, b)):
        client.force_login(side.users["porteur"])
        for url in ("/mes-dossiers/", f"/mes-dossiers/{side.ids['case']}/"):
            response = client.get(url)
            assert response.status_code == 200, url
            _assert_names(_html(response), side, other)


def test_staff_pages_name_the_users_territory(client, world):
    a, b = world.a, world.b
    for role, url in (
        ("agent", "/agent/"),
        ("director", "/agent/"),
        ("epci_partner", "/agent/"),
        ("committee_member", "/comite/"),
    ):
        for side, other in ((b, a), (a, b)):
            client.force_login(side.users[role])
            response = client.get(url)
            assert response.status_code == 200, (role, url)
            _assert_names(_html(response), side, other)


def test_cross_territory_accounts_get_a_neutral_label(client, world):
    for user, url in ((world.superuser, "/agent/"), (world.etat, "/financeurs/")):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        where = _layout(_html(response))
        assert where["brand"] == NEUTRAL
        assert "PETR et GAL LEADER" in where["footer"]
        for text in where.values():
            assert world.a.territory.name not in text
            assert world.b.territory.name not in text


def test_public_page_names_its_territory(client, world):
    a, b = world.a, world.b
    for url in ("/t/segala-viaur/transparence/", "/transparence/?territoire=segala-viaur"):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_names(_html(response), b, a)
    _assert_names(_html(client.get("/t/albigeois-bastides/transparence/")), a, b)
    # a page of no territory in particular: the installation's first one
    _assert_names(_html(client.get("/connexion/")), a, b)
    # B's public page, seen by A's agent: the page's territory wins
    client.force_login(a.users["agent"])
    _assert_names(_html(client.get("/t/segala-viaur/transparence/")), b, a)


def test_the_name_costs_no_query_and_follows_a_rename(client, world):
    b = world.b
    for user in (b.users["agent"], b.users["porteur"]):
        client.force_login(user)
        client.get("/mes-dossiers/" if user.role == "porteur" else "/agent/")  # warm
        with CaptureQueriesContext(connection) as ctx:
            page = client.get("/mes-dossiers/" if user.role == "porteur" else "/agent/")
        assert page.status_code == 200
        assert not [q for q in ctx.captured_queries if '"cases_territory"' in q["sql"]]
        assert not [
            q
            for q in ctx.captured_queries
            if '"cases_organisation"."territory_id"' in q["sql"]
            and 'FROM "cases_organisation"' in q["sql"]
            and "LIMIT 1" in q["sql"]
        ]
    b.territory.name = "PETR du Haut-Ségala (renommé)"
    b.territory.save()
    client.force_login(b.users["agent"])
    assert _layout(_html(client.get("/agent/")))["brand"] == "PETR du Haut-Ségala (renommé)"


# ---------------------------------------------------------------- acknowledgement PDF


def test_acknowledgement_pdf_names_the_dossiers_territory(client, world):
    a, b = world.a, world.b
    for side, other in ((b, a), (a, b)):
        client.force_login(side.users["porteur"])
        response = client.get(f"/dossiers/{side.ids['case']}/accuse-reception.pdf")
        assert response.status_code == 200
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        text = " ".join(text.split())
        assert side.territory.name in text
        assert other.territory.name not in text
        assert side.reference in text


# ---------------------------------------------------------------- e-mails


def test_event_emails_name_the_dossiers_territory(world):
    a, b = world.a, world.b
    mail.outbox.clear()
    assert outbox_relay() > 0  # the submissions and grants of the fixture's dossiers
    for side, other in ((b, a), (a, b)):
        sent = _mails_to(side.users["porteur"])
        assert sent, side.key
        for message in sent:
            _assert_mail_names(message, side, other)
    # the plain-text body is not HTML-escaped (« l'Albigeois », not « l&#x27;Albigeois »)
    assert "l'Albigeois" in _mails_to(a.users["porteur"])[0].body


def test_reminder_emails_name_the_dossiers_territory(world):
    a, b = world.a, world.b
    day = dt.date(2026, 6, 1)
    for side in (a, b):
        case = Case.objects.get(pk=side.ids["case"])
        deadline_open(
            subject=case,
            aggregate_id=case.pk,
            kind="documents",
            due_on=day + dt.timedelta(days=7),
            party="porteur",
        )
    outbox_relay()
    mail.outbox.clear()
    assert reminders_send(reminders_plan(today=day), today=day) >= 2
    for side, other in ((b, a), (a, b)):
        sent = [m for m in _mails_to(side.users["porteur"]) if "Rappel" in m.subject]
        assert sent, side.key
        for message in sent:
            _assert_mail_names(message, side, other)


def test_weekly_digest_names_the_directors_territory(world):
    a, b = world.a, world.b
    outbox_relay()
    mail.outbox.clear()
    assert digests_weekly(today=dt.date(2026, 3, 2)) >= 2
    for side, other in ((b, a), (a, b)):
        (message,) = _mails_to(side.users["director"])
        _assert_mail_names(message, side, other)


# ---------------------------------------------------------------- references


def _new_case(side) -> Case:
    return services.case_create(
        actor=side.users["porteur"], data={"title": f"Halle {side.marker}", "state": "draft"}
    )


def test_references_carry_the_territorys_prefix(client, world):
    a, b = world.a, world.b
    Territory.objects.filter(pk=b.territory.pk).update(reference_prefix="SEG")
    in_b, in_a = _new_case(b), _new_case(a)
    year = in_b.created_at.year
    assert in_b.reference == f"GU-SEG-{year}-{in_b.pk:05d}"
    assert in_a.reference == f"GU-{year}-{in_a.pk:05d}"  # blank prefix: as before
    assert Case.objects.get(pk=in_b.pk).reference == in_b.reference
    assert re.fullmatch(r"GU-\d{4}-\d{5,}", b.reference)  # earlier dossiers keep theirs
    # found by the text search, whole or in part
    for q in (in_b.reference, "GU-SEG", f"SEG-{year}", f"{in_b.pk:05d}"):
        assert Case.objects.filter(case_text_filter(q), pk=in_b.pk).exists(), q
    client.force_login(b.users["agent"])
    page = _html(client.get("/agent/", {"q": "GU-SEG"}))
    assert in_b.reference in page
    assert b.reference not in page
    # the longest prefix and a six-digit number still fit the column
    assert len(Territory.format_reference("ABCDE", 2026, 999_999)) <= 20
    assert Territory.format_reference("", 2026, 42) == "GU-2026-00042"
    assert Territory.format_reference("ALB", 2026, 42) == "GU-ALB-2026-00042"


@pytest.mark.parametrize("prefix", ["alb", "A", "ABCDEF", "AL-B", "ÉCO", "AL B"])
def test_a_malformed_prefix_is_refused_in_french(world, prefix):
    territory = world.b.territory
    territory.reference_prefix = prefix
    with pytest.raises(ValidationError) as refused:
        territory.full_clean()
    assert "préfixe des références" in str(refused.value.message_dict["reference_prefix"])


@pytest.mark.parametrize("prefix", ["", "AL", "ALB", "SEG12", "T81"])
def test_a_wellformed_prefix_is_accepted(world, prefix):
    territory = world.b.territory
    territory.reference_prefix = prefix
    territory.full_clean()
