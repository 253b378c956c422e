"""ProConnect login in a browser, against a real OpenID Connect provider running locally
(node's ``oidc-provider``, tests/browser/oidc/provider.mjs, set up like ProConnect: code
flow with PKCE required, RS256 ID token, signed userinfo with the ``siret`` claim,
RP-initiated logout). The fixture starts the provider on a free port of 127.0.0.1 and
stops it; the browser may reach 127.0.0.1 and localhost only.

The whole flow: Guichet's « S'identifier avec ProConnect » → the provider's login and
consent pages → back to Guichet with the code → the code and the PKCE verifier exchanged
for the tokens → the account found or created → the home page, logged in with Guichet's
role; the logout goes through the provider's ``end_session`` and back home.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cases.models import User
from tests import factories as f
from tests.cases.test_proconnect_accounts import siret_of
from web import proconnect

from .conftest import check_page, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SCRIPT = Path(__file__).resolve().parent / "oidc" / "provider.mjs"
NODE = shutil.which("node") or "/usr/bin/node"
CLIENT_ID, CLIENT_SECRET = "guichet-test", "secret-de-test-guichet-0123456789"
LOCAL = {"127.0.0.1", "localhost"}
ORGANISATION_SIREN = f.make_siren(5151)
UNKNOWN_SIREN = f.make_siren(6161)
ACCOUNTS = {
    "lea": {
        "email": "lea.roux@bastide.fr",
        "given_name": "Léa",
        "usual_name": "Roux",
        "siret": siret_of(ORGANISATION_SIREN),
    },
    "agent": {
        "email": "agent.proconnect@petr.fr",
        "given_name": "Paul",
        "usual_name": "Agent",
        "siret": siret_of(f.make_siren(7171)),
    },
    "inconnu": {
        "email": "inconnu@ailleurs.fr",
        "given_name": "Ines",
        "usual_name": "Connue",
        "siret": siret_of(UNKNOWN_SIREN),
    },
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def oidc_provider(live_server):
    """The provider process, for this module's tests: its issuer URL."""
    port = _free_port()
    env = {
        **os.environ,
        "GUICHET_OIDC_PORT": str(port),
        "GUICHET_OIDC_REDIRECT_URI": f"{live_server.url}/connexion/proconnect/retour/",
        "GUICHET_OIDC_POST_LOGOUT_URI": f"{live_server.url}/",
        "GUICHET_OIDC_CLIENT_ID": CLIENT_ID,
        "GUICHET_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "GUICHET_OIDC_ACCOUNTS": json.dumps(ACCOUNTS),
    }
    process = subprocess.Popen(
        [NODE, str(SCRIPT)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=str(SCRIPT.parents[3]),  # node_modules of the project
    )
    try:
        line = process.stdout.readline()  # « ready <issuer> », or nothing if it died
        assert line.startswith("ready "), f"the OIDC provider did not start ({line!r})"
        yield line.split()[1]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def proconnect_on(settings, oidc_provider):
    settings.GUICHET_OIDC_ENABLED = True
    settings.GUICHET_OIDC_ISSUER = oidc_provider
    settings.GUICHET_OIDC_CLIENT_ID = CLIENT_ID
    settings.GUICHET_OIDC_CLIENT_SECRET = CLIENT_SECRET
    proconnect._discovered.clear()
    yield oidc_provider
    proconnect._discovered.clear()


def _local_only(page) -> list[str]:
    """Requests beyond 127.0.0.1 / localhost are aborted and listed (the provider's
    development pages import a web font)."""
    blocked = []

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if host in LOCAL:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.context.route("**/*", guard)
    return blocked


def _proconnect_login(page, login: str, issuer: str) -> None:
    page.goto("/connexion/")
    page.get_by_role("link", name="S'identifier avec ProConnect").click()
    page.wait_for_url(f"{issuer}/**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "peu-importe")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # the provider's consent page


def test_a_porteur_logs_in_with_proconnect_for_the_first_time_and_out(
    page, live_server, proconnect_on
):
    organisation = f.OrganisationFactory(siren=ORGANISATION_SIREN, name="Commune de Bastide")
    blocked = _local_only(page)
    page.goto("/connexion/")
    assert page.get_by_role("link", name="Qu'est-ce que ProConnect ?").is_visible()
    check_page(page, "connexion avec ProConnect")

    _proconnect_login(page, "lea", proconnect_on)
    page.wait_for_url(f"{live_server.url}/mes-dossiers/")  # the porteur's home
    user = User.objects.get(email="lea.roux@bastide.fr")
    assert (user.role, user.organisation_id) == (User.Role.PORTEUR, organisation.pk)
    assert "Léa Roux (Porteur de projet)" in text(page, "header")
    check_page(page, "accueil après ProConnect")

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{proconnect_on}/session/end**")
    page.get_by_role("button", name="Se déconnecter de ProConnect").click()
    page.wait_for_url(f"{live_server.url}/transparence/")  # the home page of nobody
    assert page.get_by_role("link", name="Se connecter").is_visible()
    assert all(urlsplit(u).hostname == "fonts.googleapis.com" for u in blocked), blocked


def test_an_agent_logs_in_with_proconnect_and_keeps_guichets_role(page, live_server, proconnect_on):
    f.agent(email="Agent.ProConnect@petr.fr", first_name="Paul", last_name="Agent")
    _local_only(page)
    _proconnect_login(page, "agent", proconnect_on)
    page.wait_for_url(f"{live_server.url}/agent/")  # the agent's home
    assert "(Agent du PETR)" in text(page, "header")
    assert User.objects.filter(email__iexact="agent.proconnect@petr.fr").count() == 1


def test_an_unknown_organisation_is_refused_in_french(page, proconnect_on):
    _local_only(page)
    _proconnect_login(page, "inconnu", proconnect_on)
    page.wait_for_url("**/connexion/proconnect/retour/**")
    body = text(page)
    assert "Connexion avec ProConnect impossible" in body
    assert f"Votre organisation (SIREN {UNKNOWN_SIREN}) n'est pas encore connue" in body
    assert page.get_by_role("link", name="Se connecter").is_visible()  # not logged in
    assert not User.objects.filter(email="inconnu@ailleurs.fr").exists()
    check_page(page, "refus ProConnect")


def test_the_provider_requires_pkce(proconnect_on, live_server):
    """The provider is set up like ProConnect: an authorisation request without a PKCE
    challenge is refused (so the login above did send one)."""
    import requests

    configuration = requests.get(f"{proconnect_on}/.well-known/openid-configuration", timeout=5)
    answer = requests.get(
        configuration.json()["authorization_endpoint"],
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "openid email",
            "redirect_uri": f"{live_server.url}/connexion/proconnect/retour/",
            "state": "s" * 32,
            "nonce": "n" * 32,
        },
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code in (302, 303)
    assert "error=invalid_request" in answer.headers["location"]
    assert "requires+PKCE" in answer.headers["location"]
