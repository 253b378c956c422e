"""Where each funding request of a dossier stands and who acts on it, as the pages say it
(issue 12, points 2 and 3). Pure reads, shared by the agent's and the porteur's pages:

- the funder that must act on a request's deadline (its completeness, its decision) —
  never « the referent agent » when the funder decides (revised rule 1, ADR 009);
- the dossier's status line per funder (« DETR : en instruction ; Région Occitanie :
  demandée »), so that a dossier « En instruction » does not hide a request not yet
  instructed;
- a request waiting for its funder's decision, with the date of the implicit decision;
- the porteur's banner, following the dossier's actual stage (a grant already notified,
  the balances already filed);
- whether a request still takes a payment claim (the balance is the last one:
  ``cases.payments.balance_claim``, the rule the filing guard applies).
"""

from __future__ import annotations

from .models import (
    REQUEST_GRANTED,
    REQUEST_UNDECIDED,
    Case,
    CaseState,
    FundingRequest,
    RequestState,
)
from .payments import balance_claim

#: Deadlines of a request its funder acts on, unless the desk instructs the scheme
#: (LEADER: the GAL instructs; the referent agent acts).
FUNDER_ACTS = ("completeness", "implicit_decision")

#: Requests that may receive a payment claim (``claim_create`` refuses the others).
CLAIMABLE = (RequestState.COMMITTED, RequestState.PAYING)

# The definite article of a funder's name, by its first word: « La Région Occitanie »,
# « de la Région Occitanie ». A name without a known first word is said « le financeur X ».
_ARTICLES = {
    "État": ("L'", "de l'"),
    "Etat": ("L'", "de l'"),
    "Union": ("L'", "de l'"),
    "Europe": ("L'", "de l'"),
    "Région": ("La ", "de la "),
    "Préfecture": ("La ", "de la "),
    "Département": ("Le ", "du "),
    "Conseil": ("Le ", "du "),
    "GAL": ("Le ", "du "),
}


def _articles(name: str) -> tuple[str, str]:
    first = name.split(" ", 1)[0]
    return _ARTICLES.get(first, ("Le financeur ", "du financeur "))


def funder_subject(funder) -> str:
    """The funder as the subject of a sentence: « La Région Occitanie »."""
    return _articles(funder.name)[0] + funder.name


def of_funder(funder) -> str:
    """« de la Région Occitanie », « du Département du Tarn », « de l'État (…) »."""
    return _articles(funder.name)[1] + funder.name


def request_name(fr: FundingRequest) -> str:
    """A request as people name it: the acronym of a scheme known by it (DETR, DSIL,
    LEADER), else its name up to its dash (« Région Occitanie »)."""
    code = fr.scheme.code
    if code.isalpha() and code.isupper():
        return code
    return fr.scheme.name.split(" — ", 1)[0]


def acting_funder(kind: str, fr: FundingRequest | None):
    """The funder that must act on a deadline of ``kind`` on request ``fr``, or ``None``
    when the party recorded on the deadline acts (the porteur, or the desk's agent)."""
    if fr is None or kind not in FUNDER_ACTS or fr.scheme.desk_instructs:
        return None
    return fr.scheme.funder


def deadline_request(deadline, requests: dict) -> FundingRequest | None:
    """The request a deadline is on (``requests``: the dossier's, by id), if any."""
    if deadline.subject_type.model != "fundingrequest":
        return None
    return requests.get(deadline.subject_id)


def status_line(requests) -> str:
    """Where each request stands, per funder: « DETR : en instruction ; Région Occitanie :
    demandée » (empty without requests)."""
    return " ; ".join(
        f"{request_name(fr)} : {fr.get_state_display().lower()}"
        for fr in sorted(requests, key=lambda r: r.pk)
    )


def awaiting_decision(fr: FundingRequest) -> str:
    """« En attente de la décision de l'État (…) avant le 12/05/2027 » for a request its
    funder instructs and has not decided yet (empty otherwise)."""
    if fr.state != RequestState.INSTRUCTING or fr.scheme.desk_instructs:
        return ""
    text = f"En attente de la décision {of_funder(fr.scheme.funder)}"
    if fr.implicit_decision_on:
        return (
            f"{text} avant le {fr.implicit_decision_on:%d/%m/%Y} (décision implicite à cette date)"
        )
    return text


def accepts_claims(fr: FundingRequest) -> bool:
    """A payment claim may still be filed on ``fr``: its aid is committed and its balance —
    the last claim — is not filed yet."""
    return fr.state in CLAIMABLE and balance_claim(fr) is None


def _names(requests) -> str:
    return ", ".join(request_name(fr) for fr in requests)


def porteur_banner(case: Case, requests, default: str) -> str:
    """The porteur's « Où en est votre dossier ? », following the actual stage: in
    instruction with a grant already notified, decided with a request still instructed,
    works completed with the balances filed. ``default``: the text of the dossier's
    state."""
    granted = [fr for fr in requests if fr.state in REQUEST_GRANTED]
    pending = [fr for fr in requests if fr.state in REQUEST_UNDECIDED]
    if case.state in (CaseState.INSTRUCTION, CaseState.DECIDED) and granted and pending:
        return (
            f"Aide accordée : {_names(granted)}. Encore en instruction : {_names(pending)} — "
            "chacun de ces financeurs vous notifiera sa décision."
        )
    if case.state == CaseState.COMPLETED:
        committed = [fr for fr in requests if fr.state in CLAIMABLE]
        open_ = [fr for fr in committed if accepts_claims(fr)]
        if committed and not open_:
            return (
                "Les travaux sont achevés et les demandes de solde sont déposées : chaque "
                "financeur contrôle le service fait, puis verse le solde."
            )
        if open_ and len(open_) < len(committed):
            return (
                f"Les travaux sont achevés : déposez la demande de solde de {_names(open_)} "
                "avant la date limite (les autres soldes sont déposés)."
            )
    return default
