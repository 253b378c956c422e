"""In-app notifications through the API, event notices, the iCalendar feed, digests."""

import datetime as dt

import icalendar
import pytest
from django.core import mail
from rest_framework.test import APIClient

from engine.deadlines import deadline_open
from engine.models import Deadline
from engine.transitions import transition_apply
from notifications.digest import digests_daily, digests_weekly
from notifications.models import Notification
from notifications.relay import outbox_relay
from tests import factories as f

from .builders import at, detr_case, people

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_request_for_documents_reaches_the_porteur_in_app_and_by_email():
    porteur, agent, _, _ = people()
    case = detr_case(porteur=porteur, agent=agent, receipt=dt.date(2026, 2, 2))
    outbox_relay()
    mail.outbox.clear()
    with at(dt.date(2026, 2, 10)):
        transition_apply(
            instance=case,
            name="request_documents",
            actor=agent,
            data={"documents": ["Délibération signée", "Plan de situation"]},
        )
    assert outbox_relay() >= 1
    assert outbox_relay() == 0  # nothing left, nothing twice
    notes = Notification.objects.filter(user=porteur, kind="case.request_documents")
    assert notes.count() == 1
    assert "Délibération signée, Plan de situation" in notes.get().message
    sent = [m for m in mail.outbox if porteur.email in m.to]
    assert len(sent) == 1
    text, (html, mime) = sent[0].body, sent[0].alternatives[0]
    assert "Pièces demandées" in text and mime == "text/html" and 'lang="fr"' in html


def test_notifications_api_list_unread_and_read():
    porteur, agent, _, _ = people()
    case = detr_case(porteur=porteur, agent=agent, receipt=dt.date(2026, 2, 2))
    outbox_relay()
    mine = client_for(porteur)
    listed = mine.get("/api/v1/notifications/")
    assert listed.status_code == 200
    assert [n["kind"] for n in listed.json()] == ["case.submit"]
    assert listed.json()[0]["subject"] == "case" and listed.json()[0]["subject_id"] == case.pk
    assert mine.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    note_id = listed.json()[0]["id"]
    # somebody else's notification is not found
    assert client_for(f.porteur()).post(f"/api/v1/notifications/{note_id}/read/").status_code == 404
    read = mine.post(f"/api/v1/notifications/{note_id}/read/")
    assert read.status_code == 200 and read.json()["read_at"]
    assert mine.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}
    assert mine.get("/api/v1/notifications/?unread=1").json() == []
    assert APIClient().get("/api/v1/notifications/").status_code == 401


def test_calendar_feed_holds_the_users_deadlines_only():
    porteur, agent, _, _ = people()
    case = detr_case(porteur=porteur, agent=agent, receipt=dt.date(2026, 2, 2))
    other_porteur, other_agent, _, _ = people()
    detr_case(porteur=other_porteur, agent=other_agent, receipt=dt.date(2026, 2, 3))
    deadline_open(
        subject=case,
        aggregate_id=case.pk,
        kind="documents",
        due_on=dt.date(2026, 3, 4),
        party="porteur",
    )
    url = client_for(porteur).get("/api/v1/me/calendar/").json()["url"]
    path = url.split("testserver", 1)[1]
    response = APIClient().get(path)  # no login: the secret token is the key
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    events = [c for c in cal.walk("VEVENT")]
    mine = Deadline.objects.filter(aggregate_id=case.pk, state__in=["open", "suspended"])
    assert {e["UID"].split("@")[0] for e in events} == {f"deadline-{d.pk}" for d in mine}
    assert all(case.reference in str(e["SUMMARY"]) for e in events)
    dates = {e.decoded("DTSTART") for e in events}
    assert dt.date(2026, 3, 4) in dates
    # a new link revokes the old one
    client_for(porteur).post("/api/v1/me/calendar/")
    assert APIClient().get(path).status_code == 404
    assert APIClient().get("/calendrier/nimportequoi.ics").status_code == 404


def test_daily_digest_once_per_agent_and_weekly_for_the_director():
    porteur, agent, _, director = people()
    case = detr_case(porteur=porteur, agent=agent, receipt=dt.date(2026, 2, 2))
    deadline_open(
        subject=case,
        aggregate_id=case.pk,
        kind="documents",
        due_on=dt.date(2026, 3, 4),
        party="porteur",
    )
    outbox_relay()
    mail.outbox.clear()
    assert digests_daily(today=dt.date(2026, 3, 2)) == 1
    assert digests_daily(today=dt.date(2026, 3, 2)) == 0
    digest = [m for m in mail.outbox if agent.email in m.to]
    assert len(digest) == 1 and "04/03/2026" in digest[0].body
    assert digests_weekly(today=dt.date(2026, 3, 2)) == 1
    assert digests_weekly(today=dt.date(2026, 3, 4)) == 0  # same ISO week
    weekly = [m for m in mail.outbox if director.email in m.to]
    assert len(weekly) == 1 and "Dossiers « Déposé » : 1" in weekly[0].body
