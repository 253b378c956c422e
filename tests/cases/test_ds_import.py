"""Import of a Démarches Simplifiées démarche (issue 15 point 2), against a local GraphQL
server built from DS's published schema with recorded example data (``ds_server``): the
mapping to organisation, dossier and plan, the documents downloaded and checked, one
import per dossier, idempotent re-runs, resuming after a failure, the report."""

from __future__ import annotations

import base64
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from graphql import parse, validate

from cases.ds import client
from cases.ds.importer import demarche_import
from cases.models import Case, Document, DsDemarche, DsImport, Organisation
from tests import factories as f
from tests.cases.ds_server import INSTRUCTEUR, SCHEMA, TOKEN, DsServer

pytestmark = pytest.mark.django_db


def descriptor(n: int) -> str:
    return base64.b64encode(f"Champ-{n}".encode()).decode()


MAPPING = {
    "title": "Intitulé du projet",
    "description": descriptor(1002),
    "organisation_kind": "commune",
    "tax_basis": "HT",
    "expenses": [{"label": "Travaux", "amount": "Montant des travaux HT"}],
    "resources": [
        {"kind": "scheme", "amount": descriptor(1004)},
        {"kind": "other_public", "label": "Région Occitanie", "amount": "Aide de la Région"},
        {"kind": "self", "amount": "Autofinancement"},
    ],
    "documents": [{"champ": "Devis et plans", "kind": "other", "label": "Devis et plans (DS)"}],
}


@pytest.fixture
def ds(settings, monkeypatch):
    with DsServer() as server:
        settings.GUICHET_DS_API_URL = f"{server.url}/api/v2/graphql"
        settings.GUICHET_DS_PAGE_SIZE = 2
        settings.GUICHET_DS_TIMEOUT = 5
        monkeypatch.setenv("DS_TOKEN_TEST", TOKEN)
        yield server
    assert server.invalid == [], "a query or mutation that DS's schema refuses"


def declare(**kw) -> DsDemarche:
    """A démarche as the administrator declares it in the admin."""
    fields = {
        "number": 4242,
        "label": "DETR 2026",
        "token_env": "DS_TOKEN_TEST",
        "instructeur_id": INSTRUCTEUR,
        "agent": f.agent(),
        "scheme": f.scheme("DETR"),
        "mapping": MAPPING,
    }
    return DsDemarche.objects.create(**{**fields, **kw})


@pytest.fixture
def demarche():
    return declare()


def imported(number: int) -> DsImport:
    return DsImport.objects.get(ds_number=number)


def pages_asked(ds: DsServer) -> list:
    return [b["variables"].get("after") for b in ds.received if "demarche" in b["query"]]


def test_every_query_and_mutation_is_valid_against_the_published_schema():
    names = sorted(p.stem for p in client.QUERIES.glob("*.graphql") if p.stem != client.FRAGMENTS)
    assert len(names) == 5
    for name in names:
        assert validate(SCHEMA, parse(client.query_text(name))) == [], name


def test_the_local_server_refuses_what_ds_does_not_have(ds):
    status, answer = ds.execute({"query": "{ demarche(number: 4242) { budget } }"})
    assert status == 200 and "budget" in answer["errors"][0]["message"]
    assert ds.invalid
    ds.invalid.clear()


def test_import_maps_the_dossiers_their_plan_and_documents(ds, demarche):
    report = demarche_import(demarche=demarche).as_dict()
    assert (report["created"], report["skipped"], report["failed"]) == (2, 1, 1)
    assert report["complete"] and not report["error"]
    assert pages_asked(ds) == [None, "cursor-2"]

    case = imported(101).case
    assert case.title == "Rénovation énergétique de l'école Jean-Jaurès"
    assert "Isolation des combles" in case.description and "n° 101" in case.description
    assert case.state == "draft" and case.tax_basis == "HT"
    org = case.organisation
    assert (org.siren, org.name, org.kind) == ("218106003", "COMMUNE DE CARMAUX", "commune")
    assert org.commune.insee == "81060"
    assert [(e.label, e.amount) for e in case.expenses.all()] == [("Travaux", Decimal("120000"))]
    assert [(r.kind, r.scheme and r.scheme.code, r.amount) for r in case.resources.all()] == [
        ("scheme", "DETR", Decimal("48000")),
        ("self", None, Decimal("72000")),
    ]
    (doc,) = case.documents.all()
    raw = (Path(__file__).parent / "data" / "ds" / "files" / "devis-101.pdf").read_bytes()
    assert (doc.filename, doc.size, doc.kind, doc.label) == (
        "devis-101.pdf",
        len(raw),
        "other",
        "Devis et plans (DS)",
    )
    assert doc.file.read() == raw

    second = imported(102)
    assert second.case.resources.get(kind="other_public").amount == Decimal("60000")
    assert list(second.case.documents.values_list("filename", flat=True)) == ["plan-102.pdf"]
    assert "notice-102.exe" not in str(second.case.documents.all())
    assert any("format refusé" in w for w in second.warnings)
    assert imported(103).status == "skipped" and "accepté sur DS" in imported(103).reason
    assert imported(103).case is None
    assert imported(104).status == "failed" and "personne physique" in imported(104).reason
    demarche.refresh_from_db()
    assert demarche.last_report["created"] == 2 and demarche.cursor == ""
    assert demarche.synced_at is None  # a failure is left: the next pass reads everything


def test_a_second_run_creates_nothing_and_a_change_on_ds_updates(ds, demarche):
    demarche_import(demarche=demarche)
    cases, documents = Case.objects.count(), Document.objects.count()
    report = demarche_import(demarche=demarche).as_dict()
    assert (report["created"], report["updated"], report["failed"]) == (0, 0, 1)
    assert {line["number"]: line["status"] for line in report["lines"]} == {
        101: "skipped",
        102: "skipped",
        103: "skipped",
        104: "failed",
    }
    assert (Case.objects.count(), Document.objects.count()) == (cases, documents)
    assert imported(104).attempts == 2

    dossier = ds.dossier(101)
    dossier["champs"][0]["stringValue"] = "Rénovation de l'école Jean-Jaurès (tranche 1)"
    dossier["dateDerniereModification"] = "2026-01-30T11:00:00+01:00"
    report = demarche_import(demarche=demarche).as_dict()
    assert report["updated"] == 1 and Case.objects.count() == cases
    assert imported(101).case.title == "Rénovation de l'école Jean-Jaurès (tranche 1)"
    assert Document.objects.count() == documents  # the same file is not attached twice
    assert Organisation.objects.filter(siren="218106003").count() == 1


def test_a_pass_without_failure_asks_only_for_what_changed_since(ds, demarche):
    ds.demarche["dossiers"].pop()  # no failing dossier left
    demarche_import(demarche=demarche)
    demarche.refresh_from_db()
    synced = demarche.synced_at
    assert synced is not None
    ds.received.clear()
    demarche_import(demarche=demarche)
    assert ds.received[0]["variables"]["updatedSince"] == synced.isoformat()


def test_a_run_stopped_by_ds_resumes_after_the_last_page_done(ds, demarche):
    ds.fail_pages_after = {"cursor-2"}
    report = demarche_import(demarche=demarche)
    assert not report.complete and "erreur HTTP 500" in report.error
    assert "reprendra" in report.summary()
    demarche.refresh_from_db()
    assert demarche.cursor == "cursor-2" and demarche.last_report["created"] == 2
    assert not DsImport.objects.filter(ds_number__in=[103, 104]).exists()

    ds.fail_pages_after = set()
    ds.received.clear()
    report = demarche_import(demarche=demarche).as_dict()
    assert pages_asked(ds) == ["cursor-2"]  # resumed: page one is not read again
    assert report["complete"] and (report["skipped"], report["failed"]) == (1, 1)
    assert DsImport.objects.filter(status="created").count() == 2
    demarche.refresh_from_db()
    assert demarche.cursor == ""


def test_a_file_ds_does_not_serve_fails_the_dossier_until_it_does(ds, demarche):
    ds.missing_files = {"devis-101.pdf"}
    demarche_import(demarche=demarche)
    assert imported(101).status == "failed" and "HTTP 404" in imported(101).reason
    assert imported(101).case is None
    assert not Case.objects.filter(title__startswith="Rénovation énergétique").exists()
    ds.missing_files = set()
    report = demarche_import(demarche=demarche).as_dict()
    assert report["created"] == 1 and imported(101).case.documents.count() == 1


def test_a_file_altered_in_transfer_is_refused(ds, demarche):
    ds.dossier(101)["champs"][6]["files"][0]["checksum"] = "AAAAAAAAAAAAAAAAAAAAAA=="
    demarche_import(demarche=demarche)
    assert imported(101).status == "failed" and "somme de contrôle" in imported(101).reason


def test_a_mapping_that_names_a_missing_champ_says_so(ds, demarche):
    demarche.mapping = {**MAPPING, "title": "Nom du projet"}
    demarche.save()
    demarche_import(demarche=demarche)
    assert "« Nom du projet »" in imported(101).reason and imported(101).status == "failed"


def test_token_missing_or_refused(ds, demarche, monkeypatch):
    monkeypatch.delenv("DS_TOKEN_TEST")
    report = demarche_import(demarche=demarche)
    assert "DS_TOKEN_TEST" in report.error and TOKEN not in report.error
    monkeypatch.setenv("DS_TOKEN_TEST", "wrong")
    assert "refuse le jeton" in demarche_import(demarche=demarche).error
    assert not DsImport.objects.exists()


def test_no_other_server_variable_is_sent_as_a_token(ds, demarche, settings):
    """An admin naming SECRET_KEY as the token's variable: refused by the form, and, for a
    row written otherwise, by the client before anything is sent."""
    from django.core.exceptions import ValidationError

    demarche.token_env = "SECRET_KEY"
    with pytest.raises(ValidationError) as err:
        demarche.full_clean()
    assert "DS_TOKEN_" in str(err.value.message_dict["token_env"])
    demarche.save()
    ds.received.clear()
    report = demarche_import(demarche=demarche)
    assert "DS_TOKEN_" in report.error and settings.SECRET_KEY not in report.error
    assert ds.received == [] and not DsImport.objects.exists()


def test_the_command_prints_the_report(ds, demarche):
    out = StringIO()
    call_command("ds_import", "4242", "--details", stdout=out)
    text = out.getvalue()
    assert "2 créé(s)" in text and "1 en échec" in text and "n° 104 failed" in text
    with pytest.raises(CommandError, match="inconnue"):
        call_command("ds_import", "9999", stdout=StringIO())


def test_an_unexpected_error_on_one_dossier_does_not_stop_the_others(ds, demarche, monkeypatch):
    from cases.ds import importer

    real = importer.dossier_map

    def broken(node, **kw):
        if node["number"] == 101:
            raise KeyError("champs")
        return real(node, **kw)

    monkeypatch.setattr(importer, "dossier_map", broken)
    report = demarche_import(demarche=demarche).as_dict()
    assert report["complete"] and report["created"] == 1
    assert imported(101).status == "failed" and "inattendue" in imported(101).reason


def test_the_admin_lists_and_imports(ds, demarche, client):
    admin_user = f.UserFactory(is_superuser=True, is_staff=True, role="admin")
    client.force_login(admin_user)
    for model in ("dsdemarche", "dsimport", "dspush"):
        assert client.get(f"/admin/cases/{model}/").status_code == 200, model
    page = client.post(
        "/admin/cases/dsdemarche/",
        {"action": "import_now", "_selected_action": [demarche.pk]},
        follow=True,
    )
    assert "2 créé(s)" in page.content.decode()
    assert client.get(f"/admin/cases/dsdemarche/{demarche.pk}/change/").status_code == 200


def test_the_demarche_checks_its_agent_and_mapping(demarche):
    from django.core.exceptions import ValidationError

    demarche.full_clean()
    demarche.mapping = {**MAPPING, "titre": "x"}
    demarche.agent = f.porteur()
    demarche.token_env = "ds token"
    with pytest.raises(ValidationError) as err:
        demarche.full_clean()
    assert set(err.value.message_dict) == {"mapping", "agent", "token_env"}
    assert "titre" in str(err.value.message_dict["mapping"])


def test_one_token_per_instructor_group(ds, monkeypatch):
    monkeypatch.setenv("DS_TOKEN_G11", "ds-token-group-11")
    monkeypatch.setenv("DS_TOKEN_G12", "ds-token-group-12")
    g11 = declare(groupe_instructeur=11, token_env="DS_TOKEN_G11", label="Carmausin")
    g12 = declare(groupe_instructeur=12, token_env="DS_TOKEN_G12", label="Ségala")
    first = demarche_import(demarche=g11)
    assert "(groupe instructeur 11)" in first.summary()
    assert {line["number"]: line["status"] for line in first.lines} == {
        101: "created",
        103: "skipped",
    }
    second = demarche_import(demarche=g12).as_dict()
    assert {line["number"]: line["status"] for line in second["lines"]} == {
        102: "created",
        104: "failed",
    }
    asked = [b["variables"].get("groupeInstructeurNumber") for b in ds.received]
    assert asked == [11, 12] and all("groupeInstructeur(number" in b["query"] for b in ds.received)

    # DS hides a group from another group's token
    g11.token_env = "DS_TOKEN_G12"
    g11.save()
    assert "hidden due to permissions" in demarche_import(demarche=g11).error

    # a dossier moved to the other group on DS is not imported a second time
    moved = ds.dossier(101)
    moved["groupeInstructeur"] = ds.dossier(102)["groupeInstructeur"]
    moved["dateDerniereModification"] = "2026-02-10T08:00:00+01:00"
    third = demarche_import(demarche=g12)
    line = next(x for x in third.lines if x["number"] == 101)
    assert (
        line["status"] == "skipped"
        and "Déjà importé par « DS n° 4242 (groupe 11)" in line["reason"]
    )
    assert Case.objects.filter(ds_imports__ds_number=101).count() == 1
