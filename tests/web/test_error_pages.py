"""Error pages in the site's own layout with ways back (issue 12, point 9), JSON under
/api/, and the index of the API at /api/v1/."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from guichet.urls import urlpatterns as site_urlpatterns
from tests import factories as f

from .test_agent import org

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("panne simulée")


def forbidden(request):
    raise PermissionDenied("secret interne")


def ok(request):
    return HttpResponse("ok")


# A URLconf of the site plus three views that fail, with the site's handlers.
urlpatterns = [
    path("essai/panne/", boom),
    path("api/v1/essai/panne/", boom),
    path("essai/interdit/", forbidden),
    *site_urlpatterns,
]
handler404 = "guichet.api.views.not_found_view"
handler500 = "guichet.concurrency.server_error"


def page(response) -> str:
    return response.content.decode()


@override_settings(DEBUG=False)
def test_an_unknown_page_is_the_sites_404_with_ways_back(client):
    porteur = f.porteur(org(0))
    client.force_login(porteur)
    response = client.get("/un-ancien-lien/vers/rien/")
    assert response.status_code == 404
    html = page(response)
    assert '<html lang="fr">' in html and "Page introuvable" in html
    assert 'class="site-header"' in html  # the site's layout, not the toolkit's screen
    assert "material" not in html.lower() and "viewflow" not in html.lower()
    assert 'href="/mes-dossiers/"' in html and "Mes dossiers" in html
    assert 'href="/transparence/"' in html
    assert 'role="search"' not in html  # a porteur has no dossier search
    assert response["Content-Security-Policy"]  # the headers of every page


@override_settings(DEBUG=False)
def test_an_agent_gets_the_dossier_search_on_the_404(client):
    client.force_login(f.agent())
    response = client.get("/dossiers/987654321/")  # a dossier that does not exist
    assert response.status_code == 404
    html = page(response)
    assert "Page introuvable" in html and 'role="search"' in html
    assert 'action="/agent/"' in html and 'name="q"' in html
    assert 'href="/agent/"' in html


@override_settings(DEBUG=False)
def test_anonymous_visitors_are_offered_the_login_and_the_public_pages(client):
    html = page(client.get("/nulle-part/"))
    assert 'href="/connexion/"' in html and 'href="/transparence/"' in html


@override_settings(DEBUG=False)
def test_the_api_answers_json_not_a_page(client):
    for url in ("/api/v1/nulle-part/", "/api/v1/cases/abc/", "/api/autre/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"].startswith("application/json"), url
        assert response.json() == {"detail": "Introuvable."}


@override_settings(DEBUG=False, ROOT_URLCONF="tests.web.test_error_pages")
def test_server_error_and_forbidden_pages_are_the_sites_own():
    client = Client(raise_request_exception=False)
    response = client.get("/essai/panne/")
    assert response.status_code == 500
    html = page(response)
    assert "Erreur du serveur" in html and 'class="site-header"' in html
    assert "panne simulée" not in html  # nothing of the error leaks
    assert 'href="/transparence/"' in html
    api = client.get("/api/v1/essai/panne/")
    assert api.status_code == 500 and "detail" in api.json()
    client.force_login(f.porteur(org(0)))
    denied = client.get("/essai/interdit/")
    assert denied.status_code == 403
    html = page(denied)
    assert "Accès refusé" in html and 'href="/mes-dossiers/"' in html
    assert "secret interne" not in html


def test_the_api_index_is_public_and_names_its_collections(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "v1" and "Guichet" in body["name"]
    assert body["schema"].endswith("/api/schema/")
    assert body["documentation"].endswith("/api/docs/")
    links = body["collections"]
    for key in ("cases", "schemes", "deadlines", "committee_sessions", "auth_token"):
        assert links[key]["href"].startswith("http://testserver/api/v1/"), key
        assert links[key]["description"]
    # each link leads somewhere real (401 without a token, never 404)
    for key, link in links.items():
        if key == "auth_token":
            continue
        assert client.get(link["href"]).status_code in (200, 401, 403), key
    # no data: only addresses and words, whoever asks
    client.force_login(f.agent())
    assert client.get("/api/v1/").json() == body
