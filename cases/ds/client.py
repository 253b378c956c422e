"""The HTTP side of Démarches Simplifiées: GraphQL POSTs with the démarche's token, and
file downloads, each with a timeout and a bounded answer. Failures become ``DsError`` with
a French message (the token never appears in it)."""

from __future__ import annotations

import http.client
import json
import logging
import os
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path

from django.conf import settings

from cases.models.ds import TOKEN_ENV_PREFIX

log = logging.getLogger(__name__)

QUERIES = Path(__file__).resolve().parent / "queries"
MAX_ANSWER_BYTES = 50 * 1024 * 1024  # a page of dossiers with many champs stays far below


class DsError(Exception):
    """DS did not answer usably. ``transient``: worth retrying later (network, 5xx)."""

    def __init__(self, message: str, *, transient: bool = True):
        super().__init__(message)
        self.message = message
        self.transient = transient


FRAGMENTS = "dossier_fragments"


@cache
def query_text(name: str) -> str:
    """The GraphQL document ``queries/<name>.graphql``, with the shared fragments it uses."""
    text = (QUERIES / f"{name}.graphql").read_text(encoding="utf-8")
    if name != FRAGMENTS and "...Guichet" in text:
        text += "\n" + query_text(FRAGMENTS)
    return text


DEFAULTS = {
    "GUICHET_DS_API_URL": "https://www.demarches-simplifiees.fr/api/v2/graphql",
    "GUICHET_DS_TIMEOUT": "30",  # seconds, for each call and each file
    "GUICHET_DS_PAGE_SIZE": "50",  # dossiers per page
    "GUICHET_DS_SYNC_MINUTES": "60",  # the periodic import of each active démarche
}


def setting(name: str) -> str:
    """A DS setting: Django's settings if set there, else the environment, else the default."""
    return str(getattr(settings, name, None) or os.environ.get(name) or DEFAULTS[name])


def api_url() -> str:
    return setting("GUICHET_DS_API_URL")


def timeout() -> float:
    return float(setting("GUICHET_DS_TIMEOUT"))


def token_for(env_name: str) -> str:
    if not (env_name or "").startswith(TOKEN_ENV_PREFIX):
        raise DsError(
            f"Variable du jeton refusée : son nom doit commencer par {TOKEN_ENV_PREFIX}.",
            transient=False,
        )
    token = os.environ.get(env_name or "", "").strip()
    if not token:
        raise DsError(
            f"Jeton API Démarches Simplifiées absent : définissez la variable "
            f"d'environnement « {env_name} » sur le serveur.",
            transient=False,
        )
    return token


def _read_bounded(response, limit: int, what: str) -> bytes:
    data = response.read(limit + 1)
    if len(data) > limit:
        raise DsError(f"{what} trop volumineux ({limit // (1024 * 1024)} Mo au plus).")
    return data


def graphql(*, token_env: str, query: str, variables: dict) -> dict:
    """POST one operation (``query``: a file name of ``queries/``) and return its ``data``;
    GraphQL errors, HTTP errors, timeouts and bad JSON raise ``DsError``."""
    body = json.dumps({"query": query_text(query), "variables": variables}).encode()
    request = urllib.request.Request(
        api_url(),
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token_for(token_env)}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout()) as response:
            raw = _read_bounded(response, MAX_ANSWER_BYTES, "Réponse de DS")
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise DsError(
                "Démarches Simplifiées refuse le jeton API (expiré, révoqué ou sans accès à "
                "cette démarche) : demandez-en un nouveau à l'administrateur de la démarche.",
                transient=False,
            ) from None
        raise DsError(f"Démarches Simplifiées a répondu par une erreur HTTP {exc.code}.") from None
    except (OSError, http.client.HTTPException) as exc:
        log.warning("DS unreachable: %s", exc)
        raise DsError("Démarches Simplifiées ne répond pas (délai dépassé ou réseau).") from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise DsError("Réponse de Démarches Simplifiées illisible (JSON invalide).") from None
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if errors or not isinstance(answer, dict) or answer.get("data") is None:
        said = "; ".join(str(e.get("message", e))[:200] for e in errors or [])
        raise DsError(
            f"Démarches Simplifiées a refusé la requête : {said or 'réponse vide'}.",
            transient=False,
        )
    return answer["data"]


def download(url: str, *, limit: int) -> bytes:
    """A file of a dossier (DS gives signed URLs: no token), ``limit`` bytes at most."""
    if not url.startswith(("https://", "http://")):
        raise DsError("Adresse de fichier DS invalide.", transient=False)
    try:
        with urllib.request.urlopen(url, timeout=timeout()) as response:
            return _read_bounded(response, limit, "Fichier")
    except urllib.error.HTTPError as exc:
        raise DsError(f"Téléchargement refusé par DS (HTTP {exc.code}).") from None
    except (OSError, http.client.HTTPException):
        raise DsError("Téléchargement depuis DS impossible (délai dépassé ou réseau).") from None
