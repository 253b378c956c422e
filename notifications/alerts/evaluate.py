"""The pass: one idempotent evaluation of every kind of alert."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from cases.models import Organisation
from cases.payments import DelayBook, project_claim
from cases.treasury import treasury_forecasts
from cases.treasury_ranking import chunks_by_cases, live_case_counts

from .book import AlertBook
from .common import CHUNK, local_today
from .feader_blocked import feader_blocked
from .installment_ceiling import installment_ceiling
from .late_forecast import late_forecast
from .payment_overdue import payment_overdue
from .programme_at_risk import programmes_at_risk
from .programme_end import programme_end
from .receivables import (
    Receivables,
    add_grant,
    claim_receivable,
    grant_figures,
    live_requests,
    unpaid_claims,
)
from .treasury_risk import treasury_risk
from .works_deadline_missed import works_deadlines_missed

#: funding request → (an advance, an installment) still possible on it
Room = dict[int, tuple[bool, bool]]


def alerts_evaluate(*, today: dt.date | None = None) -> int:
    """One idempotent pass over payment delays and treasury risk: the live grants, then the
    unpaid claims, then the organisations that wait for money; then the works deadlines
    missed and awaiting their funder's decision; then the LEADER action sheets whose money
    is at risk of being lost.

    Returns the number of alerts opened, updated or resolved (0 when nothing changed)."""
    today = local_today(today)
    delays = DelayBook(today)
    book = AlertBook()
    by_org: dict[int, Receivables] = defaultdict(Receivables)
    room = _grants(book, by_org, delays)
    _claims(book, by_org, room, today, delays)
    _treasuries(book, by_org, today)
    for finding in works_deadlines_missed(today):
        book.record(finding)
    for finding in programmes_at_risk(today):
        book.record(finding)
    book.resolve_the_rest()
    return book.changed


def _grants(book: AlertBook, by_org: dict[int, Receivables], delays: DelayBook) -> Room:
    """Each live grant: its balance due and room go to its organisation's receivables; an
    installment ceiling reached is an alert."""
    room: Room = {}
    for fr in live_requests().iterator(chunk_size=CHUNK):
        figures = grant_figures(fr)
        add_grant(by_org[fr.case.organisation_id], fr, figures, delays)
        room[fr.pk] = (
            not fr.has_balance and figures.room.advance > 0,
            not fr.has_balance and figures.room.installments > 0,
        )
        finding = installment_ceiling(fr, figures)
        if finding:
            book.record(finding)
    return room


def _claims(
    book: AlertBook,
    by_org: dict[int, Receivables],
    room: Room,
    today: dt.date,
    delays: DelayBook,
) -> None:
    """Each unpaid claim: projected, added to its organisation's receivables, and checked
    for a payment overdue, a FEADER share blocked, a payment forecast too late."""
    for claim in unpaid_claims().iterator(chunk_size=CHUNK):
        fr = claim.funding_request
        organisation = fr.case.organisation
        item = claim_receivable(claim, project_claim(claim, today, delays(fr.scheme)))
        by_org[organisation.pk].claims.append(item)
        claim_room = room.get(fr.pk, (False, False))
        for finding in (
            payment_overdue(item, claim, today, claim_room),
            feader_blocked(item, claim, today),
            late_forecast(item, claim, organisation, claim_room),
            programme_end(item, claim),
        ):
            if finding:
                book.record(finding)


def _treasuries(book: AlertBook, by_org: dict[int, Receivables], today: dt.date) -> None:
    """Each organisation with a live operation or money to wait for, by chunks: its
    treasury forecast (``cases.treasury``), and the risk its p80 trough shows."""
    counts = live_case_counts()
    ids = sorted(set(counts) | {pk for pk, rec in by_org.items() if rec.total > 0})
    for pks in chunks_by_cases(ids, counts):
        chunk = list(Organisation.objects.filter(pk__in=pks).select_related("commune"))
        forecasts = treasury_forecasts(chunk, today=today)
        for organisation in chunk:
            forecast = forecasts[organisation.pk]
            finding = treasury_risk(organisation, by_org[organisation.pk], forecast)
            if finding:
                book.record(finding)
