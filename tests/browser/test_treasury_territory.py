"""The territory's treasuries in a browser (issue 13): an agent opens « Trésoreries » from
the navigation, reads the communes ranked by trough per inhabitant and follows one to its
forecast; at 1280 and 390 px with axe-core."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.web.test_treasury_territory import commune_with_works

from .conftest import check_page, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_agent_reads_the_ranking_and_opens_a_forecast(page):
    agent = f.agent()
    etat = f.funder_instructor("ETAT")
    deep, _p = commune_with_works("Commune Profonde", 800, "0.00", agent, etat)
    commune_with_works("Commune Aisée", 800, "900000.00", agent, etat)
    login(page, agent, f.PASSWORD)
    page.goto("/agent/")
    page.get_by_role("link", name="Trésoreries").click()
    body = text(page)
    assert body.index("Commune Profonde") < body.index("Commune Aisée")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        check_page(page, f"tresoreries-{width}")
    page.get_by_role("link", name="Commune Profonde").click()
    assert f"/organisations/{deep.pk}/tresorerie/" in page.url
    check_page(page, "tresorerie-commune")
