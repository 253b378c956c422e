"""The rules of the works deadlines of a funding request (domain.md, revised rules 5 and 7):
when the funder may record its lapse, which missed deadlines still await its decision, and
how far an extension may move a deadline. One function per rule, shared by the guards
(``cases.lifecycle``), the service that takes an extension request
(``cases.services.extensions``), the alerts, the agents' tasks and the pages."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from engine.calendar import period_end
from engine.errors import DomainError
from engine.models import Deadline

from .models import LIVE_GRANTS, Extension, ExtensionState, FundingRequest

#: The deadlines whose miss lets the funder record the lapse, and that may be extended.
WORKS_KINDS = (Extension.Deadline.WORKS_START, Extension.Deadline.WORKS_COMPLETION)
#: The scheme parameter that limits each kind of extension (null: no limit, LEADER).
LIMIT_FIELD = {
    Extension.Deadline.WORKS_START: "works_start_extension_months",
    Extension.Deadline.WORKS_COMPLETION: "completion_extension_months",
}


def works_deadline(fr: FundingRequest, kind: str, states=None) -> Deadline | None:
    """The request's latest deadline of this kind (in ``states``, if given)."""
    return latest_works_deadlines([fr], states=states, kinds=[kind]).get((fr.pk, kind))


def latest_works_deadlines(
    requests, states=None, kinds=WORKS_KINDS
) -> dict[tuple[int, str], Deadline]:
    """``works_deadline`` of each request and kind, in one query: ``{(request pk, kind):
    deadline}`` (absent when the request has none of that kind in ``states``)."""
    qs = Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(FundingRequest),
        subject_id__in=[fr.pk for fr in requests],
        kind__in=list(kinds),
    )
    if states is not None:
        qs = qs.filter(state__in=list(states))
    return {(d.subject_id, d.kind): d for d in qs.order_by("id")}  # the latest wins


def missed_works_deadline(fr: FundingRequest, latest_missed: dict | None = None):
    """The request's missed start-of-works or completion deadline, if any: the funder may
    then record the lapse (R2334-28: the authority « constate la caducité »).
    ``latest_missed``: ``latest_works_deadlines(…, states=[MISSED])`` read for many."""
    if latest_missed is None:
        latest_missed = latest_works_deadlines([fr], states=[Deadline.State.MISSED])
    for kind in WORKS_KINDS:
        deadline = latest_missed.get((fr.pk, kind))
        if deadline is not None:
            return deadline
    return None


def lapse_decisions_due(requests: QuerySet[FundingRequest] | None = None) -> QuerySet[Deadline]:
    """Revised rule 5: the missed works deadlines the funder has still to act on — a
    start-of-works or completion deadline of a request still running (granted, committed,
    paying) is ``missed``, and neither the lapse nor an extension moving it is recorded.
    Its instructor must record the lapse or grant an extension; the referent agent
    follows it (``workflows``' task and the alert of ``notifications`` read this rule).
    ``requests``: only these requests (a queryset); earliest deadline first."""
    live = FundingRequest.objects.filter(state__in=LIVE_GRANTS)
    if requests is not None:
        live = live.filter(pk__in=requests.values("pk"))
    return Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(FundingRequest),
        subject_id__in=live.values("pk"),
        kind__in=WORKS_KINDS,
        state=Deadline.State.MISSED,
    ).order_by("subject_id", "due_on", "id")


def lapse_decision_due(fr: FundingRequest) -> Deadline | None:
    """``lapse_decisions_due`` for one request: its missed works deadline awaiting the
    funder's decision, if any (no query when the request no longer runs)."""
    if fr.state not in LIVE_GRANTS:
        return None
    return lapse_decisions_due(FundingRequest.objects.filter(pk=fr.pk)).first()


def lapse_allowed(fr: FundingRequest, day: dt.date) -> Deadline:
    """The missed deadline that allows the lapse on ``day``; a ``DomainError`` otherwise."""
    deadline = missed_works_deadline(fr)
    if deadline is None:
        raise DomainError(
            "La caducité ne peut être constatée que lorsque l'échéance de commencement ou "
            "d'achèvement des travaux est dépassée (et non prorogée).",
            code="guard",
        )
    if day <= deadline.due_on:
        raise DomainError(
            f"La caducité ({day:%d/%m/%Y}) ne peut être constatée qu'après l'échéance "
            f"dépassée ({deadline.due_on:%d/%m/%Y}).",
            errors={"date": ["Pas après l'échéance."]},
        )
    return deadline


def extension_max_until(fr: FundingRequest, kind: str, due_on: dt.date, *, exclude_pk=None):
    """The latest date an extension of this kind may reach (None: no limit), or a
    ``DomainError`` when none is possible any more (start of works: once)."""
    months = getattr(fr.scheme, LIMIT_FIELD[kind])
    granted = fr.extensions.filter(deadline=kind, state=ExtensionState.GRANTED)
    if exclude_pk:
        granted = granted.exclude(pk=exclude_pk)
    if kind == Extension.Deadline.WORKS_START and months is not None and granted.exists():
        raise DomainError(
            f"Le délai de commencement des travaux ne peut être prorogé qu'une fois "
            f"({fr.scheme.code}) : il l'a déjà été.",
            code="guard",
            errors={"deadline": ["Déjà prorogé."]},
        )
    if months is None:
        return None
    first = granted.order_by("due_on").values_list("due_on", flat=True).first()
    return period_end(min(first, due_on) if first else due_on, months=months)


def extension_check(fr: FundingRequest, kind: str, due_on: dt.date, until: dt.date, **kw):
    """``until`` moves the deadline due on ``due_on`` within the scheme's limit."""
    if until <= due_on:
        raise DomainError(
            f"La nouvelle échéance ({until:%d/%m/%Y}) doit être postérieure à l'échéance "
            f"actuelle ({due_on:%d/%m/%Y}).",
            errors={"until": ["Pas après l'échéance actuelle."]},
        )
    limit = extension_max_until(fr, kind, due_on, **kw)
    if limit is not None and until > limit:
        months = getattr(fr.scheme, LIMIT_FIELD[kind])
        what = "le commencement" if kind == Extension.Deadline.WORKS_START else "l'achèvement"
        raise DomainError(
            f"Prorogation trop longue : {fr.scheme.code} permet de repousser {what} des "
            f"travaux de {months} mois au plus, soit jusqu'au {limit:%d/%m/%Y} "
            f"(demandé : {until:%d/%m/%Y}).",
            errors={"until": [f"Au plus le {limit:%d/%m/%Y}."]},
        )


def lapse_decision_label(fr: FundingRequest, deadline: Deadline) -> str:
    """What the missed works deadline calls for, in the words of a task or an alert:
    « Constater la caducité ou accorder une prorogation — DETR, échéance du … »."""
    what = Extension.Deadline(deadline.kind).label.lower()
    return (
        f"Constater la caducité ou accorder une prorogation — {fr.scheme.code}, échéance du "
        f"{deadline.due_on:%d/%m/%Y} ({what})"
    )
