"""Login brute force: N failures per username + IP lock that pair out (django-axes), on the
API token endpoint, the web login and the admin login; a cool-off lifts the lock."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories as f

pytestmark = pytest.mark.django_db

FRENCH = "Trop de tentatives de connexion échouées"


def token(username, password, ip="203.0.113.7"):
    return APIClient(REMOTE_ADDR=ip).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def web_login(client, path, username, password, ip="203.0.113.7"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_api_token_locks_after_n_failures_even_for_the_right_password():
    user = f.agent()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = token(user.username, "mauvais")
        assert response.status_code == 400
        assert "incorrect" in response.json()["detail"]
    last = token(user.username, "mauvais")
    assert last.status_code == 429 and FRENCH in last.json()["detail"]
    locked = token(user.username, f.PASSWORD)
    assert locked.status_code == 429
    assert FRENCH in locked.json()["detail"] and "token" not in locked.json()
    # the lock is per username + IP: the same account from another address still works
    assert token(user.username, f.PASSWORD, ip="198.51.100.9").status_code == 200
    # and another account from the locked address too
    other = f.agent()
    assert token(other.username, f.PASSWORD).status_code == 200


def test_lock_is_lifted_after_the_cool_off():
    user = f.porteur()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token(user.username, "mauvais")
    assert token(user.username, f.PASSWORD).status_code == 429
    cool_off = settings.AXES_COOLOFF_TIME
    with time_machine.travel(timezone.now() + cool_off - dt.timedelta(minutes=1)):
        assert token(user.username, f.PASSWORD).status_code == 429
    # A failure during the lock restarts the cool-off: wait it out from the last attempt.
    with time_machine.travel(timezone.now() + 2 * cool_off + dt.timedelta(minutes=1)):
        response = token(user.username, f.PASSWORD)
        assert response.status_code == 200 and response.json()["token"]


def test_a_success_resets_the_failure_count():
    user = f.agent()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        token(user.username, "mauvais")
    assert token(user.username, f.PASSWORD).status_code == 200
    for _ in range(limit - 1):
        assert token(user.username, "mauvais").status_code == 400
    assert token(user.username, f.PASSWORD).status_code == 200


@pytest.mark.parametrize("path", ["/connexion/", "/admin/login/"])
def test_web_and_admin_logins_are_throttled_in_french(client, path):
    user = f.UserFactory(role="admin", is_staff=True, is_superuser=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web_login(client, path, user.username, "mauvais")
    response = web_login(client, path, user.username, f.PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert FRENCH in html and 'lang="fr"' in html
    assert "_auth_user_id" not in client.session
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_web_login_still_works_below_the_limit(client):
    user = f.porteur()
    web_login(client, "/connexion/", user.username, "mauvais")
    response = web_login(client, "/connexion/", user.username, f.PASSWORD)
    assert response.status_code == 302
    assert client.get("/api/v1/me/").json()["username"] == user.username


def test_limit_and_cool_off_come_from_the_environment():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django,os;django.setup();from django.conf import settings as s;"
        "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "guichet.settings",
        "GUICHET_LOGIN_FAILURE_LIMIT": "7",
        "GUICHET_LOGIN_COOLOFF_MINUTES": "30",
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.split() == ["7", "1800"], out.stderr


def _spoofed(username, password, spoof, real="203.0.113.7", remote="203.0.113.7"):
    return APIClient(REMOTE_ADDR=remote).post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
        HTTP_X_FORWARDED_FOR=f"{spoof}, {real}" if real else spoof,
    )


def test_a_forged_x_forwarded_for_does_not_dodge_the_lock_without_proxy():
    user = f.agent()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _spoofed(user.username, "mauvais", spoof=f"192.0.2.{n + 1}", real=None)
    response = _spoofed(user.username, f.PASSWORD, spoof="192.0.2.200", real=None)
    assert response.status_code == 429


def test_behind_a_proxy_the_lock_follows_the_address_the_proxy_saw(settings):
    settings.GUICHET_PROXY_COUNT = 1
    user = f.agent()
    proxy = "10.0.0.2"  # nginx: REMOTE_ADDR is the proxy, the client is appended to XFF
    for n in range(settings.AXES_FAILURE_LIMIT):
        _spoofed(user.username, "mauvais", spoof=f"192.0.2.{n + 1}", remote=proxy)
    assert _spoofed(user.username, f.PASSWORD, spoof="192.0.2.99", remote=proxy).status_code == 429
    # another client behind the same proxy is not locked out
    other_client = _spoofed(
        user.username, f.PASSWORD, spoof="192.0.2.99", real="198.51.100.4", remote=proxy
    )
    assert other_client.status_code == 200
