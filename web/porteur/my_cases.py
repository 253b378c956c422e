"""The list of the organisation's dossiers, each with where it stands and its next
deadline, and the organisation's live alerts."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases import request_status, rules, selectors
from cases.models import Case, CaseState, FundingRequest
from engine.models import Deadline
from engine.transitions import state_of
from notifications.alert_selectors import alert_list
from notifications.labels import deadline_label, when_label
from notifications.models import Alert

from .common import party_label, porteur_required, step_url, tracking_url


@porteur_required
@require_GET
def my_cases(request):
    cases = list(
        selectors.case_list(user=request.user).prefetch_related(
            Prefetch(
                "funding_requests",
                queryset=FundingRequest.objects.select_related("scheme__funder").order_by("id"),
            )
        )
    )
    next_deadline = _next_deadlines([c.pk for c in cases])
    today = timezone.localdate()
    rows = [_row(c, next_deadline.get(c.pk), today) for c in cases]
    alerts = list(
        alert_list(user=request.user).filter(
            state__in=[Alert.State.OPEN, Alert.State.ACKNOWLEDGED]
        )[:20]
    )
    return render(
        request,
        "web/porteur/my_cases.html",
        {"nav": "my-cases", "rows": rows, "alerts": alerts},
    )


def _next_deadlines(case_ids) -> dict:
    """{case id: its first open deadline}, in one query."""
    first = {}
    for d in (
        Deadline.objects.filter(aggregate_id__in=case_ids, state=Deadline.State.OPEN)
        .order_by("due_on", "id")
        .select_related("subject_type")
        .only("aggregate_id", "kind", "due_on", "party", "subject_type", "subject_id")
    ):
        first.setdefault(d.aggregate_id, d)
    return first


def _row(case, deadline, today) -> dict:
    reqs = list(case.funding_requests.all())
    d = deadline
    return {
        "case": case,
        "badge": state_of(Case, case.state).badge,
        "next": state_of(Case, case.state).porteur,
        "deadline": d,
        "deadline_label": deadline_label(d.kind) if d else "",
        "deadline_party": party_label(d.party, _acting_funder(d, reqs)) if d else "",
        "deadline_when": when_label((d.due_on - today).days) if d else "",
        "requested": rules.euros(sum((r.amount_requested for r in reqs), Decimal(0))),
        "granted": rules.euros(sum((r.amount_granted or 0 for r in reqs), Decimal(0))),
        "schemes": ", ".join(r.scheme.code for r in reqs),
        "url": step_url(case, "projet") if case.state == CaseState.DRAFT else tracking_url(case),
    }


def _acting_funder(deadline, requests):
    """The funder deciding on the deadline's request (``request_status.acting_funder``)."""
    fr = request_status.deadline_request(deadline, {r.pk: r for r in requests})
    return request_status.acting_funder(deadline.kind, fr)
