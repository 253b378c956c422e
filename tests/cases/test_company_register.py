"""The SIREN / SIRET look-up in the public company register (issue 15 point 5), against a
real local HTTP server that answers with the register's documented shape (« API Recherche
d'entreprises », GET /search?q=…): found, unknown, slow, failing, garbage, too long, cached;
and the API route that the intake uses before creating an organisation."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from cases.company_register import FOUND, MANUAL, NOT_FOUND, OFF, UNAVAILABLE, company_lookup
from engine.errors import DomainError
from schemes.models import Commune
from tests import factories as f

SIREN = "130025265"  # Direction interministérielle du numérique (public data)
SIRET_SIEGE = "13002526500013"
SIRET_OTHER = "13002526500021"


def register_answer(q: str) -> dict:
    """The register's documented response shape (a search by SIREN)."""
    if q != SIREN:
        return {"results": [], "total_results": 0, "page": 1, "per_page": 5, "total_pages": 0}
    return {
        "results": [
            {
                "siren": SIREN,
                "nom_complet": "DIRECTION INTERMINISTERIELLE DU NUMERIQUE (DINUM)",
                "nom_raison_sociale": "DIRECTION INTERMINISTERIELLE DU NUMERIQUE",
                "sigle": "DINUM",
                "nombre_etablissements": 2,
                "nombre_etablissements_ouverts": 2,
                "siege": {
                    "siret": SIRET_SIEGE,
                    "adresse": "20 AVENUE DE SEGUR 75007 PARIS",
                    "code_postal": "75007",
                    "commune": "75107",
                    "libelle_commune": "PARIS",
                    "est_siege": True,
                    "etat_administratif": "A",
                },
                "activite_principale": "84.11Z",
                "categorie_entreprise": None,
                "date_creation": "2019-10-25",
                "etat_administratif": "A",
                "nature_juridique": "7120",
                "section_activite_principale": "O",
                "matching_etablissements": [
                    {
                        "siret": SIRET_OTHER,
                        "adresse": "1 RUE DE LA MAIRIE 46100 FIGEAC",
                        "code_postal": "46100",
                        "commune": "46102",
                        "libelle_commune": "FIGEAC",
                        "est_siege": False,
                        "etat_administratif": "A",
                    }
                ],
                "complements": {"est_service_public": True},
            }
        ],
        "total_results": 1,
        "page": 1,
        "per_page": 5,
        "total_pages": 1,
    }


class Register(BaseHTTPRequestHandler):
    mode = "ok"  # ok, slow, error, garbage, huge
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        Register.hits.append(self.path)
        if Register.mode == "slow":
            time.sleep(1.5)
        if Register.mode == "error":
            self._send(500, b'{"erreur": "Erreur interne"}')
        elif Register.mode == "garbage":
            self._send(200, b"<html>maintenance</html>")
        elif Register.mode == "huge":
            self._send(200, b'{"results": [' + b'"x",' * 400_000 + b'"x"]}')
        elif url.path != "/search":
            self._send(404, b'{"erreur": "not found"}')
        else:
            q = parse_qs(url.query).get("q", [""])[0]
            self._send(200, json.dumps(register_answer(q)).encode())

    def _send(self, code: int, body: bytes):
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Register)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def register(server, settings):
    Register.mode = "ok"
    Register.hits = []
    settings.GUICHET_COMPANY_REGISTER_URL = server
    settings.GUICHET_COMPANY_REGISTER_TIMEOUT = 0.5
    return Register


def test_found_by_siren_fills_the_organisation(register):
    result = company_lookup("130 025 265")
    assert result.status == FOUND
    company = result.company
    assert company.name == "DIRECTION INTERMINISTERIELLE DU NUMERIQUE"
    assert company.siret == SIRET_SIEGE
    assert (company.postcode, company.commune_insee, company.commune_name) == (
        "75007",
        "75107",
        "PARIS",
    )
    assert company.kind == "public_body" and company.legal_category == "7120"
    assert company.active and company.activity == "84.11Z"
    assert register.hits and "q=130025265" in register.hits[0]


def test_a_siret_picks_its_establishment(register):
    company = company_lookup(SIRET_OTHER).company
    assert company.siret == SIRET_OTHER
    assert (company.commune_name, company.commune_insee) == ("FIGEAC", "46102")
    # the same SIREN: the second number is answered from the cache
    assert company_lookup(SIRET_SIEGE).company.commune_name == "PARIS"
    assert len(register.hits) == 1


def test_unknown_number(register):
    other = f.make_siren(4242)
    result = company_lookup(other)
    assert result.status == NOT_FOUND and result.company is None
    assert "pas dans le répertoire" in result.message


def test_second_call_is_served_from_the_cache(register):
    assert company_lookup(SIREN).status == FOUND
    assert company_lookup(SIREN).status == FOUND
    assert len(register.hits) == 1
    company_lookup(f.make_siren(77))
    company_lookup(f.make_siren(77))  # an unknown number is cached too
    assert len(register.hits) == 2


@pytest.mark.parametrize("mode", ["slow", "error", "garbage", "huge"])
def test_a_register_that_does_not_answer_gives_the_manual_fallback(register, mode):
    register.mode = mode
    started = time.monotonic()
    result = company_lookup(SIREN)
    assert result.status == UNAVAILABLE and result.company is None
    assert result.message == MANUAL and "à la main" in result.message
    assert time.monotonic() - started < 1.4  # the timeout, not the server's sleep
    # nothing cached: once the register is back, the number is found
    register.mode = "ok"
    assert company_lookup(SIREN).status == FOUND


def test_a_closed_port_gives_the_manual_fallback(settings):
    settings.GUICHET_COMPANY_REGISTER_URL = "http://127.0.0.1:9"
    assert company_lookup(SIREN).message == MANUAL


def test_a_non_http_url_is_refused(settings):
    settings.GUICHET_COMPANY_REGISTER_URL = "file:///etc"
    assert company_lookup(SIREN).status == UNAVAILABLE


@pytest.mark.parametrize("bad", ["", "12345678", "130025266", "13002526500014", "1300252650001x"])
def test_a_wrong_number_is_refused_before_any_call(register, bad):
    with pytest.raises(DomainError, match="Luhn"):
        company_lookup(bad)
    assert register.hits == []


def test_an_empty_url_turns_the_look_up_off(settings):
    settings.GUICHET_COMPANY_REGISTER_URL = ""
    result = company_lookup(SIREN)
    assert (result.status, result.message) == (UNAVAILABLE, OFF)


# ---------------------------------------------------------------- the API route


@pytest.mark.django_db
def test_api_lookup_for_an_agent(register):
    agent = f.agent()
    client = APIClient()
    client.force_authenticate(agent)
    body = client.get("/api/v1/company-lookup/", {"siret": SIRET_SIEGE}).json()
    assert body["status"] == "found"
    assert body["company"]["name"] == "DIRECTION INTERMINISTERIELLE DU NUMERIQUE"
    assert body["company"]["commune_on_territory"] is False  # Paris is not on the territory
    assert body["company"]["already_registered"] is False
    # the organisation is then created with what the register said
    commune = Commune.objects.order_by("insee").first()
    created = client.post(
        "/api/v1/organisations/",
        {
            "name": body["company"]["name"],
            "kind": body["company"]["kind"],
            "siren": body["company"]["siren"],
            "commune": commune.insee,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    again = client.get("/api/v1/company-lookup/", {"siret": SIREN}).json()
    assert again["company"]["already_registered"] is True
    register.mode = "error"
    f.make_siren(5)
    down = client.get("/api/v1/company-lookup/", {"siret": f.make_siren(5)}).json()
    assert down == {"status": "unavailable", "message": MANUAL, "company": None}


@pytest.mark.django_db
def test_api_lookup_refusals(register):
    client = APIClient()
    assert client.get("/api/v1/company-lookup/", {"siret": SIREN}).status_code == 401
    client.force_authenticate(f.porteur())
    assert client.get("/api/v1/company-lookup/", {"siret": SIREN}).status_code == 403
    client.force_authenticate(f.agent())
    bad = client.get("/api/v1/company-lookup/", {"siret": "123"})
    assert bad.status_code == 400 and "Luhn" in bad.json()["detail"]
    assert client.get("/api/v1/company-lookup/").status_code == 400
    assert register.hits == []


@pytest.mark.parametrize(
    ("category", "kind"),
    [
        ("7210", "COMMUNE"),
        ("7348", "EPCI"),
        ("7220", "DEPARTEMENT"),
        ("7230", "REGION"),
        ("9220", "ASSOCIATION"),
        ("7120", "PUBLIC_BODY"),
        ("5710", "COMPANY"),
        ("", "COMPANY"),
    ],
)
def test_a_legal_category_maps_onto_the_organisation_kinds(category, kind):
    from cases.company_register import kind_of
    from cases.models import Organisation

    assert kind_of(category) is Organisation.Kind[kind]  # the model's own choices
