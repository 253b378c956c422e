"""Pages speak French whatever the browser's language: no English catalogue exists, so
amounts and dates are never formatted the English way for a browser set to English."""

import pytest
from django.template.defaultfilters import floatformat
from django.utils import translation

from tests.engine import walk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "de-DE", "fr-FR,fr;q=0.9"])
def test_amounts_are_french_for_any_browser_language(client, accept):
    case, porteur = walk.submitted_case(walk.DETR_PLAN)
    client.force_login(porteur)
    page = client.get(f"/mes-dossiers/{case.pk}/", HTTP_ACCEPT_LANGUAGE=accept)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="fr"' in html
    amount = case.funding_requests.get().amount_requested
    with translation.override("fr"):
        french = floatformat(amount, "2g")  # « 88 524,00 »
    with translation.override("en"):
        english = floatformat(amount, "2g")  # « 88,524.00 »
    assert french != english
    assert f"{french} €" in html and english not in html
