"""An outside expert's opinion by e-mail (issue 12, DS habit): a one-time link, no account,
one dossier read-only, one answer; spent, expired, wrong and foreign tokens give nothing."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import services
from cases.models import ExpertInvitation
from cases.services.experts import expert_invite, token_hash
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%guichet test\n"


def dossier(porteur, title="Salle des fêtes de Lautrec"):
    case = services.case_create(actor=porteur, data={"title": title, "state": "draft"})
    doc = services.document_upload(
        actor=porteur,
        case=case,
        kind="devis",
        upload=SimpleUploadedFile("devis-charpente.pdf", PDF, content_type="application/pdf"),
    )
    return case, doc


def invite_by_page(client, agent, case, **over):
    client.force_login(agent)
    data = {
        "name": "Claire Fabre",
        "email": "claire.fabre@example.org",
        "question": "La charpente proposée est-elle adaptée ?",
        **over,
    }
    return client.post(f"/dossiers/{case.pk}/experts/inviter/", data)


def link_of(message) -> str:
    return re.search(r"(/avis-expert/[^/\s]+/)", message.body).group(1)


def test_the_agent_invites_and_the_expert_answers_once(client, django_capture_on_commit_callbacks):
    porteur, agent = f.porteur(), f.agent()
    case, doc = dossier(porteur)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite_by_page(client, agent, case)
    assert response.status_code == 302 and response["Location"].endswith("#expert")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["claire.fabre@example.org"]
    link = link_of(message)
    token = link.split("/")[2]
    invitation = ExpertInvitation.objects.get(case=case)
    assert invitation.token_hash == token_hash(token) and token not in invitation.token_hash
    assert not ExpertInvitation.objects.filter(token_hash=token).exists()  # never in clear
    assert dt.timedelta(days=29) < invitation.expires_at - timezone.now() <= dt.timedelta(days=30)

    client.logout()  # the expert has no account
    page = client.get(link)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Salle des fêtes de Lautrec" in text and "La charpente proposée" in text
    assert "devis-charpente.pdf" in text
    piece = client.get(f"{link}pieces/{doc.pk}/")
    assert piece.status_code == 200 and b"".join(piece.streaming_content) == PDF

    empty = client.post(link, {"answer": "  "})
    assert empty.status_code == 400 and "Écrivez votre avis" in empty.content.decode()
    done = client.post(
        link, {"answer": "Charpente adaptée, portée à vérifier.", "answer_value": "favourable"}
    )
    assert done.status_code == 200 and "votre avis est enregistré" in done.content.decode()
    invitation.refresh_from_db()
    assert invitation.answered_at and invitation.answer_value == "favourable"

    again = client.get(link)
    assert again.status_code == 410
    assert "Ce lien a déjà été utilisé" in again.content.decode()
    assert "Salle des fêtes" not in again.content.decode()
    assert client.post(link, {"answer": "Autre avis"}).status_code == 410
    assert client.get(f"{link}pieces/{doc.pk}/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.answer == "Charpente adaptée, portée à vérifier."

    client.force_login(agent)
    detail = client.get(f"/dossiers/{case.pk}/").content.decode()
    assert "Avis de Claire Fabre (expert extérieur) : favorable" in detail
    assert "Avis de l&#x27;expert extérieur reçu : favorable" in detail  # the history
    assert "Avis demandé à un expert extérieur (Claire Fabre)" in detail


def test_an_expired_link_says_so_in_french(client):
    porteur, agent = f.porteur(), f.agent()
    case, _ = dossier(porteur)
    invitation, token = expert_invite(
        actor=agent, case=case, name="Paul Roux", email="p@example.org", question="Avis ?"
    )
    ExpertInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    page = client.get(f"/avis-expert/{token}/")
    assert page.status_code == 410
    text = page.content.decode()
    assert "Ce lien a expiré le" in text and case.title not in text
    assert client.post(f"/avis-expert/{token}/", {"answer": "Trop tard"}).status_code == 410
    invitation.refresh_from_db()
    assert invitation.answered_at is None
    client.force_login(agent)
    assert "lien expiré le" in client.get(f"/dossiers/{case.pk}/").content.decode()


def test_a_wrong_token_is_a_404(client):
    porteur, agent = f.porteur(), f.agent()
    case, _ = dossier(porteur)
    _, token = expert_invite(
        actor=agent, case=case, name="Paul Roux", email="p@example.org", question="Avis ?"
    )
    assert client.get(f"/avis-expert/{token[:-1]}x/").status_code in (404,)
    assert client.get("/avis-expert/" + "a" * 500 + "/").status_code == 404
    assert client.post("/avis-expert/nope/", {"answer": "x"}).status_code == 404


def test_a_token_opens_its_own_dossier_and_nothing_else(client):
    porteur, agent = f.porteur(), f.agent()
    case, doc = dossier(porteur)
    other, other_doc = dossier(porteur, title="Médiathèque de Graulhet")
    _, token = expert_invite(
        actor=agent, case=case, name="Paul Roux", email="p@example.org", question="Avis ?"
    )
    page = client.get(f"/avis-expert/{token}/").content.decode()
    assert "Médiathèque de Graulhet" not in page
    assert client.get(f"/avis-expert/{token}/pieces/{other_doc.pk}/").status_code == 404
    assert client.get(f"/avis-expert/{token}/pieces/{doc.pk}/").status_code == 200
    # the link is no session: the other dossier and the desk's pages stay closed
    assert client.get(f"/dossiers/{other.pk}/")["Location"].startswith("/connexion/")
    assert client.get(f"/pieces/{other_doc.pk}/telecharger/")["Location"].startswith("/connexion/")


def test_who_may_invite_and_bad_input(client):
    porteur, agent = f.porteur(), f.agent()
    case, _ = dossier(porteur)
    client.force_login(porteur)
    refused = client.post(
        f"/dossiers/{case.pk}/experts/inviter/",
        {"name": "X", "email": "x@example.org", "question": "?"},
    )
    assert refused.status_code in (403, 404)
    bad = invite_by_page(client, agent, case, email="pas-une-adresse")
    assert bad.status_code == 400
    assert "Adresse électronique invalide" in bad.content.decode()
    assert not ExpertInvitation.objects.exists() and not mail.outbox


def test_two_answers_through_the_same_link_record_one():
    from cases.services.experts import expert_answer
    from engine.errors import DomainError

    porteur, agent = f.porteur(), f.agent()
    case, _ = dossier(porteur)
    _, token = expert_invite(
        actor=agent, case=case, name="Paul Roux", email="p@example.org", question="Avis ?"
    )
    expert_answer(token=token, answer="Premier")
    with pytest.raises(DomainError) as exc:
        expert_answer(token=token, answer="Second", value="unfavourable")
    assert "déjà été utilisé" in exc.value.message
    assert ExpertInvitation.objects.get().answer == "Premier"
