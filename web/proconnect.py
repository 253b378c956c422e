"""ProConnect login (OpenID Connect, authorisation code with PKCE), through
``mozilla-django-oidc`` (docs/adr/012-proconnect-login.md, README « ProConnect »).

The library's views and backend read their ``OIDC_*`` settings through ``get_settings``:
here that is ``oidc_setting``, which answers from Guichet's own ``GUICHET_OIDC_*`` settings
and takes the provider's endpoints from its discovery document (``GUICHET_OIDC_ISSUER``
+ ``/.well-known/openid-configuration``) unless they are given one by one. Who may log
in, and as what, is ``cases.services.proconnect`` (a rule of the accounts, not of HTTP).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import render, resolve_url
from django.utils.crypto import get_random_string
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from cases.services.proconnect import proconnect_account
from engine.errors import DomainError

log = logging.getLogger(__name__)

DISCOVERY_SECONDS = 3600
UNAVAILABLE = "ProConnect ne répond pas pour le moment : réessayez dans quelques minutes."
NOT_VERIFIED = (
    "La réponse de ProConnect n'a pas pu être vérifiée : vous n'êtes pas connecté. "
    "Recommencez la connexion depuis la page « Connexion »."
)
CANCELLED = (
    "La connexion avec ProConnect a été annulée ou n'a pas abouti : vous n'êtes pas connecté."
)


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read (the reason goes to the log)."""


def enabled() -> bool:
    return bool(getattr(settings, "GUICHET_OIDC_ENABLED", False))


def password_login_enabled() -> bool:
    return bool(getattr(settings, "GUICHET_PASSWORD_LOGIN_ENABLED", True))


_discovered: dict[str, tuple[float, dict]] = {}


def _discovery_url() -> str:
    explicit = getattr(settings, "GUICHET_OIDC_DISCOVERY_URL", "")
    if explicit:
        return explicit
    issuer = str(getattr(settings, "GUICHET_OIDC_ISSUER", "") or "").rstrip("/")
    if not issuer:
        raise ProviderUnavailable("GUICHET_OIDC_ISSUER is empty")
    return f"{issuer}/.well-known/openid-configuration"


def provider_configuration() -> dict:
    """The provider's discovery document, kept an hour in this process."""
    url = _discovery_url()
    cached = _discovered.get(url)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        response = requests.get(url, timeout=settings.GUICHET_OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{url}: {exc}") from exc
    if not isinstance(document, dict) or not document.get("authorization_endpoint"):
        raise ProviderUnavailable(f"{url}: not an OpenID Connect discovery document")
    _discovered[url] = (time.monotonic() + DISCOVERY_SECONDS, document)
    return document


#: mozilla-django-oidc's endpoint settings → (Guichet's setting, the discovery key)
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": (
        "GUICHET_OIDC_AUTHORIZATION_ENDPOINT",
        "authorization_endpoint",
    ),
    "OIDC_OP_TOKEN_ENDPOINT": ("GUICHET_OIDC_TOKEN_ENDPOINT", "token_endpoint"),
    "OIDC_OP_USER_ENDPOINT": ("GUICHET_OIDC_USERINFO_ENDPOINT", "userinfo_endpoint"),
    "OIDC_OP_JWKS_ENDPOINT": ("GUICHET_OIDC_JWKS_ENDPOINT", "jwks_uri"),
    "OIDC_OP_LOGOUT_ENDPOINT": ("GUICHET_OIDC_END_SESSION_ENDPOINT", "end_session_endpoint"),
}
#: mozilla-django-oidc's other settings → Guichet's
RENAMED = {
    "OIDC_RP_CLIENT_ID": "GUICHET_OIDC_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET": "GUICHET_OIDC_CLIENT_SECRET",
    "OIDC_RP_SCOPES": "GUICHET_OIDC_SCOPES",
    "OIDC_RP_SIGN_ALGO": "GUICHET_OIDC_SIGN_ALGO",
    "OIDC_TIMEOUT": "GUICHET_OIDC_TIMEOUT",
}
FIXED = {
    "OIDC_USE_PKCE": True,
    "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
    "OIDC_USE_NONCE": True,
    "OIDC_STORE_ID_TOKEN": True,  # for the logout's id_token_hint
    "OIDC_AUTHENTICATION_CALLBACK_URL": "web:proconnect_callback",
    "OIDC_RP_IDP_SIGN_KEY": None,
}


def endpoint(name: str) -> str:
    """One of the provider's endpoints (``OIDC_OP_TOKEN_ENDPOINT``…): Guichet's setting
    when it is given, else the discovery document's."""
    setting, key = ENDPOINTS[name]
    return getattr(settings, setting, "") or str(provider_configuration().get(key) or "")


def oidc_setting(attr: str, *default):
    """``get_settings`` of the library's views and backend."""
    if attr in ENDPOINTS:
        return endpoint(attr)
    if attr in RENAMED:
        return getattr(settings, RENAMED[attr])
    if attr in FIXED:
        return FIXED[attr]
    if attr == "OIDC_AUTH_REQUEST_EXTRA_PARAMS":
        acr = getattr(settings, "GUICHET_OIDC_ACR_VALUES", "")
        return {"acr_values": acr} if acr else {}
    return import_from_settings(attr, *default)


def _refuse(request, message: str) -> None:
    request.proconnect_refusal = message


class ProConnectBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend: the code is exchanged with the PKCE verifier, the ID
    token's signature (the provider's JWKS), nonce, issuer and audience are checked, the
    userinfo (a signed JWT at ProConnect) is read; the account is Guichet's rule."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # Django builds the backend for every request with a session (get_user): no setting
        # and no network here, only in ``authenticate``.
        self.UserModel = auth.get_user_model()

    def authenticate(self, request, **kwargs):
        if request is None or "nonce" not in kwargs or not enabled():
            return None  # a password login, or ProConnect is off
        try:
            for name in (
                "OIDC_OP_TOKEN_ENDPOINT",
                "OIDC_OP_USER_ENDPOINT",
                "OIDC_OP_JWKS_ENDPOINT",
            ):
                setattr(self, name, endpoint(name))
            for name in ("OIDC_RP_CLIENT_ID", "OIDC_RP_CLIENT_SECRET", "OIDC_RP_SIGN_ALGO"):
                setattr(self, name, oidc_setting(name))
            self.OIDC_RP_IDP_SIGN_KEY = None
            return super().authenticate(request, **kwargs)
        except (ProviderUnavailable, requests.RequestException) as exc:
            log.warning("ProConnect: provider unavailable: %s", exc)
            _refuse(request, UNAVAILABLE)
        except (SuspiciousOperation, ValueError, jwt.PyJWTError) as exc:
            log.warning("ProConnect: answer not verified: %s", exc)
            _refuse(request, NOT_VERIFIED)
        return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        issuer = expected_issuer()
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation("Unexpected issuer")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if audience is not None and self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("Unexpected audience")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: the userinfo's ``sub`` is the ID token's.
        if not isinstance(claims, dict) or claims.get("sub") != payload.get("sub"):
            _refuse(self.request, NOT_VERIFIED)
            return None
        try:
            return proconnect_account(claims=claims)
        except DomainError as exc:
            _refuse(self.request, exc.message)
            return None

    def get_user(self, user_id):
        # Django's rule (an inactive account's session ends), not the library's.
        return ModelBackend.get_user(self, user_id)


def expected_issuer() -> str:
    """The ``iss`` the tokens must carry: the discovery document's, or the configured
    issuer when the endpoints are given one by one."""
    if getattr(settings, "GUICHET_OIDC_TOKEN_ENDPOINT", ""):
        return str(getattr(settings, "GUICHET_OIDC_ISSUER", "") or "")
    return str(provider_configuration().get("issuer") or "")


class _StartView(OIDCAuthenticationRequestView):
    get_settings = staticmethod(oidc_setting)


class _CallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    def login_failure(self):
        message = getattr(self.request, "proconnect_refusal", None) or CANCELLED
        return failure_page(self.request, message, status=403)


def failure_page(request, message: str, *, status: int):
    return render(
        request,
        "registration/proconnect_refused.html",
        {"message": message, "password_login": password_login_enabled()},
        status=status,
    )


def start(request):
    """``/connexion/proconnect/``: off the provider's authorisation page (state, nonce,
    PKCE challenge kept in the session)."""
    if not enabled():
        raise Http404("ProConnect n'est pas activé sur ce guichet.")
    try:
        return _StartView.as_view()(request)
    except ProviderUnavailable as exc:
        log.warning("ProConnect: provider unavailable: %s", exc)
        return failure_page(request, UNAVAILABLE, status=503)


def callback(request):
    """``/connexion/proconnect/retour/``: the provider sends the browser back with the code."""
    if not enabled():
        raise Http404("ProConnect n'est pas activé sur ce guichet.")
    return _CallbackView.as_view()(request)


class LoginView(auth_views.LoginView):
    """``/connexion/``: the ProConnect button when it is on, the password form unless
    ``GUICHET_PASSWORD_LOGIN_ENABLED`` is off (then a posted password is refused)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(proconnect=enabled(), password_off=not password_login_enabled())
        return context

    def post(self, request, *args, **kwargs):
        if not password_login_enabled():
            return self.render_to_response(self.get_context_data(password_refused=True), status=403)
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST); after a ProConnect login, on to the provider's
    ``end_session_endpoint`` with the ID token as ``id_token_hint``, back to the home page."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        if not (id_token and enabled()):
            return response
        try:
            end_session = endpoint("OIDC_OP_LOGOUT_ENDPOINT")
        except ProviderUnavailable as exc:
            log.warning("ProConnect: no logout at the provider: %s", exc)
            return response
        if not end_session:
            return response
        query = urlencode(
            {
                "id_token_hint": id_token,
                "state": get_random_string(32),
                "post_logout_redirect_uri": request.build_absolute_uri(
                    resolve_url(settings.LOGOUT_REDIRECT_URL)
                ),
            }
        )
        # A page that moves on by itself, not a redirect: the chain of redirects that
        # follows a posted form is held to the CSP's « form-action 'self' », and ProConnect
        # passes the browser on to the person's own identity provider to log out there.
        return render(
            request,
            "registration/proconnect_logout.html",
            {"end_session": f"{end_session}?{query}"},
        )
