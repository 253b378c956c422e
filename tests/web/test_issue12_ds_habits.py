"""Three Démarches Simplifiées habits (issue 12): attachments in messages, a correction asked
on one field or piece, and visible notifications (« Mes notifications » and the badge)."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from cases import builders, services
from cases.models import Case, CorrectionRequest, CorrectionState, Message, MessageAttachment
from engine.transitions import transition_apply
from notifications.models import Notification
from notifications.relay import outbox_relay
from tests import factories as f
from web.context_processors import notification_badge

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%guichet test\n1 0 obj <<>> endobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def text(response) -> str:
    return re.sub("[\u202f\xa0]", " ", htmllib.unescape(response.content.decode()))


def pdf(name="devis.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def draft(porteur, title="Salle des fêtes de Lautrec"):
    return services.case_create(actor=porteur, data={"title": title, "state": "draft"})


# ---------------------------------------------------------------- attachments


def test_porteur_sends_files_with_a_message_and_the_agent_downloads_them(client):
    porteur, agent = f.porteur(), f.agent()
    case = draft(porteur)
    client.force_login(porteur)
    response = client.post(
        f"/mes-dossiers/{case.pk}/message/",
        {"body": "Voici le devis et la photo.", "attachments": [pdf(), pdf("photo.png", PNG)]},
    )
    assert response.status_code == 302
    message = Message.objects.get(case=case)
    files = list(message.attachments.order_by("id"))
    assert [a.filename for a in files] == ["devis.pdf", "photo.png"]
    assert [a.content_type for a in files] == ["application/pdf", "image/png"]
    page = text(client.get(f"/mes-dossiers/{case.pk}/"))
    assert "Voici le devis" in page and f"/pieces-jointes/{files[0].pk}/telecharger/" in page

    client.force_login(agent)
    detail = text(client.get(f"/dossiers/{case.pk}/"))
    assert f"/pieces-jointes/{files[1].pk}/telecharger/" in detail
    download = client.get(f"/pieces-jointes/{files[0].pk}/telecharger/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download["Content-Disposition"]

    # the agent answers with a file, the porteur downloads it
    reply = client.post(
        f"/dossiers/{case.pk}/messages/",
        {"body": "Merci, voici le modèle signé.", "attachments": [pdf("modele.pdf")]},
    )
    assert reply.status_code == 302
    attachment = MessageAttachment.objects.get(filename="modele.pdf")
    client.force_login(porteur)
    assert client.get(f"/pieces-jointes/{attachment.pk}/telecharger/").status_code == 200


def test_another_porteur_or_a_visitor_gets_nothing(client):
    porteur, other = f.porteur(), f.porteur()
    case = draft(porteur)
    message = services.message_post(
        actor=porteur, case=case, body="Devis joint.", attachments=[pdf()]
    )
    attachment = message.attachments.get()
    url = f"/pieces-jointes/{attachment.pk}/telecharger/"
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.get(f"/pieces-jointes/{attachment.pk + 999}/telecharger/").status_code == 404
    client.logout()
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/connexion/" in anonymous["Location"]
    assert attachment.file.name.startswith(f"messages/{case.pk}/")  # not under a public URL


def test_an_attachment_of_an_internal_note_stays_inside(client):
    porteur, agent = f.porteur(), f.agent()
    case = draft(porteur)
    note = services.message_post(
        actor=agent, case=case, body="Note.", internal=True, attachments=[pdf("interne.pdf")]
    )
    client.force_login(porteur)
    assert (
        client.get(f"/pieces-jointes/{note.attachments.get().pk}/telecharger/").status_code == 404
    )


def test_an_oversized_file_is_refused_in_french_and_the_text_is_kept(client, settings):
    settings.GUICHET_MAX_UPLOAD_BYTES = 1024
    porteur = f.porteur()
    case = draft(porteur)
    client.force_login(porteur)
    big = pdf("gros-devis.pdf", PDF + b"0" * 2048)
    response = client.post(
        f"/mes-dossiers/{case.pk}/message/",
        {"body": "Mon long message à ne pas perdre.", "attachments": [pdf(), big]},
    )
    assert response.status_code == 400
    page = text(response)
    assert "« gros-devis.pdf » : fichier trop volumineux" in page and "1 Mo au plus" not in page
    assert "Mon long message à ne pas perdre." in page  # the textarea, as typed
    assert "choisissez-les de nouveau" in page
    assert not Message.objects.filter(case=case).exists()  # nothing half-written
    assert not MessageAttachment.objects.exists()


def test_too_many_files_and_a_disguised_file_are_refused(client):
    porteur, agent = f.porteur(), f.agent()
    case = draft(porteur)
    client.force_login(agent)
    six = [pdf(f"p{i}.pdf") for i in range(6)]
    response = client.post(f"/dossiers/{case.pk}/messages/", {"body": "Six.", "attachments": six})
    assert response.status_code == 400
    page = text(response)
    assert "Trop de pièces jointes (6) : 5 au plus par message." in page and "Six." in page
    fake = SimpleUploadedFile("devis.pdf", b"<html><script>x</script></html>", "application/pdf")
    response = client.post(
        f"/dossiers/{case.pk}/messages/", {"body": "Faux.", "attachments": [fake]}
    )
    assert response.status_code == 400 and "format refusé" in text(response)
    assert not Message.objects.filter(case=case).exists()


# ---------------------------------------------------------------- corrections


def test_a_field_correction_from_request_to_correction(client):
    porteur = f.porteur()
    agent = f.agent(first_name="Paul", last_name="Durand")
    case = draft(porteur, title="Salle des fete")
    client.force_login(agent)
    response = client.post(
        f"/dossiers/{case.pk}/corrections/",
        {"target": "field:title", "body": "Le titre comporte une faute : « fêtes »."},
    )
    assert response.status_code == 302 and response["Location"].endswith("#corrections")
    correction = CorrectionRequest.objects.get(case=case)
    assert correction.state == CorrectionState.OPEN and correction.requested_by == agent
    # one open request per target
    again = client.post(
        f"/dossiers/{case.pk}/corrections/", {"target": "field:title", "body": "Encore."}
    )
    assert again.status_code == 409 and "Une correction est déjà demandée" in text(again)

    outbox_relay()
    notice = Notification.objects.get(user=porteur, kind="correction.requested")
    assert "Titre du projet" in notice.message and notice.aggregate_id == case.pk

    client.force_login(porteur)
    page = text(client.get(f"/mes-dossiers/{case.pk}/"))
    assert "À faire : corrections demandées (1)" in page
    assert "Le titre comporte une faute" in page and "Paul Durand" in page
    step = text(client.get(f"/dossiers/{case.pk}/etapes/projet/"))
    assert 'class="correction"' in step and "Le titre comporte une faute" in step

    same = client.post(
        f"/mes-dossiers/{case.pk}/corrections/{correction.pk}/", {"value": "Salle des fete"}
    )
    assert same.status_code == 400 and "n'a pas changé" in text(same)
    done = client.post(
        f"/mes-dossiers/{case.pk}/corrections/{correction.pk}/", {"value": "Salle des fêtes"}
    )
    assert done.status_code == 302
    correction.refresh_from_db()
    case.refresh_from_db()
    assert case.title == "Salle des fêtes" and correction.state == CorrectionState.CORRECTED
    assert correction.closed_by == porteur
    page = text(client.get(f"/mes-dossiers/{case.pk}/"))
    assert "À faire : corrections demandées" not in page
    assert "Correction demandée : Titre du projet" in page  # the history
    assert "Correction faite : Titre du projet" in page
    outbox_relay()
    assert Notification.objects.filter(user=agent, kind="correction.corrected").exists()


def test_a_document_correction_is_closed_by_a_new_piece_and_another_by_the_agent(client):
    porteur, agent = f.porteur(), f.agent()
    case = draft(porteur)
    piece = services.correction_request(
        actor=agent, case=case, kind="document", target="other", body="Le RIB est illisible."
    )
    theme = services.correction_request(
        actor=agent, case=case, kind="field", target="theme", body="Précisez le thème."
    )
    client.force_login(porteur)
    page = text(client.get(f"/mes-dossiers/{case.pk}/"))
    assert "À corriger : Pièce « Autre pièce »" in page and "Le RIB est illisible." in page
    response = client.post(
        f"/mes-dossiers/{case.pk}/pieces/", {"kind": "other", "file": pdf("rib.pdf")}
    )
    assert response.status_code == 302
    piece.refresh_from_db()
    assert piece.state == CorrectionState.CORRECTED

    client.force_login(agent)
    closed = client.post(f"/dossiers/{case.pk}/corrections/{theme.pk}/fermer/")
    assert closed.status_code == 302
    theme.refresh_from_db()
    assert theme.state == CorrectionState.CLOSED and theme.closed_by == agent
    detail = text(client.get(f"/dossiers/{case.pk}/"))
    assert "Demande de correction close : Thème" in detail
    assert "Corrigé par le porteur" in detail


def test_corrections_refused_where_they_cannot_be_made(client):
    porteur, agent = f.porteur(), f.agent()
    case = builders.dossier(porteur=porteur, stage="submitted", receipt="2026-01-15", content=PDF)
    client.force_login(agent)
    response = client.post(
        f"/dossiers/{case.pk}/corrections/", {"target": "field:title", "body": "Titre ?"}
    )
    assert response.status_code in (400, 409, 422)
    assert "demandez d'abord des compléments" in text(response)
    assert "Titre ?" in text(response)  # what was typed, kept
    unknown = client.post(f"/dossiers/{case.pk}/corrections/", {"target": "field:x", "body": "?"})
    assert unknown.status_code == 400
    # the porteur posts nothing on the agent's side, nor corrects another's dossier
    client.force_login(porteur)
    assert (
        client.post(
            f"/dossiers/{case.pk}/corrections/", {"target": "document:other", "body": "x"}
        ).status_code
        == 404
    )
    other = draft(f.porteur())
    c = services.correction_request(
        actor=agent, case=other, kind="field", target="title", body="Titre."
    )
    assert (
        client.post(
            f"/mes-dossiers/{other.pk}/corrections/{c.pk}/", {"value": "Piraté"}
        ).status_code
        == 404
    )
    # once incomplete, the title can be corrected in place
    transition_apply(
        instance=case,
        name="request_documents",
        actor=agent,
        data={"documents": ["Plan signé"], "date": "2026-01-20"},
    )
    case = Case.objects.get(pk=case.pk)
    c = services.correction_request(
        actor=agent, case=case, kind="field", target="title", body="Titre plus précis."
    )
    done = client.post(f"/mes-dossiers/{case.pk}/corrections/{c.pk}/", {"value": "Nouveau titre"})
    assert done.status_code == 302
    c.refresh_from_db()
    assert c.state == CorrectionState.CORRECTED


# ---------------------------------------------------------------- notifications


def notify(user, n, **kw):
    return [
        Notification.objects.create(
            user=user, kind="message", message=f"Notification n° {i}", dedup_key=f"t{i}", **kw
        )
        for i in range(n)
    ]


def test_my_notifications_newest_first_paginated_and_marked_read(client):
    porteur = f.porteur()
    case = draft(porteur)
    items = notify(porteur, 25, aggregate_id=case.pk)
    notify(f.porteur(), 3)  # someone else's
    client.force_login(porteur)
    first = text(client.get("/notifications/"))
    assert "25 notifications non lues" in first
    assert first.index("Notification n° 24") < first.index("Notification n° 23")
    assert "Notification n° 4" not in first and "Page 1 sur 2" in first
    assert f"/mes-dossiers/{case.pk}/" in first
    second = text(client.get("/notifications/?page=2"))
    assert "Notification n° 4" in second and "Notification n° 0" in second
    assert "Notification n° 24" not in second

    response = client.post(f"/notifications/{items[24].pk}/lue/", {"page": "1"})
    assert response.status_code == 302
    items[24].refresh_from_db()
    assert items[24].read_at is not None
    assert "24 notifications non lues" in text(client.get("/notifications/"))

    response = client.post("/notifications/tout-lu/", {"page": "2"})
    assert response.status_code == 302 and response["Location"].endswith("?page=2")
    assert not Notification.objects.filter(user=porteur, read_at=None).exists()
    page = text(client.get("/notifications/"))
    assert "Toutes vos notifications sont lues." in page
    assert "notif-badge" not in page


def test_another_users_notification_cannot_be_marked(client):
    porteur, other = f.porteur(), f.porteur()
    (theirs,) = notify(other, 1)
    client.force_login(porteur)
    assert client.post(f"/notifications/{theirs.pk}/lue/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.get("/notifications/tout-lu/").status_code == 405
    client.logout()
    assert client.get("/notifications/").status_code == 302


def test_the_badge_in_every_page_with_its_text_alternative(client):
    agent = f.agent()
    notify(agent, 3)
    client.force_login(agent)
    page = text(client.get("/agent/"))
    assert re.search(r'<span class="badge notif-badge" aria-hidden="true">3</span>', page)
    assert "(3 notifications non lues)" in page
    Notification.objects.create(user=agent, kind="x", message="Une de plus", dedup_key="x")
    assert "(4 notifications non lues)" in text(client.get("/agent/"))


def test_the_badge_count_is_one_capped_query(rf=None):
    user = f.porteur()
    Notification.objects.bulk_create(
        Notification(user=user, kind="x", message="m", dedup_key=f"k{i}") for i in range(130)
    )
    request = RequestFactory().get("/")
    request.user = user
    badge = notification_badge(request)["notification_badge"]
    with CaptureQueriesContext(connection) as queries:
        assert badge.shown == "99+"
        assert badge.text == "plus de 99 notifications non lues"
        assert badge.count == 100
    assert len(queries.captured_queries) == 1
    sql = queries.captured_queries[0]["sql"].upper()
    assert "COUNT" in sql and "LIMIT 100" in sql
    request.user = type("Anonymous", (), {"is_authenticated": False})()
    assert notification_badge(request) == {}


def test_the_api_reads_the_same_marks(client):
    porteur = f.porteur()
    items = notify(porteur, 2)
    client.force_login(porteur)
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    assert client.post(f"/api/v1/notifications/{items[0].pk}/read/").status_code == 200
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    other = notify(f.porteur(), 1)[0]
    assert client.post(f"/api/v1/notifications/{other.pk}/read/").status_code == 404
