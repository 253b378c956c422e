"""The maquette in a browser, at the desktop's 1280 px and a phone's 390 px (issue 14,
point 2): an agent opens « Programmation », filters by year and funder, reads the funder's
totals against the year's envelopes, then downloads the XLSX export — the file arrives and
opens with openpyxl with the title of the filters and the maquette's header rows."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from schemes.models import Envelope, Scheme
from tests import factories as f
from tests.web.test_maquette import operation

from .conftest import WIDTHS, check_page, fits, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OPERATION_HEADERS = ["Référence", "Opération", "Porteur", "EPCI", "Année"]
FUNDER_HEADERS = ["Dispositif et état", "Demandé (€)", "Accordé (€)"]


def _world():
    porteur = f.porteur()
    ecole = operation(
        porteur,
        "École de Lescure",
        [
            ("DETR", "granted", "40000", "35000", 2026),
            ("REGION_OCC", "requested", "15000", None, 2026),
        ],
    )
    operation(porteur, "Voirie de Cagnac", [("DSIL", "instructing", "12000", None, 2026)])
    operation(porteur, "Gymnase 2025", [("DETR", "granted", "90000", "80000", 2025)])
    Envelope.objects.create(
        scheme=Scheme.objects.get(code="DETR"),
        territory_id=ecole.territory_id,
        year=2026,
        amount=Decimal("500000"),
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_agent_filters_reads_the_envelopes_and_downloads_the_xlsx(page, width, tmp_path):
    _world()
    agent = f.agent()
    page.set_viewport_size({"width": width, "height": 900})
    login(page, agent, f.PASSWORD)
    page.goto("/programmation/")
    assert page.get_by_role("heading", level=1).inner_text() == "Maquette financière"
    page.get_by_label("Année de programmation", exact=True).select_option("2026")
    page.get_by_label("Financeur", exact=True).select_option("ETAT")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_load_state("networkidle")
    assert "annee=2026" in page.url and "financeur=ETAT" in page.url
    body = re.sub("[\u202f\xa0]", " ", text(page))
    assert "École de Lescure" in body and "Voirie de Cagnac" in body
    assert "Gymnase 2025" not in body  # another year
    table = page.get_by_role("table")
    assert "Région Occitanie" not in table.inner_text()  # another funder
    # the funder's totals against the DETR envelope of 2026: 52 000 asked (40 000 + 12 000),
    # 35 000 granted and programmed, 465 000 left of 500 000
    foot = re.sub("[\u202f\xa0]", " ", page.locator("table.maquette tfoot").inner_text())
    assert "2 demandes" in foot and "52 000,00 €" in foot and "35 000,00 €" in foot
    assert "500 000,00 €" in foot and "465 000,00 €" in foot
    fits(page, width)
    check_page(page, f"maquette-filtree-{width}", widths=(width,))

    with page.expect_download() as download:
        page.get_by_role("link", name="tableur Excel (XLSX)").click()
    xlsx = download.value
    assert re.fullmatch(r"maquette-2026-\d{4}-\d{2}-\d{2}\.xlsx", xlsx.suggested_filename)
    path = tmp_path / xlsx.suggested_filename
    xlsx.save_as(path)
    ws = load_workbook(path, read_only=True).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0].startswith("Maquette financière — année 2026")
    groups = [v or None for v in rows[1]]
    assert groups[: len(OPERATION_HEADERS) + 1] == [None] * len(OPERATION_HEADERS) + [
        "État (préfecture du Tarn)"
    ]
    assert rows[2] == OPERATION_HEADERS + FUNDER_HEADERS
    titles = [r[1] for r in rows[3:]]
    assert "École de Lescure" in titles and "Voirie de Cagnac" in titles
    assert "Gymnase 2025" not in titles
    by_label = {r[1]: r for r in rows[3:]}
    total = by_label["Total des opérations"]
    assert total[5:8] == ["2 demande(s)", 52000, 35000]
    assert by_label["Enveloppes"][6] == 500000
    assert by_label["Reste à programmer"][6] == 465000
