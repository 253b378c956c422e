"""The ProConnect pages without a provider (the whole flow against a real one is
tests/browser/test_proconnect_login.py): off by default, the authorisation request with
PKCE, the French pages when the provider fails or the person cancels, the password login
switch."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from cases.siren import siret_valid
from tests import factories as f
from web import proconnect

pytestmark = pytest.mark.django_db

AUTHORIZE = "https://proconnect.example/api/v2/authorize"


@pytest.fixture
def proconnect_on(settings):
    settings.GUICHET_OIDC_ENABLED = True
    settings.GUICHET_OIDC_ISSUER = "https://proconnect.example/api/v2"
    settings.GUICHET_OIDC_CLIENT_ID = "client-guichet"
    settings.GUICHET_OIDC_CLIENT_SECRET = "secret"
    settings.GUICHET_OIDC_AUTHORIZATION_ENDPOINT = AUTHORIZE
    settings.GUICHET_OIDC_TOKEN_ENDPOINT = "https://proconnect.example/api/v2/token"
    proconnect._discovered.clear()
    return settings


def test_off_by_default_no_button_and_no_route(client):
    html = client.get("/connexion/").content.decode()
    assert "ProConnect" not in html and 'for="id_username"' in html
    assert client.get("/connexion/proconnect/").status_code == 404
    assert client.get("/connexion/proconnect/retour/?code=a&state=b").status_code == 404


def test_the_login_page_offers_proconnect_as_its_guidelines_say(client, proconnect_on):
    html = client.get("/connexion/?next=/mes-dossiers/").content.decode()
    assert 'S\'identifier avec</span> <span class="proconnect-brand">ProConnect' in html
    assert 'href="/connexion/proconnect/?next=/mes-dossiers/"' in html
    assert ">Qu'est-ce que ProConnect ?</a>" in html
    assert 'for="id_username"' in html  # the password login stays


def test_the_authorisation_request_carries_pkce_state_and_nonce(client, proconnect_on):
    answer = client.get("/connexion/proconnect/?next=/mes-dossiers/")
    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == AUTHORIZE
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == "client-guichet"
    assert query["scope"] == "openid email given_name usual_name siret"
    assert query["redirect_uri"] == "http://testserver/connexion/proconnect/retour/"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    kept = client.session["oidc_states"][query["state"]]
    assert kept["nonce"] == query["nonce"] and len(kept["code_verifier"]) >= 43
    assert client.session["oidc_login_next"] == "/mes-dossiers/"


def test_acr_values_when_configured(client, proconnect_on):
    proconnect_on.GUICHET_OIDC_ACR_VALUES = "eidas1"
    query = parse_qs(urlsplit(client.get("/connexion/proconnect/")["Location"]).query)
    assert query["acr_values"] == ["eidas1"]


def test_a_provider_that_does_not_answer_gives_a_french_page(client, settings):
    settings.GUICHET_OIDC_ENABLED = True
    settings.GUICHET_OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens there
    settings.GUICHET_OIDC_TIMEOUT = 2
    proconnect._discovered.clear()
    answer = client.get("/connexion/proconnect/")
    assert answer.status_code == 503
    assert "ProConnect ne répond pas" in answer.content.decode()


def test_a_cancelled_login_is_a_french_page_and_nobody_is_logged_in(client, proconnect_on):
    answer = client.get("/connexion/proconnect/retour/?error=access_denied&state=x")
    assert answer.status_code == 403
    assert "annulée" in answer.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_callback_with_an_unknown_state_logs_nobody_in(client, proconnect_on):
    client.get("/connexion/proconnect/")  # a state in the session
    answer = client.get("/connexion/proconnect/retour/?code=c&state=inconnu")
    assert answer.status_code == 400
    assert "_auth_user_id" not in client.session


def test_password_login_can_be_switched_off(client, proconnect_on):
    proconnect_on.GUICHET_PASSWORD_LOGIN_ENABLED = False
    porteur = f.porteur()
    html = client.get("/connexion/").content.decode()
    assert 'for="id_username"' not in html and "S'identifier avec" in html
    answer = client.post("/connexion/", {"username": porteur.username, "password": f.PASSWORD})
    assert answer.status_code == 403
    assert "n'est pas ouverte" in answer.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_password_session_logs_out_as_before(client, proconnect_on):
    client.force_login(f.porteur())
    answer = client.post("/deconnexion/")
    assert answer.status_code == 302 and answer["Location"] == "/"


def test_a_proconnect_session_logs_out_at_the_provider_too(client, proconnect_on):
    proconnect_on.GUICHET_OIDC_END_SESSION_ENDPOINT = (
        "https://proconnect.example/api/v2/session/end"
    )
    client.force_login(f.porteur())
    session = client.session
    session["oidc_id_token"] = "le.jeton.id"
    session.save()
    answer = client.post("/deconnexion/")
    assert answer.status_code == 200 and "_auth_user_id" not in client.session
    html = answer.content.decode()
    assert 'http-equiv="refresh"' in html
    assert "https://proconnect.example/api/v2/session/end?id_token_hint=le.jeton.id&amp;" in html
    assert "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2F" in html


def test_the_backend_gives_the_accounts_rule_its_claims_and_keeps_its_refusal(rf, proconnect_on):
    organisation = f.OrganisationFactory()
    siret = next(
        f"{organisation.siren}{n:05d}"
        for n in range(1, 99999)
        if siret_valid(f"{organisation.siren}{n:05d}")
    )
    backend = proconnect.ProConnectBackend()
    backend.request = rf.get("/connexion/proconnect/retour/")
    backend.get_userinfo = lambda *a: {"sub": "s1", "email": "nouveau@asso.fr", "siret": siret}
    user = backend.get_or_create_user("access", "id", {"sub": "s1"})
    assert user.organisation == organisation and user.role == "porteur"

    backend.get_userinfo = lambda *a: {"sub": "s2", "email": "autre@ailleurs.fr", "siret": "1"}
    assert backend.get_or_create_user("access", "id", {"sub": "s2"}) is None
    assert "SIRET valide" in backend.request.proconnect_refusal

    # the userinfo of somebody else than the ID token's subject
    backend.get_userinfo = lambda *a: {"sub": "s3", "email": "nouveau@asso.fr", "siret": siret}
    assert backend.get_or_create_user("access", "id", {"sub": "s1"}) is None
    assert backend.request.proconnect_refusal == proconnect.NOT_VERIFIED


def test_the_backend_ignores_password_logins(rf, proconnect_on):
    request = rf.post("/connexion/?code=x&state=y")
    assert proconnect.ProConnectBackend().authenticate(request, username="u", password="p") is None


def test_refused_proconnect_logins_lock_nobody_out_and_passwords_still_count(
    client, rf, proconnect_on, monkeypatch
):
    """django-axes counts failed passwords; ProConnect refusals (people of organisations
    Guichet does not know, behind one town hall's address) are not failed passwords."""
    from axes.models import AccessAttempt
    from django.contrib.auth import authenticate

    monkeypatch.setattr(proconnect.ProConnectBackend, "authenticate", lambda *a, **k: None)
    for _ in range(proconnect_on.AXES_FAILURE_LIMIT + 1):
        request = rf.get("/connexion/proconnect/retour/?code=c&state=s")
        assert authenticate(request, nonce="n", code_verifier="v") is None
        assert not getattr(request, "axes_locked_out", False)
    assert not AccessAttempt.objects.exists()
    client.post("/connexion/", {"username": "quelqu-un", "password": "mauvais"})
    assert AccessAttempt.objects.filter(username="quelqu-un").exists()
