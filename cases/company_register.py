"""The public company register (« API Recherche d'entreprises », no key): what it says of a
SIREN or a SIRET, to fill an organisation before it is created.

``company_lookup`` checks the number (Luhn) before any call, then asks
``GET {GUICHET_COMPANY_REGISTER_URL}/search?q=<siren>`` with a timeout
(``GUICHET_COMPANY_REGISTER_TIMEOUT``, seconds) and a bounded answer (1 MB at most). A found
or unknown number is cached (``GUICHET_COMPANY_REGISTER_CACHE_SECONDS``, one day by
default); a register that does not answer (timeout, refused connection, 5xx, bad JSON, too
long an answer) is never cached and gives a French message that sends the user to type the
organisation by hand. An empty URL turns the look-up off (the same manual fallback).
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache

from engine.errors import DomainError

from .models import Organisation
from .siren import siren_valid, siret_valid

log = logging.getLogger(__name__)

DEFAULT_URL = "https://recherche-entreprises.api.gouv.fr"
MAX_BYTES = 1024 * 1024
FOUND, NOT_FOUND, UNAVAILABLE = "found", "not_found", "unavailable"
MANUAL = (
    "Le répertoire des entreprises ne répond pas pour le moment : saisissez le nom, le type "
    "et la commune de l'organisation à la main, ils pourront être vérifiés plus tard."
)
OFF = (
    "La recherche dans le répertoire des entreprises n'est pas activée sur ce guichet : "
    "saisissez le nom, le type et la commune de l'organisation à la main."
)
UNKNOWN = (
    "Ce numéro n'est pas dans le répertoire des entreprises (ou l'organisation n'y est pas "
    "diffusible) : vérifiez-le, ou saisissez l'organisation à la main."
)


@dataclass(frozen=True)
class Company:
    """What the register says of one organisation, in the words of the intake."""

    siren: str
    siret: str
    name: str
    kind: str  # an ``Organisation.Kind`` value guessed from the legal category
    legal_category: str
    activity: str
    address: str
    postcode: str
    commune_name: str
    commune_insee: str
    active: bool  # the company (« état administratif » A), not ceased (C)
    establishment_active: bool = True  # the SIRET's establishment, when the answer says so


@dataclass(frozen=True)
class Lookup:
    status: str  # FOUND, NOT_FOUND or UNAVAILABLE
    message: str
    company: Company | None = None

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "message": self.message,
            "company": asdict(self.company) if self.company else None,
        }


class RegisterUnavailable(Exception):
    """The register did not answer usably; the reason goes to the log, never to the user."""


def clean_number(raw) -> tuple[str, str]:
    """``(siren, siret)`` of a SIREN (9 digits) or SIRET (14 digits), spaces allowed;
    ``siret`` is empty for a SIREN. A wrong number: a ``DomainError`` (no call is made)."""
    digits = str(raw or "").replace(" ", "").replace("\u00a0", "")
    if len(digits) == 14 and siret_valid(digits):
        return digits[:9], digits
    if len(digits) == 9 and siren_valid(digits):
        return digits, ""
    raise DomainError(
        "Numéro invalide : un SIREN (9 chiffres) ou un SIRET (14 chiffres) dont la clé de "
        "contrôle (Luhn) est correcte.",
        errors={"siret": ["SIREN ou SIRET invalide."]},
    )


def kind_of(legal_category: str) -> str:
    """The ``Organisation.Kind`` of an INSEE legal category (« catégorie juridique »)."""
    kind = Organisation.Kind
    code = str(legal_category or "")
    if code == "7210":
        return kind.COMMUNE
    if code in {"7343", "7344", "7346", "7348"}:  # urban, metropolis, communes, agglomeration
        return kind.EPCI
    if code == "7220":
        return kind.DEPARTEMENT
    if code == "7230":
        return kind.REGION
    if code.startswith("92"):
        return kind.ASSOCIATION
    if code.startswith(("7", "4")):
        return kind.PUBLIC_BODY
    return kind.COMPANY


def company_lookup(number) -> Lookup:
    """What the register says of ``number`` (a SIREN or a SIRET), cached."""
    siren, siret = clean_number(number)
    base = str(getattr(settings, "GUICHET_COMPANY_REGISTER_URL", DEFAULT_URL) or "").rstrip("/")
    if not base:
        return Lookup(UNAVAILABLE, OFF)
    key = f"company-register:{siren}"
    payload = cache.get(key)
    if payload is None:
        try:
            payload = _fetch(base, siren)
        except RegisterUnavailable as exc:
            log.warning("company register unavailable for %s: %s", siren, exc)
            return Lookup(UNAVAILABLE, MANUAL)
        seconds = int(getattr(settings, "GUICHET_COMPANY_REGISTER_CACHE_SECONDS", 86400))
        cache.set(key, payload, seconds)
    company = _company(payload, siren, siret)
    if company is None:
        return Lookup(NOT_FOUND, UNKNOWN)
    message = f"Trouvé dans le répertoire des entreprises : {company.name}."
    if not company.active:
        message += " Attention : cette organisation y est déclarée cessée."
    return Lookup(FOUND, message, company)


def _fetch(base: str, siren: str) -> dict:
    """The register's parsed answer for ``q=siren``, only the result of that SIREN kept
    (what is cached): ``{"result": {...} | None}``."""
    if urllib.parse.urlsplit(base).scheme not in {"http", "https"}:
        raise RegisterUnavailable(f"URL scheme refused: {base!r}")
    url = f"{base}/search?{urllib.parse.urlencode({'q': siren, 'page': 1, 'per_page': 5})}"
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": "Guichet (subventions)"}
    )
    timeout = float(getattr(settings, "GUICHET_COMPANY_REGISTER_TIMEOUT", 3))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > MAX_BYTES:
                raise RegisterUnavailable(f"answer too long ({length} bytes)")
            body = response.read(MAX_BYTES + 1)
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError, timeouts, 5xx
        raise RegisterUnavailable(repr(exc)) from exc
    if len(body) > MAX_BYTES:
        raise RegisterUnavailable("answer too long")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RegisterUnavailable(f"bad JSON: {exc}") from exc
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise RegisterUnavailable("no « results » list")
    mine = [r for r in results if isinstance(r, dict) and str(r.get("siren")) == siren]
    return {"result": mine[0] if mine else None}


def _text(value, limit: int = 200) -> str:
    return str(value or "").strip()[:limit]


def _company(payload: dict, siren: str, siret: str) -> Company | None:
    result = payload.get("result")
    if not isinstance(result, dict):
        return None
    siege = result.get("siege") if isinstance(result.get("siege"), dict) else {}
    place = siege
    if siret and str(siege.get("siret")) != siret:
        others = result.get("matching_etablissements") or []
        matches = [e for e in others if isinstance(e, dict) and str(e.get("siret")) == siret]
        place = matches[0] if matches else {}
    legal = _text(result.get("nature_juridique"), 4)
    name = _text(result.get("nom_raison_sociale") or result.get("nom_complet"))
    return Company(
        siren=siren,
        siret=siret or _text(siege.get("siret"), 14),
        name=name,
        kind=kind_of(legal),
        legal_category=legal,
        activity=_text(result.get("activite_principale"), 10),
        address=_text(place.get("adresse"), 300),
        postcode=_text(place.get("code_postal"), 5),
        commune_name=_text(place.get("libelle_commune"), 100),
        commune_insee=_text(place.get("commune"), 5),
        active=str(result.get("etat_administratif") or "A") == "A",
        establishment_active=str(place.get("etat_administratif") or "A") == "A",
    )
