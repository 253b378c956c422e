"""Each funder's legal track (domain.md, revised rules 1-4; ADR 009): the rules shared by
the guards, the pages and the random walks' invariants. Pure reads, no writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

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
