"""The referent agent's « caducité ou prorogation » tasks after the sweep (revised rules 5
and 7): the sweep marks an overdue works deadline ``missed`` without a transition, so no
engine hook runs. This periodic job (registered after the engine's sweep) brings the
tasks of the dossiers concerned in step with the rule
(``cases.works_deadlines.lapse_decisions_due``) through the one sync
(``agent_tasks.case_tasks_sync``): opened where a decision is due and no task is open,
closed where one is open and no decision is due any more. Idempotent: a second pass finds
nothing to do (two reads)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from viewflow.workflow.models import Task

from cases.models import FundingRequest
from cases.works_deadlines import lapse_decisions_due
from engine.periodic import register_job

from .agent_tasks import OPEN, case_tasks_sync
from .flows import FLOWS

NODE = "follow_lapse_decision"


def _open_tasks():
    return Task.objects.filter(
        flow_task__in=[getattr(flow_class, NODE) for flow_class in FLOWS],
        status__in=OPEN,
        seed_content_type=ContentType.objects.get_for_model(FundingRequest),
    )


def lapse_tasks_sync() -> int:
    """Sync the dossiers whose open follow-up tasks differ from the decisions due; returns
    how many dossiers were synced."""
    due = set(lapse_decisions_due().values_list("subject_id", flat=True))
    tasked = set(_open_tasks().values_list("seed_object_id", flat=True))
    requests = due ^ tasked
    if not requests:
        return 0
    case_ids = sorted(
        set(FundingRequest.objects.filter(pk__in=requests).values_list("case_id", flat=True))
    )
    for case_id in case_ids:
        case_tasks_sync(case_id)
    return len(case_ids)


def lapse_tasks_job(*, today=None, inline=False) -> int:
    return lapse_tasks_sync()


def connect() -> None:
    register_job("lapse_tasks", lapse_tasks_job)
