"""Each funder's legal track in the deadlines (revised rules 1-3, ADR 009): a request's
clocks start stopped while the dossier awaits documents, and each request's stored
implicit-decision date follows its deadline (opened, suspended, resumed)."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType

from cases.models import FundingRequest
from cases.programming_year import year_after_implicit, year_refresh
from engine.deadlines import LIVE, deadlines_of, deadlines_suspend
from engine.models import Deadline
from engine.transitions import TransitionContext

from .definitions import COMMON, LEGAL_TRACK_OPENS, SUSPENDED_BY_DOCUMENTS

#: Request transitions that may open a clock of their own.
REQUEST_OPENINGS = frozenset(r.on for r in LEGAL_TRACK_OPENS if r.on.startswith("fundingrequest."))
#: Transitions after which a request's implicit-decision date may have moved with its
#: clock (stopping a clock keeps the date last known; an opening stores its own).
IMPLICIT_MOVES = frozenset(c.on for c in COMMON.clocks if not c.stop)


def live_deadline(subject, kind: str) -> bool:
    return deadlines_of(subject, kind=kind, states=LIVE).exists()


def legal_track_after(
    ctx: TransitionContext, key: str, case, request, start: dt.date, resumed=None
) -> None:
    """``resumed``: the kinds whose clock the transition just restarted, when known — the
    stored implicit-decision dates are read again only when theirs restarted (an opening
    stores its own date, a stopped clock keeps it)."""
    if key in REQUEST_OPENINGS and request is not None and case.state == "incomplete":
        deadlines_suspend(
            aggregate_id=case.pk, kinds=SUSPENDED_BY_DOCUMENTS, on=start, subject=request
        )
    if key in IMPLICIT_MOVES and (resumed is None or "implicit_decision" in resumed):
        implicit_dates_sync(case.pk, request)


def implicit_date_store(fr, due: dt.date, instance=None) -> None:
    """The implicit-decision date just planned, on the request (and on the object the
    transition was applied to, when it is that request)."""
    FundingRequest.objects.filter(pk=fr.pk).update(
        implicit_decision_on=due, programming_year=year_after_implicit(due)
    )
    fr.implicit_decision_on = due
    year_refresh(fr)
    if isinstance(instance, FundingRequest) and instance.pk == fr.pk:
        instance.implicit_decision_on = due
        year_refresh(instance)


def implicit_dates_sync(case_id: int, request=None) -> None:
    """``FundingRequest.implicit_decision_on`` = the due date of its open implicit-decision
    deadline (a suspended one keeps the date last known until its clock restarts)."""
    rows = Deadline.objects.filter(
        aggregate_id=case_id,
        kind="implicit_decision",
        state=Deadline.State.OPEN,
        subject_type=ContentType.objects.get_for_model(FundingRequest),
    ).values_list("subject_id", "due_on")
    for fr_id, due in rows:
        FundingRequest.objects.filter(pk=fr_id).exclude(implicit_decision_on=due).update(
            implicit_decision_on=due, programming_year=year_after_implicit(due)
        )
        if request is not None and request.pk == fr_id:
            request.implicit_decision_on = due
            year_refresh(request)
