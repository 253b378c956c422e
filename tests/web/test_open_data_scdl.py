"""The open-data files as the State publishes them (issue 15 point 4), validated with
``frictionless`` against the official Table Schemas committed in ``cases/data/scdl/``
(SOURCE.md): SCDL « subventions » 2.1.1 and SCDL « délibérations » 2.1.5 for the
programming committee's decisions. The schemas' own « custom checks » (SIRET key, vote
sums) are not part of Table Schema: the ones that concern our columns are checked here."""

import csv
import io
import json

import pytest
from frictionless import Resource, Schema, validate

from cases.scdl import DELIBERATION_COLUMNS, DELIBERATIONS_SCHEMA, SUBVENTIONS_SCHEMA
from schemes.identifiers import siret_valid
from schemes.models import Funder, Scheme
from tests.cases.test_committee import awaiting, close, members, session_for, vote
from tests.engine import walk

pytestmark = pytest.mark.django_db

ETAT_SIRET = "73282932000074"  # Luhn key right (the test's number, not a real one)
GAL_SIRET = "13002526500013"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


def csv_of(response) -> bytes:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content)


def report(data: bytes, schema_path, tmp_path):
    (tmp_path / "file.csv").write_bytes(data)
    schema = Schema.from_descriptor(json.loads(schema_path.read_text(encoding="utf-8")))
    resource = Resource(path="file.csv", basepath=str(tmp_path), schema=schema)
    return validate(resource)


def errors(rep) -> list:
    return rep.flatten(["rowNumber", "fieldName", "type", "note"])


def rows(data: bytes) -> list[dict]:
    table = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    return [dict(zip(table[0], r, strict=True)) for r in table[1:]]


def test_the_committed_schemas_are_the_official_versions():
    subventions = json.loads(SUBVENTIONS_SCHEMA.read_text(encoding="utf-8"))
    deliberations = json.loads(DELIBERATIONS_SCHEMA.read_text(encoding="utf-8"))
    assert (subventions["name"], subventions["version"]) == ("subventions", "2.1.1")
    assert (deliberations["name"], deliberations["version"]) == ("deliberations", "2.1.5")
    assert [f["name"] for f in deliberations["fields"]] == DELIBERATION_COLUMNS


def test_subventions_file_is_valid_scdl_2_1_1(client, tmp_path):
    for title, amount in (("Rénovation de l'école", "35000.00"), ("Salle = des fêtes", "20000")):
        case, _, _ = walk.instructing_case(walk.DETR_PLAN, title=title)
        fr = walk.grant_and_commit(case.funding_requests.get(), amount=amount)
    data = csv_of(client.get("/transparence/subventions.csv"))
    # the funder's SIRET not typed in yet: the required idAttribuant is missing, and
    # frictionless says so (the validation has teeth)
    rep = report(data, SUBVENTIONS_SCHEMA, tmp_path)
    assert not rep.valid
    assert {(e[1], e[2]) for e in errors(rep)} == {("idAttribuant", "constraint-error")}

    Funder.objects.filter(pk=fr.scheme.funder_id).update(siret=ETAT_SIRET)
    data = csv_of(client.get("/transparence/subventions.csv"))
    rep = report(data, SUBVENTIONS_SCHEMA, tmp_path)
    assert rep.valid, errors(rep)
    published = rows(data)
    assert len(published) == 2
    assert all(siret_valid(r["idAttribuant"]) for r in published)  # french-siret-value
    assert {r["dispositifAide"] for r in published} == {"DETR"}
    assert published[1]["montant"] == "20000.00"


def _closed_leader_session(agent):
    selected, adjourned = awaiting(agent, 2)
    everyone = members(2, agriculture=2, associations=2, entreprises=2, tourisme=2)  # 10
    present = everyone[:6]
    session = session_for(agent, present)
    vote(agent, session, selected, present[:4], "for")
    vote(agent, session, selected, present[4:5], "against")
    vote(agent, session, selected, present[5:], "abstain")
    vote(agent, session, adjourned, present[:3], "for")
    vote(agent, session, adjourned, present[3:6], "against")
    close(agent, session)
    return session, selected, adjourned


def test_committee_decisions_are_a_valid_scdl_deliberations_file(client, tmp_path):
    from tests import factories as f

    session, selected, other = _closed_leader_session(f.agent())
    funder = Scheme.objects.get(code="LEADER").funder
    Funder.objects.filter(pk=funder.pk).update(siret=GAL_SIRET)
    data = csv_of(client.get("/transparence/deliberations.csv"))
    rep = report(data, DELIBERATIONS_SCHEMA, tmp_path)
    assert rep.valid, errors(rep)
    published = {r["DELIB_ID"]: r for r in rows(data)}
    assert len(published) == 2
    first = published[f"CP{session.pk}-{selected.case.reference}"]
    assert (first["COLL_NOM"], first["COLL_SIRET"]) == (funder.name, GAL_SIRET)
    assert first["DELIB_DATE"] == session.date.isoformat()
    assert (first["DELIB_MATIERE_CODE"], first["DELIB_MATIERE_NOM"]) == (
        "7.5",
        "Finances locales/Subventions",
    )
    assert selected.case.title in first["DELIB_OBJET"]
    assert [first[k] for k in DELIBERATION_COLUMNS[11:16]] == ["10", "6", "4", "1", "1"]
    minutes = f"/transparence/comite/{session.pk}/proces-verbal.pdf"
    assert first["DELIB_URL"] == f"http://testserver{minutes}"
    assert client.get(minutes).status_code == 200
    for row in published.values():  # the schema's custom checks on the votes
        effectif, reel, pour, contre, abst = (int(row[k]) for k in DELIBERATION_COLUMNS[11:16])
        assert effectif >= reel == pour + contre + abst
        assert siret_valid(row["COLL_SIRET"])
    second = published[f"CP{session.pk}-{other.case.reference}"]
    assert [second[k] for k in DELIBERATION_COLUMNS[11:16]] == ["10", "6", "3", "3", "0"]
    assert "sélectionné" in first["DELIB_OBJET"]


def test_deliberations_filter_and_refusals(client):
    from tests import factories as f

    _closed_leader_session(f.agent())
    assert len(rows(csv_of(client.get("/transparence/deliberations.csv?dispositif=LEADER")))) == 2
    assert rows(csv_of(client.get("/transparence/deliberations.csv?dispositif=DETR"))) == []
    assert client.get("/transparence/deliberations.csv?dispositif=NOPE").status_code == 404
    assert client.get("/t/inconnu/transparence/deliberations.csv").status_code == 404
    page = client.get("/transparence/").content.decode()
    assert "deliberations.csv?dispositif=LEADER" in page


def test_a_planned_session_publishes_nothing(client):
    from tests import factories as f

    agent = f.agent()
    (fr,) = awaiting(agent)
    present = members(2, agriculture=2, associations=1)
    session = session_for(agent, present)
    vote(agent, session, fr, present, "for")  # voted, not closed
    assert rows(csv_of(client.get("/transparence/deliberations.csv"))) == []


def test_the_decisions_are_named_by_the_model_and_amounts_written_as_decimals(client):
    import re

    from cases.models import CommitteeDecision
    from tests import factories as f

    _closed_leader_session(f.agent())
    subjects = [
        r["DELIB_OBJET"] for r in rows(csv_of(client.get("/transparence/deliberations.csv")))
    ]
    labels = dict(CommitteeDecision._meta.get_field("outcome").choices)
    assert any(f"{labels['selected'].lower()} (aide : " in s for s in subjects)
    assert any(f"{labels['adjourned'].lower()} (aide demandée : " in s for s in subjects)
    assert all(re.search(r" : \d+\.\d{2} €\)", s) for s in subjects)  # 12500.00, not 12 500,00


def test_the_files_addresses_are_reversed_once_not_per_row(client, monkeypatch):
    from django.urls import reverse

    from tests import factories as f
    from web import open_data as web_open_data

    calls = []

    def counting(name, *args, **kwargs):
        calls.append(name)
        return reverse(name, *args, **kwargs)

    monkeypatch.setattr(web_open_data, "reverse", counting)
    session, _, _ = _closed_leader_session(f.agent())
    published = rows(csv_of(client.get("/transparence/deliberations.csv")))
    assert len(published) == 2 and calls == ["web:public-minutes"]
    minutes = f"http://testserver/transparence/comite/{session.pk}/proces-verbal.pdf"
    assert {r["DELIB_URL"] for r in published} == {minutes}
    calls.clear()
    page = client.get("/transparence/").content.decode()
    assert "deliberations.csv?dispositif=LEADER" in page
    assert sorted(calls) == ["web:public-deliberations-territory", "web:public-subsidies-territory"]
