"""The case list's scheme filter (rewritten with EXISTS for 100,000 dossiers): a dossier
asking a scheme in its plan or through a funding request is listed once, others not."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cases import services
from cases.models import Document
from engine.transitions import transition_apply
from tests import factories

pytestmark = pytest.mark.django_db


def plan(code: str) -> dict:
    return {
        "expenses": [{"label": "Travaux", "amount": "100000.00"}],
        "resources": [
            {"kind": "scheme", "scheme": code, "amount": "40000.00"},
            {"kind": "self", "amount": "60000.00"},
        ],
    }


def test_scheme_filter_lists_each_matching_dossier_once():
    porteur = factories.porteur()
    draft = services.case_create(
        actor=porteur, data={"title": "Plan DETR", "state": "draft", "financing_plan": plan("DETR")}
    )
    submitted = services.case_create(
        actor=porteur,
        data={"title": "Déposé DETR", "state": "draft", "financing_plan": plan("DETR")},
    )
    for code in factories.scheme("DETR").required_document_codes():
        Document.objects.create(
            case=submitted,
            kind=code,
            file=f"x/{code}.pdf",
            filename=f"{code}.pdf",
            size=10,
            content_type="application/pdf",
            sha256="0" * 64,
        )
    transition_apply(instance=submitted, name="submit", actor=porteur, data={"date": "2026-03-02"})
    assert submitted.funding_requests.count() == 1  # in the plan AND requested
    other = services.case_create(
        actor=porteur,
        data={"title": "Région", "state": "draft", "financing_plan": plan("REGION_OCC")},
    )
    client = APIClient()
    client.force_authenticate(factories.agent())
    body = client.get("/api/v1/cases/?scheme=DETR").json()
    ids = [c["id"] for c in body["results"]]
    assert sorted(ids) == sorted([draft.pk, submitted.pk]) and body["count"] == 2
    assert other.pk not in ids
    assert client.get("/api/v1/cases/?scheme=NOPE").status_code == 400
