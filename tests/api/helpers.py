"""Small helpers for the end-to-end API tests: every call checks its status code and shows
the body when it differs, so a failing walk says where and why."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from cases import builders
from cases.models import Case
from engine.models import Deadline, OutboxEvent

PDF = b"%PDF-1.4\n%guichet test\n1 0 obj <<>> endobj\n"
V1 = "/api/v1"


def check(response, expected: int):
    body = getattr(response, "data", None)
    assert response.status_code == expected, f"{response.status_code} ≠ {expected}: {body}"
    return body


def get(client, path: str, expected: int = 200, **params):
    return check(client.get(f"{V1}{path}", params), expected)


def post(client, path: str, data=None, expected: int = 200):
    return check(client.post(f"{V1}{path}", data or {}, format="json"), expected)


def patch(client, path: str, data, expected: int = 200):
    return check(client.patch(f"{V1}{path}", data, format="json"), expected)


def act(client, case_id: int, name: str, expected: int = 200, **data):
    return post(client, f"/cases/{case_id}/transitions/{name}/", data, expected)


def act_request(client, fr_id: int, name: str, expected: int = 200, **data):
    return post(client, f"/funding-requests/{fr_id}/transitions/{name}/", data, expected)


def act_claim(client, claim_id: int, name: str, expected: int = 200, **data):
    return post(client, f"/payment-claims/{claim_id}/transitions/{name}/", data, expected)


def upload(client, case_id: int, kind: str, content: bytes = PDF, expected: int = 201):
    file = SimpleUploadedFile(f"{kind}.pdf", content, content_type="application/pdf")
    response = client.post(
        f"{V1}/cases/{case_id}/documents/", {"kind": kind, "file": file}, format="multipart"
    )
    return check(response, expected)


required_codes = builders.required_codes


def request_of(case_body: dict, scheme: str) -> dict:
    return next(fr for fr in case_body["funding_requests"] if fr["scheme"] == scheme)


def deadline_of(case_body: dict, kind: str, subject_id: int | None = None) -> dict:
    found = [
        d
        for d in case_body["deadlines"]
        if d["kind"] == kind and (subject_id is None or d["subject_id"] == subject_id)
    ]
    assert len(found) == 1, f"{kind}: {case_body['deadlines']}"
    return found[0]


def snapshot(case_id: int) -> tuple:
    """Everything a refused transition must leave untouched."""
    case = Case.objects.get(pk=case_id)
    return (
        case.state,
        sorted(case.funding_requests.values_list("id", "state", "amount_granted")),
        sorted(Deadline.objects.filter(aggregate_id=case_id).values_list("id", "state", "due_on")),
        OutboxEvent.objects.filter(aggregate_id=case_id).count(),
        _log_count(case),
    )


def _log_count(case: Case) -> int:
    from cases.selectors import case_history

    return case_history(case).count()
