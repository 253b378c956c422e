"""Every XLSX export has its ODS twin (issue 15 point 4: the RGI favours open formats),
written by the one ODS layer (``web.spreadsheets.ods_sheets``): the same sheets, the same
cells, numbers as numbers, dates as dates, texts as texts (never formulas). One test per
pair; the maquette's pair is tested in ``test_maquette.py``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from odf.opendocument import load
from odf.table import Table, TableCell, TableRow

from cases import stats
from tests.web.test_exports import attachment_name, download, read_xlsx
from tests.web.test_exports import world as world  # noqa: F401 (the fixture)
from web.spreadsheets import ODS

pytestmark = pytest.mark.django_db


def _value(cell):
    kind = cell.getAttribute("valuetype")
    if kind == "float":
        return float(cell.getAttribute("value"))
    if kind == "date":
        return cell.getAttribute("datevalue")
    if kind is None:
        return None
    return str(cell)


def ods_workbook(content: bytes) -> dict[str, list[list]]:
    doc = load(io.BytesIO(content))
    return {
        table.getAttribute("name"): [
            [_value(c) for c in row.getElementsByType(TableCell)]
            for row in table.getElementsByType(TableRow)
        ]
        for table in doc.spreadsheet.getElementsByType(Table)
    }


def _normal(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def xlsx_workbook(response) -> dict[str, list[list]]:
    wb = read_xlsx(response)
    return {
        ws.title: [[_normal(v) for v in row] for row in ws.iter_rows(values_only=True)]
        for ws in wb.worksheets
    }


def assert_twins(client, user, xlsx_url, ods_url, **params):
    xlsx = download(client, user, xlsx_url, **params)
    ods = download(client, user, ods_url, **params)
    assert ods["Content-Type"] == ODS
    assert attachment_name(ods).endswith(".ods")
    assert attachment_name(ods)[:-4] == attachment_name(xlsx)[:-5]
    expected, got = xlsx_workbook(xlsx), ods_workbook(ods.content)
    assert list(got) == list(expected)
    for name, rows in expected.items():
        skip = 2 if name == "Filtres" else 0  # the generation time may tick in between
        assert got[name][skip:] == rows[skip:], name
    return got


@pytest.mark.parametrize("slug", list(stats.TABLES))
def test_each_observatory_table_has_its_ods_twin(client, world, slug):
    got = assert_twins(
        client,
        world.agent,
        f"/observatoire/export/{slug}.xlsx",
        f"/observatoire/export/{slug}.ods",
    )
    assert len(next(iter(got.values()))) >= 1


def test_the_ods_twin_keeps_numbers_and_the_filters(client, world):
    got = assert_twins(
        client,
        world.agent,
        "/observatoire/export/dispositifs.xlsx",
        "/observatoire/export/dispositifs.ods",
    )
    sheet = next(iter(got.values()))
    assert sheet[1][:3] == ["DETR", sheet[1][1], 2.0]
    assert got["Filtres"][0][1] == "Par dispositif"


def test_the_financing_plans_have_their_ods_twin(client, world):
    got = assert_twins(
        client,
        world.agent,
        "/observatoire/export/maquette-financiere.xlsx",
        "/observatoire/export/maquette-financiere.ods",
    )
    rows = got["Maquette financière"]
    assert len(rows) > 1
    dates = {r[8] for r in rows[1:] if r[8]}
    assert dates and all(dt.date.fromisoformat(d) for d in dates)  # date cells


def test_the_ods_twins_are_refused_like_the_xlsx(client, world):
    download(client, world.agent, "/observatoire/export/dispositifs.ods", expected=400, year="x")
    download(client, world.agent, "/observatoire/export/nope.ods", expected=404)
    client.logout()
    assert client.get("/observatoire/export/maquette-financiere.ods").status_code == 302


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def test_every_xlsx_route_has_an_ods_twin():
    routes = set(_routes(get_resolver().url_patterns))
    xlsx = {r for r in routes if r.endswith(".xlsx")}
    assert xlsx, routes
    assert {r for r in xlsx if r[:-5] + ".ods" not in routes} == set()
    assert "observatoire/export/<slug:slug>.<str:fmt>" in routes  # csv, xlsx and ods
