"""Service-level walk through a DETR dossier, the backbone the API tests stand on."""

import datetime as dt
from decimal import Decimal

import pytest

from cases import builders, services
from cases.models import CaseState, RequestState
from engine.errors import DomainError
from engine.models import Deadline
from engine.transitions import transition_apply
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%test\n"


def upload_required(user, case, codes):
    builders.case_documents_add(actor=user, case=case, codes=codes, content=PDF)


def test_detr_dossier_from_draft_to_decided():
    porteur = f.porteur()
    agent = f.agent()
    prefecture = f.funder_instructor("ETAT")
    case = services.case_create(
        actor=porteur,
        data={
            "title": "Rénovation de l'école",
            "state": "draft",
            "financing_plan": {
                "expenses": [{"label": "Travaux", "amount": "100000.00"}],
                "resources": [
                    {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
                    {"kind": "self", "amount": "60000.00"},
                ],
            },
        },
    )
    assert case.state == CaseState.DRAFT
    with pytest.raises(DomainError) as err:
        transition_apply(instance=case, name="submit", actor=porteur)
    assert "Pièces obligatoires manquantes" in err.value.message
    assert case.state == CaseState.DRAFT
    upload_required(porteur, case, f.scheme("DETR").required_document_codes())
    receipt = dt.date(2026, 3, 2)
    transition_apply(instance=case, name="submit", actor=porteur, data={"date": "2026-03-02"})
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED and case.receipt_date == receipt
    completeness = Deadline.objects.get(aggregate_id=case.pk, kind="completeness")
    assert completeness.due_on == dt.date(2026, 6, 2)
    fr = case.funding_requests.get()
    assert fr.state == RequestState.REQUESTED and fr.amount_requested == Decimal("40000.00")

    transition_apply(
        instance=case, name="declare_complete", actor=agent, data={"date": "2026-03-10"}
    )
    completeness.refresh_from_db()
    assert completeness.state == "met"
    # revised rule 3: the implicit decision runs from the DETR request's own completeness
    assert not Deadline.objects.filter(aggregate_id=case.pk, kind="implicit_decision").exists()
    transition_apply(instance=fr, name="acknowledge", actor=prefecture, data={"date": "2026-03-02"})
    transition_apply(
        instance=fr, name="start_instruction", actor=prefecture, data={"date": "2026-03-10"}
    )
    implicit = Deadline.objects.get(aggregate_id=case.pk, kind="implicit_decision")
    assert implicit.due_on == dt.date(2026, 5, 11)  # 10 May 2026 is a Sunday
    transition_apply(
        instance=fr,
        name="grant",
        actor=prefecture,
        data={"amount_granted": "35000.00", "date": "2026-04-15"},
    )
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED
    works = Deadline.objects.get(aggregate_id=case.pk, kind="works_start")
    assert works.due_on == dt.date(2028, 4, 18)  # 15 Apr 2028 Saturday, 17 Easter Monday
    assert works.expiry_transition == ""  # the funder records the lapse (revised rule 5)
