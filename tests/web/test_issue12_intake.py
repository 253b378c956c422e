"""Issue 12 points 6 and 7 on the intake wizard, and the controlled theme list: the
migration that merged the typed variants, the observatory's one row per theme, the API's
theme, every reason of a refused deposit at once, a chosen file never dropped, no funder
code shown to the porteur."""

from __future__ import annotations

import html as htmllib
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import builders, stats
from cases.models import Case, CaseState, Document, Theme
from cases.stats_scope import Filters
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%guichet test\n1 0 obj <<>> endobj\n"
merge = importlib.import_module("cases.migrations.0020_themes").merge_theme_variants


def html(response) -> str:
    return re.sub("[\u202f\xa0]", " ", htmllib.unescape(response.content.decode()))


def plan(*resources):
    return {
        "expenses": [{"label": "Travaux", "amount": "100000", "tax": "HT", "eligible": True}],
        "resources": [
            {"kind": "scheme", "scheme": code, "amount": amount} for code, amount in resources
        ],
    }


def draft(porteur, *resources, **data):
    return builders.case_build(
        porteur=porteur, title="Salle polyvalente", plan=plan(*resources), state="draft", **data
    )


def test_migration_merges_typed_variants_and_keeps_unknown_texts():
    porteur = f.porteur()
    typed = ["Economie et emploi", "économie  et emploi.", "ÉCONOMIE ET EMPLOI", "Pétanque locale"]
    cases = [builders.case_build(porteur=porteur, title=f"Projet {i}") for i in range(4)]
    for case, text in zip(cases, typed, strict=True):
        Case.objects.filter(pk=case.pk).update(theme=text, theme_ref=None)
    before = Theme.objects.count()

    merge(django_apps, None)
    merge(django_apps, None)  # run twice: nothing doubles

    economy = Theme.objects.get(label="Économie et emploi")
    rows = {c.pk: c for c in Case.objects.filter(pk__in=[c.pk for c in cases])}
    assert [rows[c.pk].theme_ref for c in cases[:3]] == [economy] * 3
    assert {rows[c.pk].theme for c in cases[:3]} == {"Économie et emploi"}
    new = rows[cases[3].pk].theme_ref
    assert new.label == "Pétanque locale" and new.slug == "petanque-locale"
    assert Theme.objects.count() == before + 1


def test_observatory_has_one_row_per_theme_and_api_takes_label_or_slug():
    porteur = f.porteur()
    agent = f.agent()
    builders.case_build(porteur=porteur, title="A", theme="Economie et emploi")
    builders.case_build(porteur=porteur, title="B", theme="économie-et-emploi")
    rows = stats.by_theme(user=agent, filters=Filters()).rows
    labels = [r["label"] for r in rows]
    assert labels.count("Économie et emploi") == 1
    assert next(r for r in rows if r["label"] == "Économie et emploi")["cases"] == 2

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=porteur)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    made = client.post("/api/v1/cases/", {"title": "C", "theme": "culture"}, format="json")
    assert made.status_code == 201 and made.json()["theme"] == "Culture"
    refused = client.post("/api/v1/cases/", {"title": "D", "theme": "Pétanque"}, format="json")
    assert refused.status_code == 400
    assert "Thème inconnu" in str(refused.json())
    assert Case.objects.filter(title="D").count() == 0


def test_project_step_offers_the_controlled_list(client):
    porteur = f.porteur()
    Theme.objects.filter(slug="sante").update(active=False)
    client.force_login(porteur)
    page = html(client.get("/deposer/"))
    assert '<select name="theme"' in page and '<option value="culture">Culture</option>' in page
    assert 'value="sante"' not in page and "datalist" not in page
    bad = client.post("/deposer/", {"title": "X", "theme": "n'importe quoi", "action": "save"})
    assert bad.status_code == 200 and "Choisissez un thème de la liste." in html(bad)
    assert not Case.objects.exists()


def test_refused_deposit_lists_plan_and_pieces_at_once_with_links(client):
    porteur = f.porteur()
    case = draft(porteur, ("DETR", "30000"), ("REGION_OCC", "10000"))  # unbalanced
    client.force_login(porteur)
    refused = client.post(f"/dossiers/{case.pk}/etapes/recapitulatif/", {"action": "submit"})
    assert refused.status_code == 200
    page = html(refused)
    assert f'href="/dossiers/{case.pk}/etapes/plan/"' in page
    assert "Plan de financement : Plan déséquilibré" in page
    assert f'href="/dossiers/{case.pk}/etapes/pieces/#piece-devis"' in page
    assert "Pièce manquante : Devis" in page
    assert "REGION_OCC" not in page
    case.refresh_from_db()
    assert case.state == CaseState.DRAFT


def test_a_chosen_file_is_attached_on_continue(client):
    porteur = f.porteur()
    case = draft(porteur, ("DETR", "30000"))
    client.force_login(porteur)
    page = html(client.get(f"/dossiers/{case.pk}/etapes/pieces/"))
    assert 'name="devis-file"' in page and 'value="next"' in page
    file = SimpleUploadedFile("devis.pdf", PDF, content_type="application/pdf")
    went = client.post(
        f"/dossiers/{case.pk}/etapes/pieces/", {"devis-file": file, "action": "next"}
    )
    assert went.status_code == 302
    assert went["Location"] == f"/dossiers/{case.pk}/etapes/recapitulatif/"
    assert list(Document.objects.filter(case=case).values_list("kind", flat=True)) == ["devis"]
    # « Joindre » pressed without a file: said, nothing else lost
    empty = client.post(f"/dossiers/{case.pk}/etapes/pieces/", {"attach": "devis"})
    assert empty.status_code == 200
    assert "Choisissez un fichier avant de cliquer sur « Joindre »." in html(empty)


def test_no_funder_code_in_the_wizard_pages(client):
    porteur = f.porteur()
    case = draft(porteur, ("REGION_OCC", "10000"))
    client.force_login(porteur)
    for step in ("plan", "dispositifs", "pieces", "recapitulatif"):
        page = html(client.get(f"/dossiers/{case.pk}/etapes/{step}/"))
        visible = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", page, flags=re.S))
        assert "REGION_OCC" not in visible, step
        assert "DEPT_TARN" not in visible, step
    page = html(client.get(f"/dossiers/{case.pk}/etapes/dispositifs/"))
    assert "Solliciter : Région Occitanie" in page
    assert "Solliciter : Dotation d'équipement des territoires ruraux (DETR)" in page


def test_autosave_saves_the_step_and_refuses_bad_input_in_french(client):
    porteur = f.porteur()
    case = draft(porteur, ("DETR", "30000"))
    client.force_login(porteur)
    page = html(client.get(f"/dossiers/{case.pk}/etapes/projet/"))
    assert f'data-autosave="/dossiers/{case.pk}/etapes/projet/brouillon/"' in page
    assert 'aria-live="polite"' in page and "web/autosave.js" in page
    url = f"/dossiers/{case.pk}/etapes/projet/brouillon/"

    saved = client.post(url, {"title": "Salle des fêtes", "theme": "culture"})
    assert saved.status_code == 200
    body = saved.json()
    assert body["saved"] is True and re.fullmatch(r"\d\d:\d\d", body["at"])
    assert body["message"] == f"Brouillon enregistré à {body['at']}"
    case.refresh_from_db()
    assert case.title == "Salle des fêtes" and case.theme == "Culture"
    # the returning porteur finds the draft
    assert 'value="Salle des fêtes"' in html(client.get(f"/dossiers/{case.pk}/etapes/projet/"))

    refused = client.post(url, {"title": "", "theme": "Pétanque"})
    assert refused.status_code == 400 and refused.json()["saved"] is False
    assert refused.json()["message"].startswith("Brouillon non enregistré : ")
    assert "Indiquez le titre du projet." in " ".join(refused.json()["errors"])
    case.refresh_from_db()
    assert case.title == "Salle des fêtes"

    plan_url = f"/dossiers/{case.pk}/etapes/plan/brouillon/"
    typo = client.post(
        plan_url,
        {
            "dep-TOTAL_FORMS": "1",
            "dep-INITIAL_FORMS": "0",
            "res-TOTAL_FORMS": "0",
            "res-INITIAL_FORMS": "0",
            "dep-0-label": "Travaux",
            "dep-0-amount": "12,345",
            "dep-0-tax": "HT",
        },
    )
    assert typo.status_code == 400 and "Deux décimales au plus." in str(typo.json())
    assert case.expenses.get().amount == 100000

    assert client.post(f"/dossiers/{case.pk}/etapes/pieces/brouillon/").status_code == 404
    assert client.get(url).status_code == 405
    other = f.porteur()
    client.force_login(other)
    assert client.post(url, {"title": "Intrus"}).status_code == 404
