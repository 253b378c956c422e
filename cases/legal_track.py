"""Each funder's legal track (domain.md, revised rules 1-4; ADR 009): the rules shared by
the guards, the pages and the random walks' invariants. Pure reads, no writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from engine.calendar import period_end
from engine.deadlines import deadlines_of
from engine.models import Deadline

from .models import REQUEST_GRANTED, REQUEST_UNDECIDED, Case, FundingRequest, RequestState

#: Requests still running for the porteur: undecided, or granted and not yet paid.
LIVE_REQUEST_STATES = (*REQUEST_UNDECIDED, RequestState.GRANTED, RequestState.COMMITTED)


def live_requests(case: Case) -> list[FundingRequest]:
    return list(
        case.funding_requests.filter(state__in=LIVE_REQUEST_STATES)
        .select_related("scheme")
        .order_by("id")
    )


def ineligible_requests(case: Case, start: dt.date) -> list[FundingRequest]:
    """The live requests a start of works on ``start`` makes ineligible: those whose
    eligibility start is after it, and those not yet received by their funder (their
    receipt will come after the start; CGCT R2334-24)."""
    return [
        fr
        for fr in live_requests(case)
        if fr.eligibility_start is None or fr.eligibility_start > start
    ]


def ineligibility_label(fr: FundingRequest) -> str:
    """How a page or a 400 names a request at risk: its scheme and why."""
    if fr.eligibility_start is None:
        return f"{fr.scheme.code} (réception par le financeur non encore enregistrée)"
    return f"{fr.scheme.code} (dépenses éligibles à partir du {fr.eligibility_start:%d/%m/%Y})"


def ineligibility_reason(fr: FundingRequest, start: dt.date) -> str:
    """The reason recorded on a request withdrawn because works started too early."""
    if fr.eligibility_start is None:
        before = "avant la réception de la demande par le financeur"
    else:
        before = f"avant le début d'éligibilité du {fr.eligibility_start:%d/%m/%Y}"
    return f"inéligible : travaux commencés le {start:%d/%m/%Y} {before}"


def no_aid_left(states: Iterable[str]) -> bool:
    """Every request ended without aid (refused, rejected, withdrawn): nothing undecided,
    nothing granted, nothing lapsed (a lapse is the funder's own follow-up)."""
    states = list(states)
    return bool(states) and not any(
        s in REQUEST_UNDECIDED or s in REQUEST_GRANTED or s == RequestState.LAPSED for s in states
    )


def eligibility_start_for(fr: FundingRequest, received_on: dt.date) -> dt.date:
    """The eligibility start the scheme's rule gives once the funder has received the
    request: its receipt by default, the desk's filing where the scheme says so."""
    if fr.scheme.eligibility_from == "filing" and fr.sent_on:
        return fr.sent_on
    return received_on


def states_agree(case_state: str, request_states: Iterable[str]) -> str:
    """Why a dossier's state disagrees with its requests' (empty when they agree): for the
    random walks' invariant and the consistency checks."""
    states = list(request_states)
    decided = [s for s in states if s not in REQUEST_UNDECIDED and s != RequestState.WITHDRAWN]
    if case_state in ("idea", "scoping", "draft") and states:
        return "des demandes existent avant le dépôt"
    if case_state == "submitted" and decided:
        return "une demande est décidée avant la complétude du dossier"
    if case_state == "decided" and any(s in REQUEST_UNDECIDED for s in states):
        return "dossier décidé avec une demande en cours"
    if case_state == "rejected" and any(s in REQUEST_GRANTED for s in states):
        return "dossier refusé avec une aide accordée"
    return ""


# ---------------------------------------------------------------- a request's dates


@dataclass(frozen=True)
class RequestTrack:
    """The dates of one request on its own funder's track (revised rules 1-3), as the
    acknowledgements and the pages state them: each date is the stored one, else its open
    deadline, else computed with the legal calendar from its scheme's periods
    (``*_computed``), else ``None`` with what it runs from (the scheme's parameters)."""

    request: FundingRequest
    sent_on: dt.date | None
    received_on: dt.date | None
    eligibility_start: dt.date | None
    completeness_months: int | None
    deemed_complete: bool
    complete_on: dt.date | None
    complete_by: dt.date | None
    complete_computed: bool
    implicit_months: int | None
    implicit_from_receipt: bool
    implicit: dt.date | None
    implicit_computed: bool

    @property
    def scheme(self):
        return self.request.scheme

    @property
    def acknowledged(self) -> bool:
        return acknowledgement_available(self.request)


def acknowledgement_available(fr: FundingRequest) -> bool:
    """A request's CRPA acknowledgement (R112-5) exists once its funder's receipt is known,
    at once (from the desk's receipt) for a scheme the desk instructs."""
    return fr.received_on is not None or (fr.scheme.desk_instructs and fr.sent_on is not None)


def request_track(fr: FundingRequest) -> RequestTrack:
    """``fr``'s receipt, eligibility start, completeness and implicit-decision dates, and
    what each runs from (one query: the request's own deadlines)."""
    s = fr.scheme
    latest: dict[str, Deadline] = {}
    for d in deadlines_of(fr).exclude(state=Deadline.State.CANCELLED).order_by("-id"):
        latest.setdefault(d.kind, d)
    received = fr.received_on
    if received is None and s.desk_instructs:
        received = fr.sent_on  # the desk's receipt is the funder's
    complete_by, complete_computed = fr.complete_on, False
    if complete_by is None and "completeness" in latest:
        complete_by = latest["completeness"].due_on
    elif complete_by is None and received is not None and s.completeness_months:
        complete_by, complete_computed = period_end(received, months=s.completeness_months), True
    from_receipt = s.implicit_decision_from == s.ImplicitFrom.RECEIPT
    implicit, implicit_computed = fr.implicit_decision_on, False
    if implicit is None and "implicit_decision" in latest:
        implicit = latest["implicit_decision"].due_on
    elif implicit is None and s.implicit_decision_months:
        start = received if from_receipt else fr.complete_on
        if start is None and not from_receipt and s.deemed_complete:
            start = complete_by  # réputée complète at the end of its completeness period
        if start is not None:
            implicit = period_end(start, months=s.implicit_decision_months)
            implicit_computed = True
    return RequestTrack(
        request=fr,
        sent_on=fr.sent_on,
        received_on=received,
        eligibility_start=fr.eligibility_start,
        completeness_months=s.completeness_months,
        deemed_complete=s.deemed_complete,
        complete_on=fr.complete_on,
        complete_by=complete_by,
        complete_computed=complete_computed,
        implicit_months=s.implicit_decision_months,
        implicit_from_receipt=from_receipt,
        implicit=implicit,
        implicit_computed=implicit_computed,
    )
