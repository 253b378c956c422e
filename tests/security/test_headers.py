"""Security headers on every kind of response: HTML pages, the API, files, errors."""

import re

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def assert_hardened(response, *, csp_contains=("default-src 'self'",)):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy
    csp = response["Content-Security-Policy"]
    for part in csp_contains:
        assert part in csp, csp
    assert "unsafe-eval" not in csp
    return csp


def test_html_page_has_a_strict_csp_with_a_fresh_nonce(client):
    first = client.get("/connexion/")
    csp = assert_hardened(
        first,
        csp_contains=(
            "default-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ),
    )
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "'unsafe-inline'" not in script_src
    assert re.search(r"'nonce-[A-Za-z0-9_-]{16,}'", script_src)
    second = client.get("/connexion/")
    assert second["Content-Security-Policy"] != csp  # one nonce per response
    assert "style-src 'self';" in csp  # no inline style on the site's pages


def test_api_json_and_errors_are_hardened(api):
    assert_hardened(api(f.agent()).get("/api/v1/me/"))
    assert_hardened(api().get("/api/v1/me/"))  # 401
    assert_hardened(api(f.agent()).get("/api/v1/cases/999999/"))  # 404
    assert_hardened(api().post("/api/v1/auth/token/", "{", content_type="application/json"))


def test_file_attachment_keeps_its_own_sandbox_policy(api, dossier, settings):
    pytest.importorskip("web.documents")
    settings.ROOT_URLCONF = "tests.security.urls"
    porteur, case, doc = dossier
    from django.test import Client

    client = Client()
    client.force_login(porteur)
    response = client.get(f"/test-documents/{doc.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert_hardened(response, csp_contains=("default-src 'none'", "sandbox"))
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_export_attachment_is_hardened(api):
    response = api(f.porteur()).get("/api/v1/me/export/")
    assert response["Content-Disposition"].startswith("attachment;")
    assert_hardened(response)


def test_api_docs_are_self_hosted_and_need_no_inline_script(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn.jsdelivr" not in html and "unpkg" not in html and "https://" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    inline = [tag for tag in re.findall(r"<script[^>]*>", html) if "src=" not in tag]
    assert not inline, inline
    csp = assert_hardened(page)
    assert "script-src 'self' 'nonce-" in csp
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_site_templates_have_no_inline_script_without_nonce():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for template in root.rglob("*.html"):
        if "/pdf/" in template.as_posix() or "/email/" in template.as_posix():
            continue  # rendered to PDF or e-mail, never served to a browser
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'nonce="{{ csp_nonce }}"' not in tag:
                offenders.append(f"{template.relative_to(root)}: {tag}")
        if re.search(r"\son[a-z]+\s*=", text) or "javascript:" in text:
            offenders.append(f"{template.relative_to(root)}: gestionnaire d'événement en ligne")
    assert not offenders, (
        "Script en ligne bloqué par la Content-Security-Policy : ajoutez "
        'nonce="{{ csp_nonce }}" ou déplacez-le dans un fichier statique.\n' + "\n".join(offenders)
    )


def test_oversized_request_is_refused_before_reading_it(api, settings):
    settings.GUICHET_MAX_REQUEST_BYTES = 1000
    response = api(f.agent()).post("/api/v1/cases/", {"title": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert "trop volumineuse" in response.json()["detail"]
    assert_hardened(response)
