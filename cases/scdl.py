"""The SCDL « délibérations » file (schema scdl/deliberations 2.1.5, committed with its
source in ``cases/data/scdl/``): one row per decision of the programming committee (a
closed session of a committee scheme), as the State and OpenDataFrance publish local
deliberations. The deliberating body is the scheme's funder as the admin names it
(``Funder.name`` and ``Funder.siret``, the same attribuant as the « subventions » file);
the subject, in the ACTES nomenclature, is 7.5 « Finances locales / Subventions »."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from schemes.models import Territory

from .models import CommitteeDecision, CommitteeSession, SessionKind, SessionState

SCHEMAS = Path(__file__).resolve().parent / "data" / "scdl"
SUBVENTIONS_SCHEMA = SCHEMAS / "subventions-2.1.1.schema.json"
DELIBERATIONS_SCHEMA = SCHEMAS / "deliberations-2.1.5.schema.json"

DELIBERATION_COLUMNS = [
    "COLL_NOM",
    "COLL_SIRET",
    "DELIB_ID",
    "DELIB_DATE",
    "DELIB_MATIERE_CODE",
    "DELIB_MATIERE_NOM",
    "DELIB_OBJET",
    "BUDGET_ANNEE",
    "BUDGET_NOM",
    "PREF_ID",
    "PREF_DATE",
    "VOTE_EFFECTIF",
    "VOTE_REEL",
    "VOTE_POUR",
    "VOTE_CONTRE",
    "VOTE_ABSTENTION",
    "DELIB_URL",
]
ACTES_CODE, ACTES_NAME = "7.5", "Finances locales/Subventions"


def committee_decisions(*, territory: Territory, scheme_code: str | None = None):
    """The decisions of the territory's closed committee sessions, oldest first, streamed
    (one query: session, scheme, funder, dossier and organisation joined)."""
    qs = CommitteeDecision.objects.filter(
        session__territory_id=territory.pk,
        session__state=SessionState.CLOSED,
        session__scheme__committee=True,
    )
    if scheme_code:
        qs = qs.filter(session__scheme__code=scheme_code)
    qs = qs.select_related(
        "session__scheme__funder", "funding_request__case__organisation"
    ).order_by("session__date", "session_id", "id")
    yield from qs.iterator(chunk_size=500)


def _decided_on(session: CommitteeSession):
    """A meeting decides on its day; a written consultation when its replies close."""
    if session.kind == SessionKind.WRITTEN and session.closes_on:
        return session.closes_on
    return session.date


def _subject(decision: CommitteeDecision) -> str:
    fr = decision.funding_request
    case, scheme = fr.case, decision.session.scheme
    outcome = decision.get_outcome_display().lower()  # the model's label: « sélectionné »
    amount = fr.amount_granted if decision.outcome == "selected" else None
    amount = amount if amount is not None else fr.amount_requested
    label = "aide" if decision.outcome == "selected" else "aide demandée"
    text = (
        f"{scheme.name} : projet « {case.title} » porté par {case.organisation.name}, "
        f"{outcome} ({label} : {amount:.2f} €)"  # a plain decimal, as the SCDL writes amounts
    )
    if decision.outcome == "adjourned" and decision.reason:
        text += f" ; motif : {decision.reason}"
    if not decision.valid:
        text += " ; décision sans quorum, à reprendre"
    return text[:1000]


def _votes(decision: CommitteeDecision) -> list:
    """Headcount, voters, for, against, abstentions: all of them or none (the schema asks
    for cohesive columns); the headcount is the committee's size frozen at closing."""
    real = decision.votes_for + decision.votes_against + decision.votes_abstain
    size = decision.session.committee_size
    if size is None or size < real:
        return ["", "", "", "", ""]
    return [size, real, decision.votes_for, decision.votes_against, decision.votes_abstain]


def deliberation_row(decision: CommitteeDecision, minutes_url: Callable[[int], str]) -> list:
    session = decision.session
    funder = session.scheme.funder
    case = decision.funding_request.case
    ident = case.reference or f"D{decision.funding_request_id}"
    return [
        funder.name,
        funder.siret,  # blank when the admin has not typed it: nothing invented
        f"CP{session.pk}-{ident}",
        _decided_on(session).isoformat(),
        ACTES_CODE,
        ACTES_NAME,
        _subject(decision),
        "",
        "",
        "",
        "",
        *_votes(decision),
        minutes_url(session.pk),
    ]


def deliberation_rows(
    *, territory: Territory, minutes_url: Callable[[int], str], scheme_code: str | None = None
) -> Iterator[list]:
    for decision in committee_decisions(territory=territory, scheme_code=scheme_code):
        yield deliberation_row(decision, minutes_url)
