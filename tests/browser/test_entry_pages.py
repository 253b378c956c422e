import pytest

from tests import factories as f

from .conftest import check_page, login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_login_page_is_accessible_and_logs_in(page):
    porteur = f.porteur()
    page.goto("/connexion/")
    assert page.locator("html").get_attribute("lang") == "fr"
    check_page(page, "connexion")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Aller au contenu"
    login(page, porteur, "mauvais")
    assert "La connexion a échoué" in page.content()
    login(page, porteur, f.PASSWORD)
    assert page.url.endswith("/mes-dossiers/") or "/mes-dossiers/" in page.url
