"""Porteur pages through the test client, as a mayor would use them: filing a dossier step
by step, the acknowledgement of receipt, following the dossier, and isolation between
organisations."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import builders, services
from cases.models import Case, CaseState, Document, Message
from engine.transitions import transition_apply
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%guichet test\n1 0 obj <<>> endobj\n"


def management(prefix: str, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "100",
    }


def plan_post(expenses, resources, action="save") -> dict:
    data = {
        "action": action,
        **management("dep", len(expenses)),
        **management("res", len(resources)),
    }
    for i, (label, amount, tax, eligible) in enumerate(expenses):
        data.update({f"dep-{i}-label": label, f"dep-{i}-amount": amount, f"dep-{i}-tax": tax})
        if eligible:
            data[f"dep-{i}-eligible"] = "on"
    for i, (source, amount) in enumerate(resources):
        data.update({f"res-{i}-source": source, f"res-{i}-amount": amount, f"res-{i}-label": ""})
    return data


def html(response) -> str:
    return re.sub("[\u202f\xa0]", " ", htmllib.unescape(response.content.decode()))


def text_of(pdf: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def upload(client, case, kind, content=PDF, name=None):
    file = SimpleUploadedFile(name or f"{kind}.pdf", content, content_type="application/pdf")
    return client.post(
        f"/dossiers/{case.pk}/etapes/pieces/", {"kind": kind, "file": file, "label": ""}
    )


def test_intake_wizard_end_to_end_then_acknowledgement(client):
    agent = f.agent(first_name="Claire", last_name="Martin", phone="05 63 00 00 00")
    porteur = f.porteur()
    client.force_login(porteur)

    # step 1: the project; a missing title is announced, what was typed stays
    start = client.get("/deposer/")
    assert start.status_code == 200
    assert 'for="id_title"' in html(start) and 'aria-current="step"' in html(start)
    commune = porteur.organisation.commune
    bad = client.post("/deposer/", {"description": "Une salle pour tous", "action": "next"})
    assert bad.status_code == 200
    page = html(bad)
    assert "Indiquez le titre du projet." in page and 'href="#id_title"' in page
    assert 'aria-invalid="true"' in page and "Une salle pour tous" in page
    assert not Case.objects.exists()
    created = client.post(
        "/deposer/",
        {
            "title": "Maison des associations",
            "description": "Une salle pour tous",
            "theme": "culture",
            "communes": [commune.insee],
            "action": "next",
        },
    )
    case = Case.objects.get()
    assert case.state == CaseState.DRAFT and case.organisation == porteur.organisation
    assert case.referent_agent == agent
    assert created["Location"] == f"/dossiers/{case.pk}/etapes/plan/"
    assert list(case.communes.values_list("insee", flat=True)) == [commune.insee]

    # step 2: an unbalanced plan is saved as a draft, with the rule's French message
    plan_page = client.get(f"/dossiers/{case.pk}/etapes/plan/")
    assert 'aria-live="polite"' in html(plan_page) and "web/plan.js" in html(plan_page)
    expenses = [("Travaux", "180 000,00", "HT", True), ("Maîtrise d'œuvre", "20000", "HT", True)]
    unbalanced = [("scheme:DETR", "40000"), ("scheme:LEADER", "40000"), ("self", "100000")]
    saved = client.post(f"/dossiers/{case.pk}/etapes/plan/", plan_post(expenses, unbalanced))
    assert saved.status_code == 302
    page = html(client.get(saved["Location"]))
    assert "Plan déséquilibré" in page and "écart de 20" in page
    # a typing error is shown on its cell and nothing is saved
    typo = client.post(
        f"/dossiers/{case.pk}/etapes/plan/",
        plan_post([("Travaux", "12,345", "HT", True)], []),
    )
    assert typo.status_code == 200 and "Deux décimales au plus." in html(typo)
    assert 'value="12,345"' in html(typo)
    assert case.expenses.count() == 2
    # corrected: balanced
    balanced = [("scheme:DETR", "40000"), ("scheme:LEADER", "40000"), ("self", "120000")]
    client.post(f"/dossiers/{case.pk}/etapes/plan/", plan_post(expenses, balanced, "next"))
    page = html(client.get(f"/dossiers/{case.pk}/etapes/plan/"))
    assert "Le plan de financement respecte toutes les règles." in page

    # "ajouter une ligne" without JavaScript: one more blank row
    more = client.post(
        f"/dossiers/{case.pk}/etapes/plan/?depenses=2&ressources=2",
        plan_post(expenses, balanced, "add_expense"),
    )
    assert "depenses=3" in more["Location"]
    assert 'name="dep-4-label"' in html(client.get(more["Location"]))

    # step 3: schemes with their rules; LEADER below its floor is reported
    schemes = client.get(f"/dossiers/{case.pk}/etapes/dispositifs/")
    page = html(schemes)
    assert "Aide minimale" in page and "10 000,00 €" in page and "270 jours" in page
    assert "Relevé d'identité bancaire" in page
    low = {
        "use_DETR": "on",
        "amount_DETR": "40000",
        "use_LEADER": "on",
        "amount_LEADER": "5000",
        "action": "save",
    }
    client.post(f"/dossiers/{case.pk}/etapes/dispositifs/", low)
    page = html(client.get(f"/dossiers/{case.pk}/etapes/dispositifs/"))
    assert "l'aide LEADER doit être d'au moins 10 000,00 €" in page
    good = {**low, "amount_LEADER": "40000"}
    client.post(f"/dossiers/{case.pk}/etapes/dispositifs/", good)
    assert {r.scheme.code: str(r.amount) for r in case.resources.filter(kind="scheme")} == {
        "DETR": "40000.00",
        "LEADER": "40000.00",
    }

    # step 5 before the documents: the guard's French reasons, nothing lost
    refused = client.post(f"/dossiers/{case.pk}/etapes/recapitulatif/", {"action": "submit"})
    assert refused.status_code == 200
    assert "Pièce manquante : Relevé d'identité bancaire (demandée par LEADER" in html(refused)
    assert f'href="/dossiers/{case.pk}/etapes/pieces/#piece-rib"' in html(refused)
    case.refresh_from_db()
    assert case.state == CaseState.DRAFT and case.expenses.count() == 2

    # step 4: uploads; an HTML page disguised as a PDF is refused and said so
    disguised = upload(
        client, case, "devis", b"<html><script>alert(1)</script></html>", "devis.pdf"
    )
    assert disguised.status_code == 200
    page = html(disguised)
    assert "Format refusé" in page and 'aria-invalid="true"' in page
    assert 'href="#id_devis-file"' in page
    assert not Document.objects.exists()
    codes = ["deliberation", "devis", "note_explicative", "plan_situation", "rib", "regularite"]
    for code in codes:
        assert upload(client, case, code).status_code == 302
    page = html(client.get(f"/dossiers/{case.pk}/etapes/pieces/"))
    assert "Manquante" not in page

    # step 5: submit
    done = client.post(f"/dossiers/{case.pk}/etapes/recapitulatif/", {"action": "submit"})
    assert done["Location"] == f"/mes-dossiers/{case.pk}/"
    case.refresh_from_db()
    today = timezone.localdate()
    assert case.state == CaseState.SUBMITTED and case.receipt_date == today
    assert {fr.scheme.code for fr in case.funding_requests.all()} == {"DETR", "LEADER"}
    # the wizard no longer edits a submitted dossier
    assert (
        client.get(f"/dossiers/{case.pk}/etapes/plan/")["Location"] == f"/mes-dossiers/{case.pk}/"
    )

    # the desk's récépissé
    ack = client.get(f"/dossiers/{case.pk}/accuse-reception.pdf")
    assert ack.status_code == 200 and ack["Content-Type"] == "application/pdf"
    assert ack["Content-Disposition"].startswith("attachment;")
    assert ack.content.startswith(b"%PDF")
    text = re.sub(r"\s+", " ", text_of(ack.content))
    assert case.reference in text and porteur.organisation.name in text
    # revised rules 1-3 (ADR 009): eligibility and the legal delays run per request from
    # its funder's receipt, unknown until then: the récépissé says what they run from
    assert "Date de réception au guichet" in text and f"{today:%d/%m/%Y}" in text
    assert "Dépenses éligibles à compter du" in text and "pas encore reçue" in text
    assert "40 000,00 €" in text and "Claire Martin" in text and "05 63 00 00 00" in text
    # the CRPA acknowledgement (R112-5) is per request: LEADER's at once (the desk
    # instructs it), DETR's once the préfecture has received it
    leader = case.funding_requests.get(scheme__code="LEADER")
    detr = case.funding_requests.get(scheme__code="DETR")
    ack = client.get(f"/dossiers/{case.pk}/demandes/{leader.pk}/accuse-reception.pdf")
    text = re.sub(r"\s+", " ", text_of(ack.content))
    assert f"Reçue par le financeur le {today:%d/%m/%Y}" in text
    assert "Décision implicite de rejet" in text and "L231-4" in text
    assert "tribunal administratif" in text and "Claire Martin" in text
    assert (
        client.get(f"/dossiers/{case.pk}/demandes/{detr.pk}/accuse-reception.pdf").status_code
        == 404
    )


def test_acknowledgement_uses_the_implicit_decision_deadline_once_complete(client):
    porteur = f.porteur()
    agent = f.agent()
    case = submitted_case(porteur, receipt="2026-01-15")
    transition_apply(
        instance=case, name="declare_complete", actor=agent, data={"date": "2026-02-02"}
    )
    client.force_login(porteur)
    fr = case.funding_requests.get()
    recepisse = f"/dossiers/{case.pk}/accuse-reception.pdf"
    request_ack = f"/dossiers/{case.pk}/demandes/{fr.pk}/accuse-reception.pdf"

    def pdf_text(url=request_ack):
        pdf = client.get(url).content
        return re.sub(r"\s+", " ", text_of(pdf))

    # revised rules 1-3 (ADR 009): the desk's check does not start DETR's clocks, the
    # préfecture's own receipt and completeness do; until then the récépissé says so and
    # the request has no acknowledgement yet
    text = pdf_text(recepisse)
    assert "15/01/2026" in text and "pas encore reçue" in text
    assert client.get(request_ack).status_code == 404
    prefecture = f.funder_instructor("ETAT")
    transition_apply(instance=fr, name="acknowledge", actor=prefecture, data={"date": "2026-01-20"})
    text = pdf_text()
    assert "20/01/2026" in text  # the préfecture's receipt, start of eligibility
    assert "au plus tard le 20/04/2026 (3 mois" in text  # its completeness deadline
    assert "réputée complète" in text
    assert "22/06/2026*" in text  # then 2 months, computed (20 June is a Saturday)
    transition_apply(
        instance=fr, name="declare_complete", actor=prefecture, data={"date": "2026-02-02"}
    )
    fr.refresh_from_db()
    assert fr.implicit_decision_on == dt.date(2026, 4, 2)
    text = pdf_text()
    assert "02/02/2026" in text  # the request's own completeness
    assert "02/04/2026" in text  # its implicit decision (2 Feb + 2 months)
    assert "02/04/2026*" not in text  # the request's stored date, not computed


def submitted_case(porteur, receipt="2026-01-15", schemes=("DETR",)):
    return builders.dossier(porteur=porteur, stage="submitted", receipt=receipt, content=PDF)


def test_follow_up_page_documents_messages_actions_and_payments(client):
    porteur = f.porteur()
    agent = f.agent(first_name="Paul", last_name="Durand", phone="05 63 11 22 33")
    prefecture = f.funder_instructor("ETAT")
    case = submitted_case(porteur, receipt="2026-01-15")
    case.referent_agent = agent
    Case.objects.filter(pk=case.pk).update(referent_agent=agent)
    transition_apply(
        instance=case,
        name="request_documents",
        actor=agent,
        data={"documents": ["Plan de financement signé"], "date": "2026-01-20"},
    )
    services.message_post(actor=agent, case=case, body="Bonjour, il manque le plan signé.")
    services.message_post(actor=agent, case=case, body="Note : maire injoignable.", internal=True)
    client.force_login(porteur)

    page = html(client.get(f"/mes-dossiers/{case.pk}/"))
    assert "Incomplet" in page and "Plan de financement signé" in page
    assert "Paul Durand" in page and "05 63 11 22 33" in page
    assert "Fournir les pièces demandées" in page and "<strong>Vous</strong>" in page
    assert "Dossier déposé (date de réception)" in page
    assert "Pièces complémentaires demandées" in page
    assert "il manque le plan signé" in page and "maire injoignable" not in page
    assert "Transmettre les pièces" in page

    # transmitting before attaching anything: the guard's reason, in French
    early = client.post(f"/mes-dossiers/{case.pk}/action/", {"transition": "provide_documents"})
    assert early.status_code == 400
    assert "Joignez au moins une pièce depuis la demande" in html(early)
    # a refused file on the follow-up page
    bad = client.post(
        f"/mes-dossiers/{case.pk}/pieces/",
        {"kind": "other", "file": SimpleUploadedFile("plan.pdf", b"<html></html>")},
    )
    assert bad.status_code == 400 and "Format refusé" in html(bad)
    ok = client.post(
        f"/mes-dossiers/{case.pk}/pieces/",
        {"kind": "other", "label": "Plan signé", "file": SimpleUploadedFile("plan.pdf", PDF)},
    )
    assert ok.status_code == 302
    sent = client.post(f"/mes-dossiers/{case.pk}/action/", {"transition": "provide_documents"})
    assert sent.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED and case.missing_documents == []

    # a message to the agent; an empty one is refused with its message
    empty = client.post(f"/mes-dossiers/{case.pk}/message/", {"body": "  "})
    assert empty.status_code == 400 and "Écrivez votre message." in html(empty)
    client.post(f"/mes-dossiers/{case.pk}/message/", {"body": "Voici le plan signé."})
    assert Message.objects.filter(case=case, author=porteur, internal=False).count() == 1

    # decisions, then the porteur starts the works from the page
    transition_apply(
        instance=case, name="declare_complete", actor=agent, data={"date": "2026-01-26"}
    )
    fr = case.funding_requests.get()
    # revised rule 1 (ADR 009): the préfecture's own receipt, dated, starts the eligibility
    # of DETR's expenses (undated, it would be today and the start of works below ineligible)
    builders.requests_instruction_start(case, instructor=prefecture)
    fr.refresh_from_db()
    transition_apply(
        instance=fr,
        name="grant",
        actor=prefecture,
        data={"amount_granted": "35000.00", "date": "2026-03-02"},
    )
    transition_apply(instance=fr, name="commit", actor=prefecture, data={"date": "2026-03-10"})
    page = html(client.get(f"/mes-dossiers/{case.pk}/"))
    assert "Décisions des financeurs" in page and "35 000,00 €" in page
    assert "Déclarer le début des travaux" in page
    early = client.post(
        f"/mes-dossiers/{case.pk}/action/", {"transition": "start_works", "date": "2026-01-10"}
    )
    assert early.status_code == 400
    assert "avant la date de réception" in html(early) and 'value="2026-01-10"' in html(early)
    future = client.post(
        f"/mes-dossiers/{case.pk}/action/", {"transition": "start_works", "date": "2099-01-01"}
    )
    assert "ne peut pas être dans le futur" in html(future)
    client.post(
        f"/mes-dossiers/{case.pk}/action/", {"transition": "start_works", "date": "2026-03-16"}
    )
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS

    # a payment claim: too big an advance is refused at its form, and leaves no draft
    too_much = client.post(
        f"/mes-dossiers/{case.pk}/paiement/",
        {"funding_request": fr.pk, "kind": "advance", "amount": "20000", "action": "file"},
    )
    assert too_much.status_code == 400 and "30 %" in html(too_much)
    assert not fr.claims.exists()
    client.post(
        f"/mes-dossiers/{case.pk}/paiement/",
        {
            "funding_request": fr.pk,
            "kind": "advance",
            "amount": "10 000,00",
            "filed_on": "2026-03-20",
            "action": "file",
        },
    )
    advance = fr.claims.get(state="filed")
    page = html(client.get(f"/mes-dossiers/{case.pk}/"))
    expected = max(
        advance.filed_on + __import__("datetime").timedelta(days=60), timezone.localdate()
    )
    assert f"prévu vers le {expected:%d/%m/%Y}" in page
    assert "Avance DETR : demande de paiement déposée" in page
    assert "encore attendu sur les aides accordées : <strong>35 000,00 €" in page
    # withdraw the dossier needs a reason
    no_reason = client.post(f"/mes-dossiers/{case.pk}/action/", {"transition": "withdraw"})
    assert no_reason.status_code == 400 and "motif" in html(no_reason)


def test_another_organisation_gets_404_everywhere(client):
    owner = f.porteur()
    case = submitted_case(owner)
    doc = case.documents.first()
    draft = services.case_create(actor=owner, data={"title": "Brouillon", "state": "draft"})
    fr = case.funding_requests.get()
    intruder = f.porteur()
    client.force_login(intruder)
    for url in [
        f"/mes-dossiers/{case.pk}/",
        f"/dossiers/{case.pk}/accuse-reception.pdf",
        f"/dossiers/{case.pk}/demandes/{fr.pk}/accuse-reception.pdf",
        f"/dossiers/{draft.pk}/etapes/projet/",
        f"/dossiers/{draft.pk}/etapes/plan/",
        f"/dossiers/{draft.pk}/etapes/recapitulatif/",
        f"/pieces/{doc.pk}/telecharger/",
        "/pieces/999999/telecharger/",
    ]:
        assert client.get(url).status_code == 404, url
    for url, data in [
        (f"/mes-dossiers/{case.pk}/message/", {"body": "Coucou"}),
        (f"/mes-dossiers/{case.pk}/action/", {"transition": "withdraw", "reason": "x"}),
        (f"/mes-dossiers/{case.pk}/pieces/", {"kind": "other"}),
        (f"/mes-dossiers/{case.pk}/paiement/", {"funding_request": fr.pk}),
        (f"/dossiers/{draft.pk}/etapes/projet/", {"title": "Piraté"}),
        (f"/dossiers/{draft.pk}/etapes/recapitulatif/", {"action": "submit"}),
    ]:
        assert client.post(url, data).status_code == 404, url
    # one's own dossier, but a request of another dossier as the target: 404 too
    mine = submitted_case(intruder)
    assert (
        client.post(
            f"/mes-dossiers/{mine.pk}/action/",
            {"transition": "withdraw", "target": f"request:{fr.pk}", "reason": "x"},
        ).status_code
        == 404
    )
    draft.refresh_from_db()
    case.refresh_from_db()
    assert draft.title == "Brouillon" and case.state == CaseState.SUBMITTED
    assert not Message.objects.exists()
    assert "Brouillon" not in html(client.get("/mes-dossiers/"))


def test_non_porteurs_are_sent_home_and_anonymous_to_login(client):
    assert client.get("/mes-dossiers/")["Location"].startswith("/connexion/")
    assert client.get("/deposer/")["Location"].startswith("/connexion/")
    client.force_login(f.agent())
    assert client.get("/deposer/")["Location"] == "/"


def test_my_cases_and_case_page_query_counts_do_not_grow(client, django_assert_max_num_queries):
    porteur = f.porteur()
    agent = f.agent()
    client.force_login(porteur)

    def build(n):
        for _ in range(n):
            case = submitted_case(porteur)
            services.message_post(actor=agent, case=case, body="Bonjour")
        return case

    build(1)
    with django_assert_max_num_queries(12):
        first = client.get("/mes-dossiers/")
    assert first.status_code == 200
    case = build(4)
    with django_assert_max_num_queries(12):
        page = client.get("/mes-dossiers/")
    assert html(page).count("Rénovation de l'école") == 5
    # the completeness deadline's label changed with revised rule 2 (no « réputé complet »
    # for the dossier any more)
    assert "Vérifier la complétude" in html(page)

    for code in ("devis", "rib"):
        for _ in range(3):
            services.document_upload(
                actor=porteur,
                case=case,
                kind=code,
                upload=SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf"),
            )
    for i in range(5):
        services.message_post(actor=porteur, case=case, body=f"Message {i}")
    with django_assert_max_num_queries(40) as counted:
        client.get(f"/mes-dossiers/{case.pk}/")
    few = len(counted.captured_queries)
    for i in range(5):
        services.message_post(actor=porteur, case=case, body=f"Encore {i}")
        services.document_upload(
            actor=porteur,
            case=case,
            kind="other",
            upload=SimpleUploadedFile("y.pdf", PDF, content_type="application/pdf"),
        )
    with django_assert_max_num_queries(few):
        client.get(f"/mes-dossiers/{case.pk}/")
