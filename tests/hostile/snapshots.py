"""Everything a refused input must leave untouched, as plain comparable values."""

from __future__ import annotations

from django_fsm_log.models import StateLog

from cases.models import Case
from engine.models import Deadline, OutboxEvent


def dossier(case_id: int) -> dict:
    case = Case.objects.get(pk=case_id)
    return {
        "case": (
            case.state,
            case.title,
            case.description,
            case.theme,
            case.epci_id,
            case.receipt_date,
            case.works_start_date,
            case.works_end_date,
            case.complete_on,
            case.updated_at,
        ),
        "communes": sorted(case.communes.values_list("insee", flat=True)),
        "expenses": list(
            case.expenses.order_by("position").values_list(
                "position", "label", "amount", "tax", "eligible"
            )
        ),
        "resources": list(
            case.resources.order_by("position").values_list(
                "position", "kind", "scheme_id", "label", "amount"
            )
        ),
        "requests": sorted(
            case.funding_requests.values_list(
                "id", "state", "amount_requested", "amount_granted", "granted_on", "committed_on"
            )
        ),
        "deadlines": sorted(
            Deadline.objects.filter(aggregate_id=case_id).values_list(
                "id", "kind", "state", "due_on"
            )
        ),
        "outbox": OutboxEvent.objects.filter(aggregate_id=case_id).count(),
        "statelogs": StateLog.objects.count(),
        "cases": Case.objects.count(),
    }
