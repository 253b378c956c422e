"""Exports of the observatory: CSV (BOM, « ; ») and XLSX of each table, the financing plans
in XLSX, the committed grants in the Etalab format; access and bounded queries."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from cases import stats
from cases.models import FundingRequest, Theme, User
from tests import factories as f
from tests.cases.test_stats import D, build_world, dossier, paid_claim, plan
from tests.engine import walk
from web import exports

pytestmark = pytest.mark.django_db

# scdl/subventions 2.1.1 (schema.data.gouv.fr), in the schema's order.
SCDL_SUBVENTIONS = (
    "nomAttribuant idAttribuant dateConvention referenceDecision nomBeneficiaire "
    "idBeneficiaire rnaBeneficiaire objet montant nature conditionsVersement "
    "datesPeriodeVersement idRAE notificationUE pourcentageSubvention dispositifAide"
).split()


@pytest.fixture
def world(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS
    return build_world()


def download(client, user, url, expected=200, **params):
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == expected, response.content[:300]
    return response


def attachment_name(response) -> str:
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="'), disposition
    return disposition.split('"')[1]


def read_csv(response, delimiter=";") -> list[list[str]]:
    raw = response.content
    text = raw.decode("utf-8")
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def read_xlsx(response):
    return load_workbook(io.BytesIO(response.content))


# ---------------------------------------------------------------- observatory tables


def test_each_table_in_csv_with_bom_and_semicolons(client, world):
    response = download(client, world.agent, "/observatoire/export/epci.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert attachment_name(response).startswith("observatoire-epci-")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(response)
    assert rows[0][0] == "\ufeffEPCI"
    assert rows[0][1:] == [c.label for c in stats.COUNT_COLUMNS]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name[world.epci1.name][1:] == ["2", "1", "1", "40000,00", "35000,00", "25000,00"]
    assert by_name[world.epci2.name][1:] == ["1", "1", "1", "20000,00", "20000,00", "6000,00"]
    delays = read_csv(download(client, world.agent, "/observatoire/export/delais-paiement.csv"))
    detr = next(r for r in delays if r[0] == "DETR")
    assert detr[2:8] == ["3", "50,0", "66,0", "50,0", "60", "-10,0"]


def test_each_table_in_xlsx(client, world):
    response = download(client, world.agent, "/observatoire/export/dispositifs.xlsx")
    assert response["Content-Type"] == exports.XLSX
    assert attachment_name(response).endswith(".xlsx")
    wb = read_xlsx(response)
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    table = stats.by_scheme(user=world.agent, filters=stats.Filters())
    assert list(rows[0]) == [c.label for c in table.columns]
    assert rows[1][:7] == ("DETR", f.scheme("DETR").name, 2, 2, 60000.0, 55000.0, 31000.0)
    assert ws["E2"].number_format == "#,##0.00"
    assert wb["Filtres"]["B1"].value == "Par dispositif"


@pytest.mark.parametrize("slug", list(stats.TABLES))
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_table_downloads(client, world, slug, fmt):
    response = download(client, world.agent, f"/observatoire/export/{slug}.{fmt}", theme="Écoles")
    if fmt == "csv":
        assert read_csv(response)[0][0].lstrip("\ufeff")
    else:
        assert read_xlsx(response).worksheets[0].max_row >= 1


def test_filters_apply_to_exports_and_bad_ones_are_refused(client, world):
    rows = read_csv(download(client, world.agent, "/observatoire/export/themes.csv", year="2026"))
    assert [r[0] for r in rows[1:]] == ["Écoles"] and rows[1][1] == "1"
    bad = download(client, world.agent, "/observatoire/export/themes.csv", 400, scheme="NOPE")
    assert "Filtre invalide" in bad.content.decode() and "NOPE" in bad.content.decode()
    download(client, world.agent, "/observatoire/export/inconnu.csv", 404)
    download(client, world.agent, "/observatoire/export/epci.pdf", 404)


# ---------------------------------------------------------------- financing plans


def test_financing_plans_one_row_per_dossier_and_resource_line(client, world):
    response = download(client, world.agent, "/observatoire/export/maquette-financiere.xlsx")
    assert attachment_name(response).startswith("maquette-financiere-")
    ws = read_xlsx(response)["Maquette financière"]
    rows = list(ws.iter_rows(values_only=True))
    headers = list(rows[0])
    assert headers == [label for label, _ in exports.PLAN_COLUMNS]
    data = [dict(zip(headers, r, strict=True)) for r in rows[1:]]
    assert len(data) == 6
    a = [r for r in data if r["Référence"] == world.a.reference]
    assert [r["Ressource"] for r in a] == ["Dispositif", "Autofinancement"]
    detr = a[0]
    assert detr["Dispositif"] == "DETR" and detr["Financeur"] == "État (préfecture du Tarn)"
    assert detr["Montant (€)"] == 40000.0 and detr["Taux (part des dépenses éligibles)"] == 0.4
    assert detr["Dépenses totales (€)"] == 100000.0 and detr["Dépenses éligibles (€)"] == 100000.0
    assert (detr["Montant accordé (€)"], detr["Montant versé (€)"]) == (35000.0, 25000.0)
    assert detr["Autofinancement du dossier (€)"] == 60000.0
    assert detr["Aides publiques du dossier (€)"] == 40000.0
    assert a[1]["Montant (€)"] == 60000.0 and a[1]["Taux (part des dépenses éligibles)"] == 0.6
    assert detr["Date de réception"].date() == D(2025, 1, 16)
    # nothing personal: no user name nor e-mail
    cells = {str(v) for r in rows for v in r if v is not None}
    for user in (world.porteur1, world.porteur2, world.agent):
        assert not any(user.username in c or user.email in c for c in cells)


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


EXPORTS = [
    "/observatoire/export/maquette-financiere.xlsx",
    "/observatoire/export/subventions-etalab.csv",
    "/observatoire/export/delais-paiement.csv",
]


def test_exports_run_bounded_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.agent)
    before = {url: count_queries(client, url) for url in EXPORTS}
    for n in range(2):
        porteur = f.porteur()
        _, fr = dossier(
            porteur=porteur,
            agent=world.agent,
            title=f"Projet {n}",
            theme="Culture",
            plan=plan(80000, "DETR", 30000),
            created=D(2024, 3, 4),
            submitted=D(2024, 3, 11),
            complete=D(2024, 3, 18),
            granted=D(2024, 4, 15),
            amount="30000.00",
        )
        paid_claim(porteur, fr, "advance", "9000.00", D(2024, 5, 2), D(2024, 6, 3))
    client.force_login(world.agent)
    for url, count in before.items():
        with django_assert_max_num_queries(count, info=url):
            response = client.get(url)
        if url.endswith("maquette-financiere.xlsx"):
            assert read_xlsx(response).worksheets[0].max_row == 1 + 10
        if url.endswith("etalab.csv"):
            assert len(read_csv(response, delimiter=",")) == 1 + 4


# ---------------------------------------------------------------- Etalab


def test_etalab_grants_schema_columns_and_one_row_per_committed_grant(client, world):
    response = download(client, world.agent, "/observatoire/export/subventions-etalab.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert not response.content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(response, delimiter=",")
    assert rows[0] == SCDL_SUBVENTIONS == exports.ETALAB_COLUMNS
    assert len(rows) == 3  # A and B are committed; C is a draft
    grants = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    a, b = grants
    assert a["nomAttribuant"] == "État (préfecture du Tarn)"
    assert a["dateConvention"] == "2025-02-26"
    assert a["referenceDecision"] == f"{world.a.reference}-DETR"
    assert a["nomBeneficiaire"] == world.a.organisation.name
    assert a["idBeneficiaire"] == world.a.organisation.siren
    assert a["objet"] == "Rénovation de l'école"
    assert a["montant"] == "35000.00" and b["montant"] == "20000.00"
    assert a["nature"] == "aide en numéraire"
    assert a["conditionsVersement"] == "échelonné"
    assert a["datesPeriodeVersement"] == "2025-04-02/2025-06-16"
    assert a["notificationUE"] == "non" and a["pourcentageSubvention"] == "1.00"
    assert b["dateConvention"] == "2025-03-16"


def test_etalab_feader_grant_is_notified_to_the_eu(world):
    fr = FundingRequest(
        case=world.a,
        scheme=f.scheme("LEADER"),
        state="paid",
        amount_requested=Decimal("40000.00"),
        amount_granted=Decimal("32000.50"),
        committed_on=D(2025, 5, 2),
    )
    row = dict(
        zip(
            exports.ETALAB_COLUMNS,
            exports.etalab_row(stats.GrantRow(fr, 1, D(2025, 9, 1), D(2025, 9, 1), None)),
            strict=True,
        )
    )
    assert row["notificationUE"] == "oui" and row["montant"] == "32000.50"
    assert row["conditionsVersement"] == "unique" and row["datesPeriodeVersement"] == "2025-09-01"
    assert row["nomAttribuant"] == f.scheme("LEADER").funder.name


def test_etalab_follows_the_scope_and_the_filters(client, world):
    partner = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=world.epci2)
    rows = read_csv(
        download(client, partner, "/observatoire/export/subventions-etalab.csv"), delimiter=","
    )
    assert len(rows) == 2 and rows[1][7] == "Sentier de découverte"
    rows = read_csv(
        download(client, world.agent, "/observatoire/export/subventions-etalab.csv", year="2026"),
        delimiter=",",
    )
    assert rows == [exports.ETALAB_COLUMNS]


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    "url",
    [
        "/observatoire/export/epci.csv",
        "/observatoire/export/etapes.xlsx",
        "/observatoire/export/maquette-financiere.xlsx",
        "/observatoire/export/subventions-etalab.csv",
    ],
)
def test_exports_refused_to_porteurs_and_anonymous(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    client.force_login(world.porteur1)
    assert client.get(url).status_code == 403
    client.force_login(f.funder_instructor("ETAT"))
    assert client.get(url).status_code == 403


def test_a_text_typed_by_a_user_never_becomes_a_formula(client, world):
    theme = '=HYPERLINK("http://exemple.invalid","clic")'
    hostile = Theme.objects.create(label=theme)  # an admin may type anything in the list
    type(world.c).objects.filter(pk=world.c.pk).update(theme=theme, theme_ref=hostile, title="=1+1")
    rows = read_csv(download(client, world.agent, "/observatoire/export/themes.csv"))
    assert "'" + theme in [r[0] for r in rows]
    ws = read_xlsx(download(client, world.agent, "/observatoire/export/themes.xlsx")).worksheets[0]
    cell = next(c for (c,) in ws.iter_rows(min_col=1, max_col=1) if c.value == theme)
    assert cell.data_type == "s"
    response = download(client, world.agent, "/observatoire/export/maquette-financiere.xlsx")
    titles = [c for (c,) in read_xlsx(response).worksheets[0].iter_rows(min_col=2, max_col=2)]
    assert {c.data_type for c in titles if c.value == "=1+1"} == {"s"}
