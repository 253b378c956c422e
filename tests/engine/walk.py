"""Drive real dossiers through the real services and ``transition_apply``.

Shared by the engine tests (a dossier is the handiest subject with deadlines) and the
payment, committee and concurrency tests. No state is ever written by hand.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import Case, FundingRequest
from engine.transitions import transition_apply
from schemes.models import Scheme
from tests import factories as f

PDF = b"%PDF-1.4\n%test\n"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DETR_PLAN = {
    "expenses": [{"label": "Travaux", "amount": "100000.00"}],
    "resources": [
        {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
        {"kind": "self", "amount": "60000.00"},
    ],
}
LEADER_PLAN = {
    "expenses": [{"label": "Aménagement du tiers-lieu", "amount": "100000.00"}],
    "resources": [
        {"kind": "scheme", "scheme": "LEADER", "amount": "40000.00"},
        {"kind": "self", "amount": "60000.00"},
    ],
}
LEADER_DETR_PLAN = {
    "expenses": [{"label": "Halle gourmande", "amount": "100000.00"}],
    "resources": [
        {"kind": "scheme", "scheme": "LEADER", "amount": "40000.00"},
        {"kind": "scheme", "scheme": "DETR", "amount": "20000.00"},
        {"kind": "self", "amount": "40000.00"},
    ],
}


def upload_required(user, case: Case) -> None:
    codes = set()
    for res in case.resources.filter(kind="scheme").select_related("scheme"):
        codes.update(res.scheme.required_document_codes())
    for code in sorted(codes):
        services.document_upload(
            actor=user,
            case=case,
            kind=code,
            upload=SimpleUploadedFile(f"{code}.pdf", PDF, content_type="application/pdf"),
        )


def draft_case(plan=None, *, porteur=None, title="Rénovation de l'école") -> tuple[Case, object]:
    porteur = porteur or f.porteur()
    case = services.case_create(
        actor=porteur,
        data={"title": title, "state": "draft", "financing_plan": plan or DETR_PLAN},
    )
    return case, porteur


def submitted_case(
    plan=None, *, receipt="2026-03-02", porteur=None, title="Rénovation de l'école"
) -> tuple[Case, object]:
    case, porteur = draft_case(plan, porteur=porteur, title=title)
    upload_required(porteur, case)
    transition_apply(instance=case, name="submit", actor=porteur, data={"date": receipt})
    case.refresh_from_db()
    return case, porteur


def instructing_case(
    plan=None, *, receipt="2026-03-02", complete="2026-03-10", agent=None, title="Rénovation"
):
    """A dossier declared complete, each request in instruction."""
    case, porteur = submitted_case(plan, receipt=receipt, title=title)
    agent = agent or f.agent()
    transition_apply(instance=case, name="declare_complete", actor=agent, data={"date": complete})
    for fr in case.funding_requests.select_related("scheme"):
        transition_apply(instance=fr, name="start_instruction", actor=agent)
    case.refresh_from_db()
    return case, porteur, agent


def instructor_for(scheme_code: str):
    return f.funder_instructor(Scheme.objects.get(code=scheme_code).funder.code)


def grant_and_commit(
    fr: FundingRequest, *, amount, granted="2026-04-15", committed="2026-04-20", instructor=None
) -> FundingRequest:
    instructor = instructor or instructor_for(fr.scheme.code)
    transition_apply(
        instance=fr,
        name="grant",
        actor=instructor,
        data={"amount_granted": str(amount), "date": granted},
    )
    transition_apply(instance=fr, name="commit", actor=instructor, data={"date": committed})
    fr.refresh_from_db()
    return fr
