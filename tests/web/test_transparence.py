"""Public open data of ``/transparence/`` (issue 12): the SCDL « subventions » file,
streamed, with each funder's SIRET read from ``Funder.siret`` (checked with its Luhn key,
editable in the admin, never a setting), and per scheme what is open now."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError

from schemes.identifiers import siret_valid, validate_siret
from schemes.models import Funder
from tests import factories as f
from tests.engine import walk
from web.exports import ETALAB_COLUMNS

pytestmark = pytest.mark.django_db

# scdl/subventions 2.1.1 (schema.data.gouv.fr), in the schema's order.
SCDL = [
    "nomAttribuant", "idAttribuant", "dateConvention", "referenceDecision", "nomBeneficiaire",
    "idBeneficiaire", "rnaBeneficiaire", "objet", "montant", "nature", "conditionsVersement",
    "datesPeriodeVersement", "idRAE", "notificationUE", "pourcentageSubvention",
    "dispositifAide",
]  # fmt: skip
VALID_SIRET = "73282932000074"  # Luhn key right


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


def committed(title, plan=walk.DETR_PLAN, amount="35000.00"):
    case, _, _ = walk.instructing_case(plan, title=title)
    fr = walk.grant_and_commit(case.funding_requests.get(), amount=amount)
    return case, fr


def rows_of(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    data = b"".join(response.streaming_content)
    assert not data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert table[0] == SCDL == ETALAB_COLUMNS
    return [dict(zip(table[0], r, strict=True)) for r in table[1:]]


def test_scdl_file_has_the_schema_columns_and_the_funder_siret_per_funder(client, settings):
    settings.GUICHET_FUNDER_SIRET = {"ETAT": "11111111111111"}  # a setting is not read
    case, fr = committed("Rénovation de l'école élémentaire")
    committed("Salle des fêtes", amount="20000.00")
    walk.instructing_case(walk.DETR_PLAN, title="En instruction")  # not signed: not published
    (row, second) = rows_of(client.get("/transparence/subventions.csv"))
    assert row["nomAttribuant"] == fr.scheme.funder.name
    assert row["idAttribuant"] == ""  # blank funder SIRET: nothing invented
    assert row["objet"] == "Rénovation de l'école élémentaire"  # UTF-8 accents
    assert row["montant"] == "35000.00" and second["montant"] == "20000.00"
    assert row["referenceDecision"] == f"{case.reference}-DETR"
    assert row["nomBeneficiaire"] == case.organisation.name

    Funder.objects.filter(code=fr.scheme.funder.code).update(siret=VALID_SIRET)
    rows = rows_of(client.get("/transparence/subventions.csv"))
    assert {r["idAttribuant"] for r in rows} == {VALID_SIRET}


def test_the_file_filters_by_scheme_and_refuses_unknown_ones(client):
    committed("Rénovation de l'école")
    assert len(rows_of(client.get("/transparence/subventions.csv?dispositif=DETR"))) == 1
    assert rows_of(client.get("/transparence/subventions.csv?dispositif=LEADER")) == []
    unknown = client.get("/transparence/subventions.csv?dispositif=NOPE")
    assert unknown.status_code == 404 and "Aucun dispositif" in unknown.content.decode()
    assert client.get("/t/inconnu/transparence/subventions.csv").status_code == 404


def test_the_file_is_streamed_in_bounded_queries(client, django_assert_max_num_queries):
    for i in range(3):
        committed(f"Projet {i}")
    with django_assert_max_num_queries(6):
        response = client.get("/transparence/subventions.csv")
        assert len(rows_of(response)) == 3
    assert response.streaming


def test_the_page_names_per_scheme_what_is_open_now(client):
    committed("Rénovation de l'école")
    page = client.get("/transparence/").content.decode()
    assert 'href="#donnees"' in page and "Données ouvertes" in page
    assert "Subventions au format SCDL (CSV) : 1 convention signée" in page
    assert "subventions.csv?dispositif=DETR" in page
    assert "Projets soutenus : 1 aide accordée" in page
    assert "Rien pour l'instant" in page  # the schemes with nothing signed yet


def test_siret_luhn_validation():
    assert siret_valid(VALID_SIRET)
    assert not siret_valid("73282932000075")  # key wrong
    assert not siret_valid("7328293200007")  # 13 digits
    assert not siret_valid("7328293200007A")
    assert siret_valid("35600000000001")  # La Poste: digits' sum a multiple of 5
    with pytest.raises(ValidationError) as exc:
        validate_siret("73282932000075")
    assert "clé de contrôle" in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        validate_siret("123")
    assert "14 chiffres" in exc.value.messages[0]
    funder = Funder.objects.get(code="ETAT")
    funder.siret = "12345678901234"
    with pytest.raises(ValidationError):
        funder.full_clean()
    funder.siret = VALID_SIRET
    funder.full_clean()
    funder.siret = ""
    funder.full_clean()  # blank: not known


def test_the_admin_edits_the_funder_siret(client):
    admin = f.agent(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    funder = Funder.objects.get(code="ETAT")
    url = f"/admin/schemes/funder/{funder.pk}/change/"
    form = {"code": funder.code, "name": funder.name, "is_state": "on" if funder.is_state else ""}
    bad = client.post(url, {**form, "siret": "73282932000075"})
    assert bad.status_code == 200 and "clé de contrôle" in bad.content.decode()
    funder.refresh_from_db()
    assert funder.siret == ""
    good = client.post(url, {**form, "siret": VALID_SIRET})
    assert good.status_code == 302
    funder.refresh_from_db()
    assert funder.siret == VALID_SIRET
    assert "SIRET" in client.get("/admin/schemes/funder/").content.decode()
