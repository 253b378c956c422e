"""Drive real dossiers through the real services and ``transition_apply``.

Shared by the engine tests (a dossier is the handiest subject with deadlines) and the
payment, committee and concurrency tests. Thin wrappers over ``cases.builders`` (the
demo's builders too): no state is ever written by hand.
"""

from __future__ import annotations

from cases import builders
from cases.models import Case, FundingRequest
from schemes.models import Scheme
from tests import factories as f

PDF = b"%PDF-1.4\n%test\n"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DETR_PLAN = builders.plan(100000, ("DETR", 40000))
LEADER_PLAN = builders.plan(100000, ("LEADER", 40000), expense_label="Aménagement du tiers-lieu")
LEADER_DETR_PLAN = builders.plan(
    100000, ("LEADER", 40000), ("DETR", 20000), expense_label="Halle gourmande"
)


def upload_required(user, case: Case) -> None:
    builders.case_documents_add(actor=user, case=case, content=PDF)


def draft_case(plan=None, *, porteur=None, title="Rénovation de l'école") -> tuple[Case, object]:
    porteur = porteur or f.porteur()
    case = builders.case_build(porteur=porteur, title=title, plan=plan or DETR_PLAN, state="draft")
    return case, porteur


def submitted_case(
    plan=None, *, receipt="2026-03-02", porteur=None, title="Rénovation de l'école"
) -> tuple[Case, object]:
    case, porteur = draft_case(plan, porteur=porteur, title=title)
    upload_required(porteur, case)
    return builders.case_submit_on(case, porteur=porteur, receipt=receipt), porteur


def acknowledged_case(
    plan=None, *, receipt="2026-03-02", received=None, title="Rénovation de l'école"
) -> tuple[Case, object]:
    """A DETR dossier deposited on ``receipt`` whose request the préfecture received on
    ``received`` (default the same day): the request's own completeness clock runs, with
    « réputé complet » at its end (revised rules 1-2)."""
    case, porteur = submitted_case(plan, receipt=receipt, title=title)
    for fr in case.funding_requests.select_related("scheme").order_by("id"):
        builders.request_acknowledge_on(
            fr, instructor=instructor_for(fr.scheme.code), received=received or receipt
        )
    return builders.fresh(case), porteur


def instructing_case(
    plan=None, *, receipt="2026-03-02", complete="2026-03-10", agent=None, title="Rénovation"
):
    """A dossier declared complete, each request in instruction."""
    case, porteur = submitted_case(plan, receipt=receipt, title=title)
    agent = agent or f.agent()
    case = builders.case_complete_on(case, agent=agent, complete=complete)
    return case, porteur, agent


def instructor_for(scheme_code: str):
    return f.funder_instructor(Scheme.objects.get(code=scheme_code).funder.code)


def grant_and_commit(
    fr: FundingRequest, *, amount, granted="2026-04-15", committed="2026-04-20", instructor=None
) -> FundingRequest:
    instructor = instructor or instructor_for(fr.scheme.code)
    builders.request_grant_on(fr, instructor=instructor, amount=amount, granted=granted)
    builders.request_commit_on(fr, instructor=instructor, committed=committed)
    fr.refresh_from_db()
    return fr
