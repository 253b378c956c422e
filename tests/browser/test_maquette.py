"""The maquette in a browser (issue 14, point 2): an agent opens « Programmation » from the
navigation, reads the operations and the funders' totals, filters by funder; at 1280 and
390 px with axe-core (the wide table scrolls in its own focusable box)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from schemes.models import Envelope, Scheme
from tests import factories as f
from tests.web.test_maquette import operation

from .conftest import check_page, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_agent_reads_and_filters_the_maquette(page):
    porteur = f.porteur()
    agent = f.agent()
    ecole = operation(
        porteur,
        "École de Lescure",
        [
            ("DETR", "granted", "40000", "35000", 2026),
            ("LEADER", "selected", "20000", None, 2026),
            ("REGION_OCC", "requested", "15000", None, 2026),
        ],
    )
    operation(porteur, "Salle des fêtes", [("REGION_OCC", "requested", "8000", None, 2026)])
    Envelope.objects.create(
        scheme=Scheme.objects.get(code="DETR"),
        territory_id=ecole.territory_id,
        year=2026,
        amount=Decimal("500000"),
    )
    login(page, agent, f.PASSWORD)
    page.goto("/agent/")
    page.get_by_role("link", name="Programmation").click()
    page.get_by_label("Année de programmation", exact=True).select_option("2026")
    page.get_by_role("button", name="Afficher").click()
    body = text(page)
    assert "École de Lescure" in body and "Salle des fêtes" in body
    assert "465" in body  # 500 000 € of DETR envelope, 35 000 € programmed
    table = page.get_by_role("table")
    assert table.get_by_role("columnheader", name="État (préfecture du Tarn)").count() == 1
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        check_page(page, f"maquette-{width}")
    page.get_by_label("Financeur", exact=True).select_option("ETAT")
    page.get_by_role("button", name="Afficher").click()
    body = text(page)
    assert "École de Lescure" in body and "Salle des fêtes" not in body
    assert "Région Occitanie" not in page.get_by_role("table").inner_text()
