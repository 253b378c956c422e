"""API tokens can be revoked; passwords go through Django's validators."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db


def token_client(user) -> tuple[APIClient, str]:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": f.PASSWORD}, format="json"
    )
    key = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def test_a_user_revokes_its_own_token():
    user = f.porteur()
    client, key = token_client(user)
    assert client.get("/api/v1/me/").status_code == 200
    assert client.post("/api/v1/auth/token/revoke/", {}, format="json").status_code == 204
    refused = client.get("/api/v1/me/")
    assert refused.status_code == 401 and refused.json()["detail"]
    assert not Token.objects.filter(key=key).exists()
    _, new_key = token_client(user)  # logging in again gives a new token
    assert new_key != key


def test_an_admin_revokes_another_users_token():
    victim = f.agent()
    victim_client, _ = token_client(victim)
    admin = f.UserFactory(role=User.Role.ADMIN)
    admin_client, _ = token_client(admin)
    response = admin_client.post("/api/v1/auth/token/revoke/", {"user": victim.pk}, format="json")
    assert response.status_code == 204
    assert victim_client.get("/api/v1/me/").status_code == 401
    assert admin_client.get("/api/v1/me/").status_code == 200  # the admin's own is kept
    missing = admin_client.post("/api/v1/auth/token/revoke/", {"user": 10**12}, format="json")
    assert missing.status_code == 404 and missing.json()["detail"] == "Compte introuvable."


def test_a_non_admin_cannot_revoke_someone_else():
    victim = f.agent()
    victim_client, _ = token_client(victim)
    attacker_client, _ = token_client(f.agent())
    response = attacker_client.post(
        "/api/v1/auth/token/revoke/", {"user": victim.pk}, format="json"
    )
    assert response.status_code == 403 and "administrateur" in response.json()["detail"]
    assert victim_client.get("/api/v1/me/").status_code == 200


@pytest.mark.parametrize(
    "password, fragment",
    [
        ("court1", "trop court"),
        ("motdepasse", "trop courant"),
        ("12345678901234", "entièrement numérique"),
        ("nouveau.compte", "trop semblable"),
    ],
)
def test_user_create_applies_the_password_validators_in_french(api, password, fragment):
    admin = f.UserFactory(role=User.Role.ADMIN)
    response = api(admin).post(
        "/api/v1/users/",
        {"username": "nouveau.compte", "password": password, "role": "agent"},
        format="json",
    )
    assert response.status_code == 400
    assert fragment in response.json()["detail"], response.json()
    assert response.json()["errors"]["password"]
    assert not User.objects.filter(username="nouveau.compte").exists()


def test_user_created_with_a_strong_password_can_log_in(api):
    admin = f.UserFactory(role=User.Role.ADMIN)
    created = api(admin).post(
        "/api/v1/users/",
        {"username": "nouveau.compte", "password": "Bastides-1280-Cordes", "role": "agent"},
        format="json",
    )
    assert created.status_code == 201
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "nouveau.compte", "password": "Bastides-1280-Cordes"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["token"]
    assert User.objects.get(username="nouveau.compte").last_login is not None
