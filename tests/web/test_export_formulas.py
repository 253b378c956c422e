"""Formula injection in the exports: texts typed by porteurs (a title, an organisation's
name, a theme, a plan line's label) are shown by a spreadsheet, never run. Every CSV goes
through one writer (``web.spreadsheets.csv_bytes``), which prefixes a cell starting a
formula with an apostrophe and leaves genuine numbers alone; every XLSX text is a text
cell, never a formula."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from cases import stats
from cases.models import Theme
from schemes.models import Commune
from tests import factories as f
from tests.cases.test_stats import D, build_world, dossier
from tests.engine import walk
from web.spreadsheets import FORMULA_START, NUMBER, csv_bytes, safe_text, xlsx_append

pytestmark = pytest.mark.django_db

TITLE = '=HYPERLINK("http://evil","x")'
ORGANISATION = "+cmd|' /C calc'!A0"
THEME = "@SUM(1)"
LABEL = "-2+3"
OTHER_THEME = "=SUM(A1:A9)"
HOSTILE = {TITLE, ORGANISATION, THEME, LABEL, OTHER_THEME}


@pytest.fixture
def world(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS
    world = build_world()
    for label in (THEME, OTHER_THEME):  # an admin may type anything in the theme list
        Theme.objects.get_or_create(label=label)
    commune = Commune.objects.order_by("insee").first()
    porteur = f.porteur(f.OrganisationFactory(commune=commune, name=ORGANISATION))
    hostile_plan = {
        "expenses": [{"label": "Travaux", "amount": "80000.00"}],
        "resources": [
            {"kind": "scheme", "scheme": "DETR", "amount": "32000.00", "label": LABEL},
            {"kind": "self", "amount": "48000.00", "label": THEME},
        ],
    }
    dates = dict(
        created=D(2025, 5, 5),
        submitted=D(2025, 5, 12),
        complete=D(2025, 5, 19),
        granted=D(2025, 6, 2),
    )
    dossier(
        porteur=porteur,
        agent=world.agent,
        title=TITLE,
        theme=THEME,
        plan=hostile_plan,
        amount="12500.00",
        **dates,
    )
    dossier(
        porteur=porteur,
        agent=world.agent,
        title="Halle couverte",
        theme=OTHER_THEME,
        plan=hostile_plan,
        amount="30000.00",
        **dates,
    )
    return world


def download(client, user, url, **params):
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return response


def assert_no_formula_in_csv(rows: list[list[str]]) -> set[str]:
    cells = {cell.lstrip("\ufeff") for row in rows for cell in row}
    for cell in cells:
        assert NUMBER.fullmatch(cell) or not cell.lstrip().startswith(FORMULA_START), cell
    return cells


def assert_no_formula_in_xlsx(content: bytes) -> set[str]:
    texts = set()
    for ws in load_workbook(io.BytesIO(content)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
                    texts.add(cell.value)
    return texts


def test_etalab_csv_neutralises_titles_and_names_and_keeps_amounts(client, world):
    response = download(client, world.agent, "/observatoire/export/subventions-etalab.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    cells = assert_no_formula_in_csv(rows)
    header = rows[0]
    assert header[0] == "nomAttribuant"  # no BOM, « , », columns unchanged
    lines = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    hostile = next(r for r in lines if r["objet"] == "'" + TITLE)
    assert hostile["nomBeneficiaire"] == "'" + ORGANISATION
    assert hostile["montant"] == "12500.00" and hostile["pourcentageSubvention"] == "1.00"
    assert "35000.00" in {r["montant"] for r in lines}
    assert not cells & HOSTILE  # nothing hostile left raw


@pytest.mark.parametrize("slug", list(stats.TABLES))
def test_every_observatory_csv_is_neutralised(client, world, slug):
    response = download(client, world.agent, f"/observatoire/export/{slug}.csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8")), delimiter=";"))
    cells = assert_no_formula_in_csv(rows)
    assert not cells & HOSTILE
    if slug == "themes":
        assert {"'" + THEME, "'" + OTHER_THEME} <= {r[0] for r in rows}
    if slug == "delais-paiement":  # a negative number stays a number
        assert "-10,0" in next(r for r in rows if r[0] == "DETR")


@pytest.mark.parametrize("slug", list(stats.TABLES))
def test_every_observatory_xlsx_keeps_texts_as_texts(client, world, slug):
    response = download(client, world.agent, f"/observatoire/export/{slug}.xlsx")
    texts = assert_no_formula_in_xlsx(response.content)
    if slug == "themes":
        assert {THEME, OTHER_THEME} <= texts


def test_financing_plans_xlsx_keeps_texts_as_texts(client, world):
    url = "/observatoire/export/maquette-financiere.xlsx"
    texts = assert_no_formula_in_xlsx(download(client, world.agent, url).content)
    assert HOSTILE <= texts  # the texts themselves, unchanged
    ws = load_workbook(io.BytesIO(download(client, world.agent, url).content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    data = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    line = next(r for r in data if r["Intitulé"] == TITLE and r["Libellé"] == LABEL)
    assert line["Maître d'ouvrage"] == ORGANISATION and line["Thème"] == THEME
    assert line["Montant (€)"] == 32000.0 and line["Montant accordé (€)"] == 12500.0


def test_the_filters_sheet_keeps_a_filter_value_as_text(client, world):
    response = download(client, world.agent, "/observatoire/export/themes.xlsx", theme=OTHER_THEME)
    wb = load_workbook(io.BytesIO(response.content))
    cell = next(c for (c,) in wb["Filtres"].iter_rows(min_col=2, max_col=2) if c.row == 4)
    assert (cell.value, cell.data_type) == (OTHER_THEME, "s")
    assert_no_formula_in_xlsx(response.content)


# ---------------------------------------------------------------- the writer itself


@pytest.mark.parametrize(
    "value, expected",
    [
        (TITLE, "'" + TITLE),
        (ORGANISATION, "'" + ORGANISATION),
        (THEME, "'" + THEME),
        (LABEL, "'" + LABEL),
        ("\t=1+1", "'\t=1+1"),
        ("\rx", "'\rx"),
        ("\tquoi", "'\tquoi"),
        ("  =1+1", "'  =1+1"),
        ("\n@x", "'\n@x"),
        ("-", "'-"),
        ("- Autre", "'- Autre"),
        ("Salle = 12 m²", "Salle = 12 m²"),
        ("-12.50", "-12.50"),
        ("12500.00", "12500.00"),
        ("-10,0", "-10,0"),
        ("+3", "+3"),
        ("-5,00 %", "-5,00 %"),
        ("2026-01-15/2026-03-01", "2026-01-15/2026-03-01"),
        (Decimal("-12.50"), "-12.50"),
        (-3, "-3"),
        (None, ""),
        ("", ""),
    ],
)
def test_safe_text(value, expected):
    assert safe_text(value) == expected


def test_csv_bytes_keeps_numbers_numeric_and_the_layout():
    raw = csv_bytes(
        ["a", "b"], [["-12.50", TITLE], [Decimal("12500.00"), "x"]], delimiter=",", bom=False
    )
    assert raw == b'a,b\r\n-12.50,"\'=HYPERLINK(""http://evil"",""x"")"\r\n12500.00,x\r\n'
    assert csv_bytes(["a"], [], delimiter=";", bom=True) == "\ufeffa\r\n".encode()


def test_xlsx_append_writes_texts_as_texts_and_numbers_as_numbers():
    wb = Workbook()
    ws = wb.active
    xlsx_append(ws, ["Titre", "Montant"])
    xlsx_append(ws, [TITLE, -12.5])
    xlsx_append(ws, ["=1+1\x07", 12500.0])  # a control character XLSX forbids is dropped
    buffer = io.BytesIO()
    wb.save(buffer)
    ws = load_workbook(buffer).active
    assert [(c.value, c.data_type) for c in ws[2]] == [(TITLE, "s"), (-12.5, "n")]
    assert [(c.value, c.data_type) for c in ws[3]] == [("=1+1", "s"), (12500, "n")]
