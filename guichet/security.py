"""Security headers on every response, request size cap, and the French lockout answer.

``SecurityHeadersMiddleware`` runs right after Django's ``SecurityMiddleware`` (which sends
HSTS, ``nosniff``, ``Referrer-Policy`` and ``Cross-Origin-Opener-Policy`` from the settings)
and adds what Django 5.2 does not have: a Content-Security-Policy (self only; an inline
script needs ``nonce="{{ csp_nonce }}"``), a Permissions-Policy turning off the device APIs,
and ``nosniff`` / ``Referrer-Policy`` again for responses built outside the middleware chain.
A response that already carries a CSP (a document download: ``default-src 'none'; sandbox``)
keeps its own, stricter one.
"""

from __future__ import annotations

import ipaddress
import secrets

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

CSP_BASE = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# The Swagger page (self-hosted through drf-spectacular-sidecar, its init script served as a
# separate file) keeps one inline <style> block of drf-spectacular's template.
CSP_BY_PREFIX = {
    "/api/docs/": {"style-src": "'self' 'unsafe-inline'"},
}
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
)


def content_security_policy(path: str, nonce: str) -> str:
    directives = dict(CSP_BASE)
    for prefix, extra in CSP_BY_PREFIX.items():
        if path.startswith(prefix):
            directives.update(extra)
    directives["script-src"] = f"{directives['script-src']} 'nonce-{nonce}'"
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _too_large(request) -> HttpResponse | None:
    limit = getattr(settings, "GUICHET_MAX_REQUEST_BYTES", None)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        length = 0
    if not limit or length <= limit:
        return None
    message = (
        f"Requête trop volumineuse : {limit // (1024 * 1024)} Mo au plus "
        "(pièces jointes comprises)."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = _too_large(request) or self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(
                request.path, request.csp_nonce
            )
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("X-Content-Type-Options", "nosniff")
        if not getattr(response, "xframe_options_exempt", False):
            response.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        return response


def client_ip(request) -> str | None:
    """The caller's IP address for the lockouts and the access log (``GUICHET_PROXY_COUNT``
    trusted proxies in front: the address the outermost one saw)."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "GUICHET_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    chain = [ip.strip() for ip in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [ip for ip in chain if ip]
    if len(chain) < proxies:
        return remote
    candidate = chain[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


#: Usernames are at most this long (``User.username``); django-axes stores the name a
#: failed login was tried under in 255 characters.
USERNAME_MAX = 150


def login_username(request, credentials=None) -> str | None:
    """django-axes ``AXES_USERNAME_CALLABLE``: the name a failed login is counted under, as
    axes reads it (the credentials, else the form), cut to the longest username. Django's
    login forms pass a longer one to ``authenticate``: axes' 255 characters would overflow
    (a 500 on PostgreSQL) for a name that belongs to nobody."""
    data = credentials if credentials else getattr(request, "data", request.POST)
    username = data.get("username") if hasattr(data, "get") else None
    if username is None:
        return None
    return str(username).replace("\x00", "")[:USERNAME_MAX]


def not_a_password_login(request, credentials=None) -> bool:
    """django-axes ``AXES_WHITELIST_CALLABLE``: the lockouts count failed passwords; an
    OpenID Connect callback (ProConnect, ``web.proconnect``: a ``nonce``, no password) is
    neither counted nor locked out, so that people refused for their organisation do not
    lock out everyone behind the same address."""
    return bool(credentials) and "nonce" in credentials and not credentials.get("password")


def csp_nonce(request) -> dict:
    """Context processor: ``<script nonce="{{ csp_nonce }}">`` for the rare inline script."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


def lockout_message() -> str:
    minutes = (
        int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else 0
    )
    wait = (
        f"pendant {minutes} minutes" if minutes else "jusqu'à son déblocage par un administrateur"
    )
    return (
        "Trop de tentatives de connexion échouées : cet identifiant est bloqué depuis votre "
        f"adresse {wait}. Réessayez plus tard ou contactez l'administrateur du guichet."
    )


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes ``AXES_LOCKOUT_CALLABLE``: 429 with a French message, JSON under /api/,
    the login page again elsewhere (the web login and the admin's)."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    # An unbound form carrying only the message: validating it would try to log in again.
    username = str(request.POST.get("username", ""))[:150] if request.method == "POST" else ""
    form = AuthenticationForm(request, initial={"username": username})
    form._errors = ErrorDict({NON_FIELD_ERRORS: form.error_class([message])})
    return render(request, "registration/login.html", {"form": form}, status=429)
