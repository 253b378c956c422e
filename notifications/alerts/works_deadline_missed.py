"""A works deadline missed and not yet decided (revised rules 5 and 7): the start-of-works
or completion deadline of a running grant has passed, and its funder has neither recorded
the lapse nor granted an extension moving it. The funder's instructor must decide; the
referent agent follows it (the agent's task is ``workflows``'). The rule is
``cases.works_deadlines.lapse_decisions_due``: the alert is resolved once it no longer
holds (lapse recorded, extension granted, request or dossier ended) — at once by the
transition that decides (``works_alerts_after``, an engine hook), else by the next pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

from cases.models import FundingRequest
from cases.works_deadlines import lapse_decision_due, lapse_decision_label, lapse_decisions_due
from engine.models import Deadline
from engine.transitions import TransitionContext

from ..models import Alert
from .book import LIVE, alert_resolve
from .common import CHUNK, Finding, K, S, fr_date

#: Days past the deadline after which the alert becomes critical (it keeps escalating).
CRITICAL_AFTER_DAYS = 30


def works_deadline_missed(fr: FundingRequest, deadline: Deadline, today: dt.date) -> Finding:
    late = max((today - deadline.due_on).days, 0)
    message = (
        f"Dossier {fr.case.reference} : l'échéance du {fr_date(deadline.due_on)} est dépassée "
        f"depuis {late} jour{'s' if late > 1 else ''}. À faire par le financeur ({fr.scheme.funder.name}) : "
        f"{lapse_decision_label(fr, deadline)}. Une prorogation n'est possible que si le "
        "porteur l'a demandée avant l'échéance ; l'agent référent relance le financeur et "
        "tient le porteur informé."
    )
    data = {
        "reference": fr.case.reference,
        "scheme": fr.scheme.code,
        "funding_request": fr.pk,
        "deadline": deadline.pk,
        "deadline_kind": deadline.kind,
        "due_on": deadline.due_on.isoformat(),
        "days_late": late,
    }
    severity = S.CRITICAL if late >= CRITICAL_AFTER_DAYS else S.WARNING
    return Finding(
        K.WORKS_DEADLINE_MISSED, fr, fr.case.organisation_id, fr.case_id, severity, message, data
    )


def works_deadlines_missed(today: dt.date) -> Iterator[Finding]:
    """One finding per request with a missed works deadline awaiting its funder's decision
    (its earliest one), by chunks: the deadlines, then their requests in one query."""
    seen: set[int] = set()
    deadlines = lapse_decisions_due().iterator(chunk_size=CHUNK)
    while True:
        chunk = [d for _, d in zip(range(CHUNK), deadlines, strict=False)]
        if not chunk:
            return
        requests = FundingRequest.objects.select_related("scheme__funder", "case").in_bulk(
            {d.subject_id for d in chunk}
        )
        for deadline in chunk:
            fr = requests.get(deadline.subject_id)
            if fr is None or fr.pk in seen:
                continue
            seen.add(fr.pk)
            yield works_deadline_missed(fr, deadline, today)


#: The transitions that may end a decision due (``model_name.transition``).
DECIDING = frozenset(
    {
        "fundingrequest.lapse",
        "fundingrequest.withdraw",
        "extension.grant",
        "case.withdraw",
        "case.lapse",
    }
)


def works_alerts_after(ctx: TransitionContext) -> None:
    """In the deciding transition's transaction: resolve the dossier's live alerts of this
    kind whose request has no decision due any more (other transitions: no query)."""
    model = ctx.instance._meta.model_name
    if f"{model}.{ctx.name}" not in DECIDING:
        return
    if model == "case":
        case_id = ctx.instance.pk
    elif model == "extension":
        case_id = ctx.instance.funding_request.case_id
    else:
        case_id = ctx.instance.case_id
    live = Alert.objects.filter(kind=K.WORKS_DEADLINE_MISSED, state__in=LIVE, case_id=case_id)
    now = timezone.now()
    for alert in live:
        request = FundingRequest.objects.filter(pk=alert.subject_id).first()
        if request is None or lapse_decision_due(request) is None:
            alert_resolve(alert, now)
