"""« Revue des projets » in a browser (issue 14): an agent reads its territory's projects by
year and chooses an EPCI; at 1280 and 390 px with axe-core."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.web.test_project_review import projects  # noqa: F401 - the fixture

from .conftest import check_page, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_agent_reads_the_review(page, projects):  # noqa: F811
    login(page, projects["agent"], f.PASSWORD)
    page.goto("/revue-des-projets/")
    body = text(page)
    assert "Idée de halle" in body and "Voirie 2028" in body
    check_page(page, "revue-des-projets")
    epci = projects["porteur"].organisation.epci
    page.get_by_label("EPCI", exact=True).select_option(str(epci.pk))
    page.get_by_role("button", name="Afficher").click()
    assert f"Revue des projets — {epci.name}" in text(page)
    check_page(page, "revue-des-projets-epci")
