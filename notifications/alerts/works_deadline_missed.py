"""A works deadline missed and not yet decided (revised rules 5 and 7): the start-of-works
or completion deadline of a running grant has passed, and its funder has neither recorded
the lapse nor granted an extension moving it. The funder's instructor must decide; the
referent agent follows it (the agent's task is ``workflows``'). The rule is
``cases.works_deadlines.lapse_decisions_due``: the alert is resolved by the pass once it
no longer holds (lapse recorded, extension granted, request or dossier ended)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from cases.models import FundingRequest
from cases.works_deadlines import lapse_decision_label, lapse_decisions_due
from engine.models import Deadline

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
