"""Writes on dossiers and their parts. State changes go through ``engine.transitions``.

One module per area; this package re-exports the public services, so ``from cases import
services`` and ``services.case_create(...)`` work as before.
"""

from .accounts import organisation_create, user_create
from .case import case_create, case_update
from .corrections import correction_apply, correction_close, correction_request
from .documents import document_upload, message_post, opinion_create
from .extensions import extension_request
from .payments import claim_create
from .plan import case_record_share_exception, plan_check, plan_summary
from .treasury import (
    case_works_plan_update,
    organisation_treasury_update,
    planned_invoice_add,
    planned_invoice_remove,
)

__all__ = [
    "case_create",
    "case_record_share_exception",
    "case_update",
    "case_works_plan_update",
    "claim_create",
    "correction_apply",
    "correction_close",
    "correction_request",
    "document_upload",
    "extension_request",
    "message_post",
    "opinion_create",
    "organisation_create",
    "organisation_treasury_update",
    "plan_check",
    "plan_summary",
    "planned_invoice_add",
    "planned_invoice_remove",
    "user_create",
]
