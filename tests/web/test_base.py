import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_login_page_and_home_redirects_by_role(client):
    page = client.get("/connexion/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="fr">' in html and 'for="id_username"' in html and "Aller au contenu" in html
    assert client.get("/").status_code == 302
    porteur = f.porteur()
    assert (
        client.post(
            "/connexion/", {"username": porteur.username, "password": f.PASSWORD}
        ).status_code
        == 302
    )
    assert client.get("/")["Location"] == "/mes-dossiers/"
    bad = client.post("/connexion/", {"username": "x", "password": "y"})
    assert bad.status_code == 200 and "La connexion a échoué" in bad.content.decode()
