"""The OpenAPI schema and its documentation page render, and describe the contract."""

import json

import pytest

pytestmark = pytest.mark.django_db


def test_schema_renders_with_the_v1_paths(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/cases/",
        "/api/v1/cases/{id}/",
        "/api/v1/cases/{id}/transitions/{name}/",
        "/api/v1/cases/{id}/documents/",
        "/api/v1/funding-requests/{id}/transitions/{name}/",
        "/api/v1/funding-requests/{id}/payment-claims/",
        "/api/v1/payment-claims/{id}/transitions/{name}/",
        "/api/v1/committee-sessions/",
        "/api/v1/committee-sessions/{id}/votes/",
        "/api/v1/deadlines/",
    ]:
        assert path in paths, path
    case = schema["components"]["schemas"]["Case"]["properties"]
    for field in ["financing_plan", "funding_requests", "deadlines", "available_transitions"]:
        assert field in case
    upload = paths["/api/v1/cases/{id}/documents/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload


def test_docs_render(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
